"""Action and callback ids, defined once (builders and `app.action(...)` both use these)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Block action ids."""

    APPROVE_REQUEST = "request_approve"
    DENY_REQUEST = "request_deny"
    RETRY_REQUEST = "request_retry"
    CANCEL_REQUEST = "request_cancel"


class Callback(StrEnum):
    """Modal callback ids."""

    REQUEST_MODAL = "request_modal"
    DENY_MODAL = "deny_modal"
