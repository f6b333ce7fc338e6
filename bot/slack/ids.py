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
    # leaver-sweep proposals
    LEAVER_OFFBOARD = "team_leaver_offboard"
    LEAVER_NOT_A_LEAVER = "team_leaver_not_a_leaver"
    REVOKE_CONFIRM = "key_revoke_confirm"
    REVOKE_CANCEL = "key_revoke_cancel"
    STALE_DEACTIVATE = "key_stale_deactivate"
    ROTATION_DEACTIVATE_OLD = "key_rotation_deactivate_old"
    # Members (`/claude-key members`)
    MEMBERS_PREV = "team_members_page_prev"
    MEMBERS_NEXT = "team_members_page_next"
    INVITE_WITHDRAW = "team_invite_withdraw"
    INVITE_REINVITE = "team_invite_reinvite"
    # Spend
    BUDGET_MIRROR = "budget_mirror"
    SPEND_REQUEST_APPROVE = "spend_request_approve"
    SPEND_REQUEST_DENY = "spend_request_deny"
    # Spend alerts that explain themselves
    SPIKE_PLANNED = "spend_spike_planned"
    # The App Home tab (its Approve/Deny reuse APPROVE_REQUEST/DENY_REQUEST: the card's listeners handle both)
    HOME_REQUEST_ACCESS = "home_request_access"
    HOME_REFRESH = "home_refresh"
    HOME_KEY_ROTATE = "home_key_rotate"
    HOME_KEY_REVOKE = "home_key_revoke"
    HOME_KEY_CHECK = "home_key_check"
    HOME_OPEN_CONSOLE = "home_open_console"  # a link button: Slack still sends the click, which is only acked
    # A button at every next step
    REMINDER_ROTATE = "key_reminder_rotate"
    REMINDER_SNOOZE = "key_reminder_snooze"
    KEY_MENU = "key_list_menu"
    STALE_DEACTIVATE_MINE = "key_stale_deactivate_mine"
    STALE_IN_USE = "key_stale_still_in_use"
    BUDGET_VIEW_USAGE = "budget_view_usage"
    BUDGET_CHANGE = "budget_change"


class Callback(StrEnum):
    """Modal callback ids."""

    REQUEST_MODAL = "request_modal"
    DENY_MODAL = "deny_modal"
    SPEND_APPROVE_MODAL = "spend_approve_modal"  # spend
    BUDGET_MODAL = "budget_change_modal"  # a budget alert's Change budget
