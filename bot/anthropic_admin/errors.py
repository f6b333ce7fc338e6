"""The `AdminAPIError` family, and the sentence for each Admin API error code.

Each error carries one plain sentence for Slack (`user_message`) plus what an operator needs in the logs
(status, error code, request id). The mapping from an SDK failure to these is `sdk_errors` (this module
doesn't import the SDK: a process that never calls the Admin API, the acking one, never loads it).
"""

from __future__ import annotations

import email.utils
import math
import re
import sys
import time
from typing import Any, ClassVar

from bot.core.errors import BotError


class AdminAPIError(BotError):
    """An Admin API call failed; `user_message` is safe to show in Slack."""

    default_message: ClassVar[str] = "The Anthropic Admin API call failed."
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        api_message: str | None = None,
    ) -> None:
        super().__init__(user_message or self.default_message)
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
        self.retryable: bool = self.default_retryable if retryable is None else retryable
        self.api_message = api_message  # Anthropic's own wording; may change, never branch on it

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.user_message!r}, status={self.status!r}, "
            f"error_code={self.error_code!r}, request_id={self.request_id!r})"
        )


class BadRequest(AdminAPIError):
    default_message = "Anthropic rejected the request."


class AlreadyMember(BadRequest):
    default_message = "That person is already a member of the Anthropic organization."


class InviteAlreadyPending(BadRequest):
    default_message = "An invitation for that email address is already pending; ask them to check their inbox."


class EmailDomainNotAllowed(BadRequest):
    default_message = "That email domain isn't allowed in the Anthropic organization; use a company address."


class SeatLimitReached(BadRequest):
    default_message = (
        "The Anthropic organization has no free seats (pending invites count too); an admin must free one first."
    )


class KeyLimitReached(BadRequest):
    default_message = "The API key limit has been reached; archive unused keys first."


class WorkspaceFull(BadRequest):
    default_message = "That workspace is full; ask an admin to make room."


class RoleNotAssignable(BadRequest):
    default_message = "That role can't be given through the API; an org admin must do it in the Claude Console."


class InvalidAmount(BadRequest):
    default_message = "Amounts must be zero or more, in whole cents (for example 250 or 99.99)."


class NotFound(AdminAPIError):
    default_message = "That was not found in the Anthropic organization; it may have been removed already."


class PermissionDenied(AdminAPIError):
    default_message = "The bot's Admin API key isn't allowed to do that."


class PaymentRequired(AdminAPIError):
    default_message = "Anthropic says the organization's billing needs attention; an org admin must check the Console."


class AdminKeyInvalid(AdminAPIError):
    default_message = "The bot's Admin API key is invalid or revoked — an operator must replace ANTHROPIC_ADMIN_KEY."


class RateLimited(AdminAPIError):
    default_message = "Anthropic's Admin API is rate-limiting the bot; try again in about a minute."
    default_retryable = True

    def __init__(self, user_message: str | None = None, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said
        super().__init__(user_message or _rate_limited_sentence(retry_after), **kwargs)


class Unavailable(AdminAPIError):
    default_message = "The Anthropic Admin API is having trouble right now; please try again in a few minutes."
    default_retryable = True


class FeatureUnavailable(AdminAPIError):
    default_message = "That feature isn't enabled for this Anthropic organization."


class ListingIncomplete(AdminAPIError):
    """A paged listing was stopped: a repeated cursor, too many pages or its overall deadline."""

    default_message = "The Anthropic Admin API listing didn't finish; try again later."
    default_retryable = True


class Conflict(AdminAPIError):
    default_message = "Someone else changed this at the same moment; try again in a minute."
    default_retryable = True


def _rate_limited_sentence(retry_after: float | None) -> str:
    if retry_after is None or retry_after < 90:
        when = "about a minute"
    elif retry_after < 90 * 60:
        when = f"about {math.ceil(retry_after / 60)} minutes"
    else:
        when = f"about {math.ceil(retry_after / 3600)} hours"
    return f"Anthropic's Admin API is rate-limiting the bot; try again in {when}."


_ErrorRule = tuple[type[AdminAPIError], str | None]  # None: the class's default sentence

# The stable `error.details.error_code` wins; the wording of `api_message` may change and is never used.
_BY_ERROR_CODE: dict[str, _ErrorRule] = {
    "already_member": (AlreadyMember, None),
    "invite_already_exists": (InviteAlreadyPending, None),
    "email_domain_not_allowed": (EmailDomainNotAllowed, None),
    "cannot_invite_emails_with_unverified_domains": (
        EmailDomainNotAllowed,
        "That email domain hasn't been verified for the Anthropic organization; use a company address.",
    ),
    "org_member_limit_exceeded": (SeatLimitReached, None),
    "org_api_key_limit_exceeded": (
        KeyLimitReached,
        "The organization has reached its API key limit; archive unused keys first.",
    ),
    "workspace_api_key_limit_exceeded": (
        KeyLimitReached,
        "That workspace has reached its API key limit; archive unused keys first.",
    ),
    "workspace_member_limit_exceeded": (WorkspaceFull, None),
    "cannot_remove_last_member": (BadRequest, "The only member of the Anthropic organization can't be removed."),
    "spend_limits_admin_api_writes_not_enabled": (
        FeatureUnavailable,
        "Managing spend limits through the API isn't enabled for this organization (early access); "
        "set limits in the Claude Console instead.",
    ),
    "organization_type_not_supported": (
        FeatureUnavailable,
        "That feature isn't available for this type of Anthropic organization (Console vs Enterprise).",
    ),
    "organization_not_enrolled_in_beta": (
        FeatureUnavailable,
        "That beta feature isn't enabled for this Anthropic organization.",
    ),
    "api_key_scope_missing": (PermissionDenied, "The bot's Admin API key lacks the scope needed for that."),
    "organization_level_scoped_api_key_required": (
        PermissionDenied,
        "That needs an organization-level Admin API key; an operator must replace ANTHROPIC_ADMIN_KEY.",
    ),
    "concurrent_membership_change": (
        Conflict,
        "Someone else changed this membership at the same moment; try again in a minute.",
    ),
}

_KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_-]+")


def operator_reason(error: AdminAPIError) -> str:
    """Why a call failed, for the operator at a terminal (doctor, a dry run): the cause, not Slack's sentence."""
    cause = error.__cause__
    sdk: Any = sys.modules.get("anthropic")  # an SDK failure means the SDK is loaded; otherwise there is none
    if sdk is not None and isinstance(cause, sdk.APITimeoutError):
        return "no answer in time"
    if sdk is not None and isinstance(cause, sdk.APIConnectionError):
        root = cause.__cause__
        while root is not None and root.__cause__ is not None:
            root = root.__cause__
        detail = str(root).strip().splitlines()[0] if root is not None and str(root).strip() else ""
        return f"cannot connect ({detail or type(root or cause).__name__})"
    if isinstance(error, AdminKeyInvalid):
        return f"HTTP {error.status}: the key is invalid or revoked"
    if error.status is not None:
        code = f" {error.error_code}" if error.error_code else ""
        said = f": {error.api_message.rstrip('.')}" if error.api_message else ""
        return f"HTTP {error.status}{code}{said}"
    return error.user_message.rstrip(".")


def _scrub(text: str, secret: str) -> str:
    if secret:
        text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)[:300]


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date; None if absent."""
    try:
        return float(headers.get("retry-after-ms")) / 1000
    except (TypeError, ValueError):
        pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - time.time())
