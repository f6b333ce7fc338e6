"""Action and callback ids, defined once (builders and `app.action(...)` both use these)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Block action ids."""

    APPROVE_REQUEST = "request_approve"
    DENY_REQUEST = "request_deny"
    RETRY_REQUEST = "request_retry"
    CANCEL_REQUEST = "request_cancel"
    # Key hygiene
    KEYS_PREV = "keys_page_prev"
    KEYS_NEXT = "keys_page_next"
    ROLE_CONFIRM = "team_role_confirm"
    ROLE_CANCEL = "team_role_cancel"
    OFFBOARD_CONFIRM = "team_offboard_confirm"
    OFFBOARD_CANCEL = "team_offboard_cancel"
    REVOKE_CONFIRM = "key_revoke_confirm"
    REVOKE_CANCEL = "key_revoke_cancel"
    STALE_DEACTIVATE = "key_stale_deactivate"
    ROTATION_DEACTIVATE_OLD = "key_rotation_deactivate_old"
    # Spend
    BUDGET_MIRROR = "budget_mirror"
    SPEND_REQUEST_APPROVE = "spend_request_approve"
    SPEND_REQUEST_DENY = "spend_request_deny"
    # Spend alerts that explain themselves
    SPIKE_PLANNED = "spend_spike_planned"


class Callback(StrEnum):
    """Modal callback ids."""

    REQUEST_MODAL = "request_modal"
    DENY_MODAL = "deny_modal"
    SPEND_APPROVE_MODAL = "spend_approve_modal"  # spend
