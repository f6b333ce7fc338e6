"""The one mapping from an SDK failure to the `AdminAPIError` family, and which failures are worth a resend."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from bot.anthropic_admin.errors import (
    _BY_ERROR_CODE,
    AdminAPIError,
    AdminKeyInvalid,
    BadRequest,
    Conflict,
    FeatureUnavailable,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    Unavailable,
    _ErrorRule,
    _scrub,
)

# Fallback by the SDK's exception class (itself chosen from the HTTP status); first match wins.
_BY_SDK_CLASS: tuple[tuple[type[anthropic.APIStatusError], _ErrorRule], ...] = (
    (anthropic.AuthenticationError, (AdminKeyInvalid, None)),
    (anthropic.PaymentRequiredError, (PaymentRequired, None)),
    (anthropic.PermissionDeniedError, (PermissionDenied, None)),
    (anthropic.NotFoundError, (NotFound, None)),
    (anthropic.RequestTimeoutError, (Unavailable, None)),
    (anthropic.ConflictError, (Conflict, None)),
    (anthropic.RateLimitError, (RateLimited, None)),
    (anthropic.InternalServerError, (Unavailable, None)),  # every 5xx, 529 included
)

_TRANSIENT_STATUSES = frozenset({408, 409, 429})
# A resend would do harm: this error means the workspace was created, only partly, and its details say
# "Don't send the create again".
_NEVER_RESEND_CODES = frozenset({"workspace_created_incomplete"})
SDK_FAILURES = (
    anthropic.APIStatusError,
    anthropic.APIConnectionError,  # APITimeoutError included
    anthropic.APIResponseValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


def to_domain_error(
    exc: BaseException, *, secret: str = "", feature_404: bool = False, retry_after: float | None = None
) -> AdminAPIError:
    """Translate one SDK failure into the domain error with its Slack sentence (the one mapping)."""
    if isinstance(exc, anthropic.APITimeoutError):
        return Unavailable("The Anthropic Admin API didn't answer in time; please try again in a few minutes.")
    if isinstance(exc, anthropic.APIConnectionError):
        return Unavailable("The bot couldn't reach the Anthropic Admin API; please try again in a few minutes.")
    if not isinstance(exc, anthropic.APIStatusError):  # malformed or unexpected response body
        return Unavailable(
            "The Anthropic Admin API sent an answer the bot couldn't read; please try again in a few minutes.",
            status=getattr(exc, "status_code", None),
            retryable=False,
        )
    api_message = _scrub(exc.api_message, secret) if exc.api_message else None
    context: dict[str, Any] = {
        "status": exc.status_code,
        "error_code": exc.error_code,
        "request_id": exc.request_id,
        "api_message": api_message,
    }
    rule = _BY_ERROR_CODE.get(exc.error_code or "")
    if rule is None:
        rule = next((r for sdk_cls, r in _BY_SDK_CLASS if isinstance(exc, sdk_cls)), None)
    if rule is None:
        rule = (Unavailable, None) if exc.status_code >= 500 else (BadRequest, None)
    domain_cls, sentence = rule
    if domain_cls is NotFound and feature_404 and exc.error_code is None:
        # A beta endpoint the org hasn't been switched on for answers 404 "as if this API did not exist".
        domain_cls, sentence = FeatureUnavailable, None
    if domain_cls is RateLimited:
        return RateLimited(retry_after=retry_after, **context)
    if domain_cls is BadRequest and sentence is None and api_message:
        sentence = f"Anthropic rejected the request: {api_message.rstrip('.')}."
    return domain_cls(sentence, **context)


def is_transient(exc: BaseException) -> bool:
    """Whether asking again may help: connection failures, 408/409/429 and 5xx, unless the server says otherwise."""
    if isinstance(exc, anthropic.APIConnectionError):
        return True
    if not isinstance(exc, anthropic.APIStatusError):
        return False  # a malformed body is not fixed by asking again
    if exc.error_code in _NEVER_RESEND_CODES:
        return False
    verdict = exc.response.headers.get("x-should-retry")  # the server's explicit word wins, as in the SDK
    if verdict in ("true", "false"):
        return verdict == "true"
    return exc.status_code in _TRANSIENT_STATUSES or exc.status_code >= 500


def failure_kind(exc: BaseException) -> str:
    """The outcome reported to the `on_call` hook for a failure without an HTTP status."""
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection_error"
    return "malformed_response"
