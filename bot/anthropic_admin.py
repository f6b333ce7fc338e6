"""The one module that talks to Anthropic's Admin API (`client.beta.organization` of the `anthropic` SDK).

Everything else in the bot sees only the frozen dataclasses and the `AdminAPIError` family defined
here, so no other module imports `anthropic`. Facts about the API are in
`reference/anthropic-admin-api.md`; section numbers below (§) point there.

Retries live here, not in the SDK: the SDK honours `retry-after` with no cap (§1.4), which could park
a worker for hours, so the client is built with `max_retries=0` and `AdminGateway._call` makes every
HTTP attempt itself, with a bounded wait.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal, Protocol, TypeVar, cast

import anthropic
from anthropic import Omit, omit
from anthropic.types.beta import BetaOrganization
from anthropic.types.beta.organization import (
    BetaAnalyticsActor,
    BetaAnalyticsReportUserActor,
    BetaAPIKey,
    BetaAPIKeyWorkspaceScope,
    BetaOrganizationInvite,
    BetaOrganizationUser,
    BetaSpendLimit,
    BetaSpendLimitUserActor,
    BetaSpendLimitUserScope,
    BetaSpendLimitWorkspaceScope,
    BetaWorkspace,
    BetaWorkspaceMember,
)
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem, BetaAnalyticsUsageItem
from anthropic.types.beta.organization.spend_limits import (
    BetaSpendLimitIncreaseRequest,
    IncreaseRequestApproveResponse,
)
from pydantic import SecretStr

from bot.core.errors import BotError

__all__ = [
    "ASSIGNABLE_ORG_ROLES",
    "AdminAPIError",
    "AdminGateway",
    "AdminKeyInvalid",
    "AlreadyMember",
    "ApiKey",
    "ApiKeyStatus",
    "AssignableOrgRole",
    "BadRequest",
    "BucketWidth",
    "Conflict",
    "CostGroupBy",
    "CostReport",
    "CostRow",
    "EmailDomainNotAllowed",
    "FeatureUnavailable",
    "IncreaseRequest",
    "IncreaseRequestStatus",
    "InvalidAmount",
    "Invite",
    "InviteAlreadyPending",
    "InviteFilterStatus",
    "InviteStatus",
    "KeyLimitReached",
    "NoBillingWorkspaceRole",
    "NotFound",
    "OrgRole",
    "OrgUser",
    "Organization",
    "PaymentRequired",
    "PermissionDenied",
    "RateLimited",
    "RoleNotAssignable",
    "SeatLimitReached",
    "SettableApiKeyStatus",
    "SettableSpendScopeType",
    "SpendLimit",
    "SpendPeriod",
    "SpendScopeType",
    "Unavailable",
    "UsageGroupBy",
    "UsageReport",
    "UsageRow",
    "Workspace",
    "WorkspaceFull",
    "WorkspaceMember",
    "WorkspaceRole",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.anthropic.com"
PAGE_SIZE = 1000  # the API's maximum for ID-cursor lists and analytics (§1.5, §2.12)

# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------

OrgRole = Literal[
    "admin",
    "billing",
    "claude_code_user",
    "developer",
    "managed",
    "membership_admin",
    "owner",
    "primary_owner",
    "user",
]
AssignableOrgRole = Literal["billing", "claude_code_user", "developer", "managed", "user"]
# `admin` (and the Enterprise owner roles) can't be given through the API (§2.2): refused locally.
ASSIGNABLE_ORG_ROLES: frozenset[str] = frozenset(("billing", "claude_code_user", "developer", "managed", "user"))
WorkspaceRole = Literal[
    "workspace_admin",
    "workspace_billing",
    "workspace_developer",
    "workspace_restricted_developer",
    "workspace_user",
]
NoBillingWorkspaceRole = Literal[
    "workspace_admin", "workspace_developer", "workspace_restricted_developer", "workspace_user"
]
InviteStatus = Literal["accepted", "deleted", "expired", "pending"]
InviteFilterStatus = Literal["accepted", "expired", "pending"]
ApiKeyStatus = Literal["active", "archived", "expired", "inactive"]
SettableApiKeyStatus = Literal["active", "archived", "inactive"]
SpendPeriod = Literal["daily", "weekly", "monthly"]
SpendScopeType = Literal[
    "organization",
    "organization_service",
    "rbac_group",
    "seat_tier",
    "usage_tier",
    "user",
    "workspace",
]
SettableSpendScopeType = Literal["organization", "workspace", "user"]
IncreaseRequestStatus = Literal["approved", "denied", "pending"]
BucketWidth = Literal["1d", "1h", "1m"]
UsageGroupBy = Literal[
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
]
CostGroupBy = UsageGroupBy | Literal["cost_type", "token_type"]

# --------------------------------------------------------------------------------------------------
# Results: the gateway's own small types, so callers never see SDK models
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class OrgUser:
    id: str
    email: str
    name: str
    role: OrgRole
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    email: str
    role: OrgRole
    status: InviteStatus
    invited_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    name: str
    archived_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    workspace_id: str
    user_id: str
    workspace_role: WorkspaceRole


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    status: ApiKeyStatus
    workspace_id: str | None  # None for organization-scoped (principal-bound) keys
    created_at: datetime
    expires_at: datetime | None  # None: never expires
    created_by_user_id: str | None  # None for legacy, federated, system or service-account keys
    partial_key_hint: str | None


@dataclass(frozen=True, slots=True)
class CostRow:
    starting_at: datetime
    ending_at: datetime
    amount_usd: Decimal
    list_amount_usd: Decimal
    currency: str
    model: str | None
    workspace_id: str | None
    api_key_id: str | None
    actor_user_id: str | None
    token_type: str | None
    cost_type: str | None


@dataclass(frozen=True, slots=True)
class CostReport:
    rows: tuple[CostRow, ...]
    data_refreshed_at: datetime | None  # "data as of": usage data can lag hours behind


@dataclass(frozen=True, slots=True)
class UsageRow:
    starting_at: datetime
    ending_at: datetime
    uncached_input_tokens: int
    cache_read_input_tokens: int
    cache_creation_tokens: int
    output_tokens: int
    total_tokens: int
    requests: int | None
    model: str | None
    workspace_id: str | None
    api_key_id: str | None
    actor_user_id: str | None


@dataclass(frozen=True, slots=True)
class UsageReport:
    rows: tuple[UsageRow, ...]
    data_refreshed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SpendLimit:
    id: str
    scope_type: SpendScopeType
    workspace_id: str | None
    user_id: str | None
    amount_usd: Decimal | None  # None: explicitly no numeric cap
    currency: str
    period: SpendPeriod
    is_enabled: bool


@dataclass(frozen=True, slots=True)
class IncreaseRequest:
    id: str
    status: IncreaseRequestStatus
    period: SpendPeriod
    created_at: datetime
    requester_user_id: str | None  # None when a scoped API key, not a person, asked
    requester_email: str | None
    requester_name: str | None
    current_limit_usd: Decimal | None
    period_to_date_spend_usd: Decimal | None
    resolved_at: datetime | None = None


# --------------------------------------------------------------------------------------------------
# Domain errors: one plain sentence for Slack, plus what an operator needs in the logs
# --------------------------------------------------------------------------------------------------


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

# §3: the stable `error.details.error_code` wins; wording of `api_message` may change and is never used.
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
# A resend would do harm: the docstring says "Don't send the create again" (§3).
_NEVER_RESEND_CODES = frozenset({"workspace_created_incomplete"})
_KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_-]+")
_SDK_FAILURES = (
    anthropic.APIStatusError,
    anthropic.APIConnectionError,  # APITimeoutError included
    anthropic.APIResponseValidationError,
    json.JSONDecodeError,
    UnicodeDecodeError,
)


def _to_domain_error(
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


def _scrub(text: str, secret: str) -> str:
    if secret:
        text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)[:300]


def _retry_after_seconds(headers: Any) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` as seconds or an HTTP date (§1.4); None if absent."""
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


def _is_transient(exc: BaseException) -> bool:
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


# --------------------------------------------------------------------------------------------------
# Conversions: SDK model -> gateway type
# --------------------------------------------------------------------------------------------------


def _minor_units_to_usd(value: str) -> Decimal:
    """A decimal string in (fractional) cents -> dollars, exactly: "1234.567" -> Decimal("12.34567")."""
    try:
        cents = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise Unavailable(
            "The Anthropic Admin API sent an amount the bot couldn't read; please try again later.",
            retryable=False,
        ) from exc
    if not cents.is_finite():
        raise Unavailable(
            "The Anthropic Admin API sent an amount the bot couldn't read; please try again later.",
            retryable=False,
        )
    return cents / 100


def _usd_to_minor_units(amount_usd: Decimal) -> str:
    """Dollars -> an integer string of cents ("500.00" -> "50000"); fractions of a cent are refused."""
    if not isinstance(amount_usd, Decimal):
        raise TypeError("amount_usd must be a Decimal, not a float, so that cents stay exact")
    if not amount_usd.is_finite() or amount_usd < 0:
        raise InvalidAmount()
    cents = amount_usd.scaleb(2)
    if cents != cents.to_integral_value():
        raise InvalidAmount("Spend amounts must be whole cents; fractions of a cent can't be set.")
    return str(int(cents))


def _require_aware(**values: datetime | None) -> None:
    for name, value in values.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be a timezone-aware datetime (the API needs RFC 3339 with an offset)")


def _organization(o: BetaOrganization) -> Organization:
    return Organization(id=o.id, name=o.name)


def _user(u: BetaOrganizationUser) -> OrgUser:
    return OrgUser(id=u.id, email=u.email, name=u.name, role=u.role, added_at=u.added_at)


def _invite(i: BetaOrganizationInvite) -> Invite:
    return Invite(
        id=i.id,
        email=i.email,
        role=i.role,
        status=i.status,
        invited_at=i.invited_at,
        expires_at=i.expires_at,
        accepted_at=i.accepted_at,
    )


def _workspace(w: BetaWorkspace) -> Workspace:
    return Workspace(id=w.id, name=w.name, archived_at=w.archived_at, created_at=w.created_at)


def _member(m: BetaWorkspaceMember) -> WorkspaceMember:
    return WorkspaceMember(workspace_id=m.workspace_id, user_id=m.user_id, workspace_role=m.workspace_role)


def _api_key(k: BetaAPIKey) -> ApiKey:
    # Naming mismatch in the API: `created_by.type` is "user" while `principal.type` is "user_actor" (§2.6).
    created_by = k.created_by.id if k.created_by is not None and k.created_by.type == "user" else None
    workspace_id = k.scope.workspace_id if isinstance(k.scope, BetaAPIKeyWorkspaceScope) else None
    return ApiKey(
        id=k.id,
        name=k.name,
        status=k.status,
        workspace_id=workspace_id,
        created_at=k.created_at,
        expires_at=k.expires_at,
        created_by_user_id=created_by,
        partial_key_hint=k.partial_key_hint,
    )


def _actor_user_id(actor: BetaAnalyticsActor | None) -> str | None:
    return actor.user_id if isinstance(actor, BetaAnalyticsReportUserActor) else None


def _cost_row(item: BetaAnalyticsCostItem) -> CostRow:
    g = item.group
    return CostRow(
        starting_at=item.starting_at,
        ending_at=item.ending_at,
        amount_usd=_minor_units_to_usd(item.cost.amount),
        list_amount_usd=_minor_units_to_usd(item.cost.list_amount),
        currency=item.cost.currency,
        model=g.model,
        workspace_id=g.workspace_id,
        api_key_id=g.api_key_id,
        actor_user_id=_actor_user_id(g.actor),
        token_type=g.token_type,
        cost_type=g.cost_type,
    )


def _usage_row(item: BetaAnalyticsUsageItem) -> UsageRow:
    g, u = item.group, item.usage
    return UsageRow(
        starting_at=item.starting_at,
        ending_at=item.ending_at,
        uncached_input_tokens=u.uncached_input_tokens,
        cache_read_input_tokens=u.cache_read_input_tokens,
        cache_creation_tokens=u.cache_creation.ephemeral_1h_input_tokens + u.cache_creation.ephemeral_5m_input_tokens,
        output_tokens=u.output_tokens,
        total_tokens=u.total_tokens,
        requests=u.requests,
        model=g.model,
        workspace_id=g.workspace_id,
        api_key_id=g.api_key_id,
        actor_user_id=_actor_user_id(g.actor),
    )


def _spend_limit(s: BetaSpendLimit) -> SpendLimit:
    return SpendLimit(
        id=s.id,
        scope_type=s.scope.type,
        workspace_id=s.scope.workspace_id if isinstance(s.scope, BetaSpendLimitWorkspaceScope) else None,
        user_id=s.scope.user_id if isinstance(s.scope, BetaSpendLimitUserScope) else None,
        amount_usd=_minor_units_to_usd(s.amount) if s.amount is not None else None,
        currency=s.currency,
        period=s.period,
        is_enabled=s.is_enabled,
    )


def _increase_request(r: BetaSpendLimitIncreaseRequest | IncreaseRequestApproveResponse) -> IncreaseRequest:
    person = r.actor if isinstance(r.actor, BetaSpendLimitUserActor) else None
    summary = r.spend_summary
    return IncreaseRequest(
        id=r.id,
        status=r.status,
        period=r.period,
        created_at=r.created_at,
        requester_user_id=person.user_id if person else None,
        requester_email=person.email_address if person else None,
        requester_name=person.name if person else None,
        current_limit_usd=_minor_units_to_usd(summary.amount) if summary and summary.amount is not None else None,
        period_to_date_spend_usd=_minor_units_to_usd(summary.period_to_date_spend) if summary else None,
        resolved_at=r.resolved_at,
    )


# --------------------------------------------------------------------------------------------------
# The gateway
# --------------------------------------------------------------------------------------------------

_T = TypeVar("_T")
_P = TypeVar("_P", bound="_Page")


class _Page(Protocol):
    def has_next_page(self) -> bool: ...

    def get_next_page(self: _P) -> _P: ...


def _done(_: object) -> bool:
    return True


class AdminGateway:
    """Anthropic Admin API with bounded retries, explicit paging and domain errors."""

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_retry_wait: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        strict_validation: bool = False,
        on_call: Callable[[str, int | str], None] | None = None,
    ) -> None:
        """Build the SDK client with the admin key passed explicitly, so no credential env var is read."""
        if max_retries < 0 or max_retry_wait < 0 or timeout <= 0:
            raise ValueError("timeout must be positive; max_retries and max_retry_wait must not be negative")
        self._api_key = api_key
        # An explicit base_url too: with None the SDK would read ANTHROPIC_BASE_URL itself, and Settings
        # is the only place that reads the environment.
        self._base_url = base_url or DEFAULT_BASE_URL
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._on_call = on_call
        self._client = anthropic.Anthropic(
            api_key=api_key.get_secret_value(),
            base_url=self._base_url,
            max_retries=0,  # retries are ours, bounded (module docstring)
            # `anthropic.Timeout` is the SDK's own httpx2.Timeout, the type its client accepts.
            timeout=anthropic.Timeout(timeout, connect=min(5.0, timeout)),
            _strict_response_validation=strict_validation,
        )
        self._org = self._client.beta.organization

    def __repr__(self) -> str:
        return (
            f"AdminGateway(base_url={self._base_url!r}, api_key=SecretStr('**********'), "
            f"timeout={self._timeout!r}, max_retries={self._max_retries!r})"
        )

    def close(self) -> None:
        """Close the underlying HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> AdminGateway:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the one place an HTTP attempt happens -----------------------------------------------------

    def _observe(self, endpoint: str, outcome: int | str) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(endpoint, outcome)
        except Exception:  # a broken metrics hook must not break admin work
            log.exception("on_call hook failed for %s", endpoint)

    def _call(
        self,
        endpoint: str,
        fn: Callable[[], _T],
        *,
        resend: bool = True,
        feature_404: bool = False,
        recover: Callable[[AdminAPIError], _T | None] | None = None,
    ) -> _T:
        """Run one SDK call with bounded retries; every HTTP attempt happens here and is reported to `on_call`.

        `resend=False` is for calls the docs say must never be sent twice (e.g. `workspaces.create`, which
        this gateway doesn't offer). `recover` is consulted only when the final error came after a retry,
        when it may mean that a lost earlier attempt already did the work.
        """
        attempt = 0
        while True:
            try:
                result = fn()
            except AdminAPIError:
                # Raised by a conversion inside `fn` (e.g. an unreadable amount) after the HTTP answer came.
                self._observe(endpoint, "malformed_response")
                raise
            except _SDK_FAILURES as exc:
                status = exc.status_code if isinstance(exc, anthropic.APIStatusError) else None
                headers = exc.response.headers if isinstance(exc, anthropic.APIStatusError) else {}
                self._observe(endpoint, status if status is not None else _failure_kind(exc))
                retry_after = _retry_after_seconds(headers)
                if resend and _is_transient(exc):
                    if retry_after is not None and retry_after > self._max_retry_wait:
                        # Don't park a worker for as long as the server asks; tell the user when to come back.
                        raise RateLimited(
                            retry_after=retry_after,
                            status=status,
                            error_code=getattr(exc, "error_code", None),
                            request_id=getattr(exc, "request_id", None),
                        ) from exc
                    if attempt < self._max_retries:
                        wait = retry_after if retry_after is not None and retry_after > 0 else self._backoff(attempt)
                        log.warning(
                            "Admin API %s failed (%s, request_id=%s); retry %d/%d in %.2fs",
                            endpoint,
                            status or _failure_kind(exc),
                            getattr(exc, "request_id", None),
                            attempt + 1,
                            self._max_retries,
                            wait,
                        )
                        self._sleep(wait)
                        attempt += 1
                        continue
                error = _to_domain_error(
                    exc, secret=self._api_key.get_secret_value(), feature_404=feature_404, retry_after=retry_after
                )
                if attempt > 0 and recover is not None:
                    recovered = recover(error)
                    if recovered is not None:
                        log.info("Admin API %s: %s after a retry treated as success", endpoint, type(error).__name__)
                        return recovered
                log.info(
                    "Admin API %s failed: %s status=%s error_code=%s request_id=%s",
                    endpoint,
                    type(error).__name__,
                    error.status,
                    error.error_code,
                    error.request_id,
                )
                raise error from exc
            self._observe(endpoint, 200)  # the Admin API answers 200 on success
            return result

    def _backoff(self, attempt: int) -> float:
        return float(min(0.5 * 2**attempt, self._max_retry_wait))

    def _pages(self, endpoint: str, first: Callable[[], _P], *, feature_404: bool = False) -> Iterator[_P]:
        """Yield every page, each fetch going through `_call` (the SDK's auto-paging would bypass it)."""
        page = self._call(endpoint, first, feature_404=feature_404)
        yield page
        while page.has_next_page():
            page = self._call(endpoint, page.get_next_page, feature_404=feature_404)
            yield page

    # -- organization and users --------------------------------------------------------------------

    def get_organization(self) -> Organization:
        """The organization the admin key belongs to."""
        return _organization(self._call("organization.retrieve", self._org.retrieve))

    def find_user_by_email(self, email: str) -> OrgUser | None:
        """The org member with this email (case-insensitive), or None."""
        wanted = email.strip().casefold()
        for page in self._pages("users.list", lambda: self._org.users.list(email=email.strip(), limit=PAGE_SIZE)):
            for user in page.data:
                # Require an exact match: linking a Slack user to the wrong org user would hand out rights.
                if user.email.casefold() == wanted:
                    return _user(user)
        return None

    def get_user(self, user_id: str) -> OrgUser:
        """One org member by id."""
        return _user(self._call("users.retrieve", lambda: self._org.users.retrieve(user_id)))

    def list_users(self, roles: Sequence[OrgRole] | None = None) -> list[OrgUser]:
        """All org members, optionally only those with one of `roles`."""
        first = lambda: self._org.users.list(limit=PAGE_SIZE, roles=list(roles) if roles else omit)  # noqa: E731
        return [_user(u) for page in self._pages("users.list", first) for u in page.data]

    def update_user_role(self, user_id: str, role: OrgRole) -> OrgUser:
        """Change a member's org role; `admin` and owner roles are refused locally."""
        assignable = _assignable_org_role(role)
        return _user(self._call("users.update", lambda: self._org.users.update(user_id, role=assignable)))

    def remove_user(self, user_id: str) -> None:
        """Remove a member from the org (their API keys are not touched; deactivate them separately)."""
        self._call("users.remove", lambda: _done(self._org.users.remove(user_id)), recover=_gone_after_retry)

    # -- invites -----------------------------------------------------------------------------------

    def create_invite(self, email: str, role: OrgRole = "developer") -> Invite:
        """Invite an email to the org; `admin` and owner roles are refused locally."""
        assignable = _assignable_org_role(role)
        address = email.strip()

        # invites.create has no idempotency key. If an attempt created the invite but its answer was lost
        # (timeout, reset, 5xx after commit), our retry meets our own invite as `invite_already_exists`.
        # Only then (attempt > 0) the pending invite is looked up and returned, so the call is idempotent.
        # A first-attempt `invite_already_exists` is a real duplicate and is raised.
        def pending_invite(error: AdminAPIError) -> Invite | None:
            if not isinstance(error, InviteAlreadyPending):
                return None
            return next(iter(self.list_invites(email=address, statuses=("pending",))), None)

        return self._call(
            "invites.create",
            lambda: _invite(self._org.invites.create(email=address, role=assignable)),
            recover=pending_invite,
        )

    def list_invites(
        self, email: str | None = None, statuses: Sequence[InviteFilterStatus] | None = None
    ) -> list[Invite]:
        """Invites, optionally for one email and/or with the given statuses (default: all)."""
        first = lambda: self._org.invites.list(  # noqa: E731
            limit=PAGE_SIZE,
            email=email.strip() if email is not None else omit,
            statuses=list(statuses) if statuses else omit,
        )
        invites = [_invite(i) for page in self._pages("invites.list", first) for i in page.data]
        if email is not None:
            invites = [i for i in invites if i.email.casefold() == email.strip().casefold()]
        return invites

    def delete_invite(self, invite_id: str) -> None:
        """Withdraw a pending invite."""
        self._call("invites.delete", lambda: _done(self._org.invites.delete(invite_id)), recover=_gone_after_retry)

    # -- workspaces and members --------------------------------------------------------------------

    def list_workspaces(self, include_archived: bool = False) -> list[Workspace]:
        """All workspaces, archived ones only if asked."""
        first = lambda: self._org.workspaces.list(limit=PAGE_SIZE, include_archived=include_archived)  # noqa: E731
        return [_workspace(w) for page in self._pages("workspaces.list", first) for w in page.data]

    def get_workspace(self, workspace_id: str) -> Workspace:
        """One workspace by id."""
        return _workspace(self._call("workspaces.retrieve", lambda: self._org.workspaces.retrieve(workspace_id)))

    def list_workspace_members(self, workspace_id: str) -> list[WorkspaceMember]:
        """Every member of a workspace."""
        first = lambda: self._org.workspaces.members.list(workspace_id, limit=PAGE_SIZE)  # noqa: E731
        return [_member(m) for page in self._pages("workspaces.members.list", first) for m in page.data]

    def get_workspace_member(self, workspace_id: str, user_id: str) -> WorkspaceMember | None:
        """A user's membership of a workspace, or None if they aren't a member."""
        try:
            member = self._call(
                "workspaces.members.retrieve",
                lambda: self._org.workspaces.members.retrieve(user_id, workspace_id=workspace_id),
            )
        except NotFound:
            return None
        return _member(member)

    def add_workspace_member(
        self, workspace_id: str, user_id: str, role: WorkspaceRole = "workspace_developer"
    ) -> WorkspaceMember:
        """Add an org member to a workspace (`workspace_billing` can't be given on add)."""
        if role == "workspace_billing":
            raise RoleNotAssignable(
                "The workspace billing role can't be given when adding a member; add them first, then change it."
            )
        no_billing_role = cast(NoBillingWorkspaceRole, role)

        # No idempotency key: if the first add landed but its answer was lost, the retry is refused as a
        # duplicate. The membership is then read back and returned if it is the one we asked for.
        def already_added(error: AdminAPIError) -> WorkspaceMember | None:
            if not isinstance(error, (BadRequest, Conflict)):
                return None
            member = self.get_workspace_member(workspace_id, user_id)
            return member if member is not None and member.workspace_role == role else None

        return self._call(
            "workspaces.members.add",
            lambda: _member(
                self._org.workspaces.members.add(workspace_id, user_id=user_id, workspace_role=no_billing_role)
            ),
            recover=already_added,
        )

    def update_workspace_member(self, workspace_id: str, user_id: str, role: WorkspaceRole) -> WorkspaceMember:
        """Change a member's workspace role."""
        return _member(
            self._call(
                "workspaces.members.update",
                lambda: self._org.workspaces.members.update(user_id, workspace_id=workspace_id, workspace_role=role),
            )
        )

    def remove_workspace_member(self, workspace_id: str, user_id: str) -> None:
        """Remove a user from a workspace (they stay in the org)."""
        self._call(
            "workspaces.members.remove",
            lambda: _done(self._org.workspaces.members.remove(user_id, workspace_id=workspace_id)),
            recover=_gone_after_retry,
        )

    # -- API keys (no endpoint creates one: §0.1) ------------------------------------------------

    def iter_api_keys(
        self,
        status: ApiKeyStatus | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> Iterator[ApiKey]:
        """Every matching API key, fetched a page of 1,000 at a time as you iterate."""
        first = lambda: self._org.api_keys.list(  # noqa: E731
            limit=PAGE_SIZE,
            status=status if status is not None else omit,
            workspace_id=workspace_id if workspace_id is not None else omit,
            created_by_user_id=created_by_user_id if created_by_user_id is not None else omit,
        )
        for page in self._pages("api_keys.list", first):
            for key in page.data:
                yield _api_key(key)

    def list_api_keys(
        self,
        status: ApiKeyStatus | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> list[ApiKey]:
        """Every matching API key as a list (prefer `iter_api_keys` for whole-org scans)."""
        return list(self.iter_api_keys(status=status, workspace_id=workspace_id, created_by_user_id=created_by_user_id))

    def get_api_key(self, api_key_id: str) -> ApiKey:
        """One API key by id."""
        return _api_key(self._call("api_keys.retrieve", lambda: self._org.api_keys.retrieve(api_key_id)))

    def update_api_key(
        self, api_key_id: str, *, status: SettableApiKeyStatus | None = None, name: str | None = None
    ) -> ApiKey:
        """Rename a key and/or set it active, inactive or archived (archived is treated as final)."""
        if status is None and name is None:
            raise ValueError("update_api_key needs a status or a name")
        return _api_key(
            self._call(
                "api_keys.update",
                lambda: self._org.api_keys.update(
                    api_key_id,
                    status=status if status is not None else omit,
                    name=name if name is not None else omit,
                ),
            )
        )

    # -- usage and cost (analytics, §2.12) ---------------------------------------------------------

    def cost_report(
        self,
        *,
        starting_at: datetime,
        ending_at: datetime,
        group_by: Sequence[CostGroupBy] = (),
        bucket_width: BucketWidth | None = None,
        api_key_ids: Sequence[str] | None = None,
        workspace_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        actor_ids: Sequence[str] | None = None,
    ) -> CostReport:
        """Cost in USD for [starting_at, ending_at), all pages, amounts exact to the fraction of a cent."""
        _check_range(starting_at, ending_at)
        first = lambda: self._org.analytics.cost.list(  # noqa: E731
            starting_at=starting_at,
            ending_at=ending_at,
            limit=PAGE_SIZE,
            group_by=list(group_by) if group_by else omit,
            time_bucket_width=bucket_width if bucket_width is not None else omit,
            api_key_ids=_listed(api_key_ids),
            workspace_ids=_listed(workspace_ids),
            models=_listed(models),
            actor_ids=_listed(actor_ids),
        )
        rows: list[CostRow] = []
        refreshed: list[datetime] = []
        for page in self._pages("analytics.cost.list", first, feature_404=True):
            rows.extend(_cost_row(item) for item in page.data)
            if page.data_refreshed_at is not None:
                refreshed.append(page.data_refreshed_at)
        return CostReport(rows=tuple(rows), data_refreshed_at=min(refreshed, default=None))

    def usage_report(
        self,
        *,
        starting_at: datetime,
        ending_at: datetime,
        group_by: Sequence[UsageGroupBy] = (),
        bucket_width: BucketWidth | None = None,
        api_key_ids: Sequence[str] | None = None,
        workspace_ids: Sequence[str] | None = None,
        models: Sequence[str] | None = None,
        actor_ids: Sequence[str] | None = None,
    ) -> UsageReport:
        """Token usage for [starting_at, ending_at), all pages."""
        _check_range(starting_at, ending_at)
        first = lambda: self._org.analytics.usage.list(  # noqa: E731
            starting_at=starting_at,
            ending_at=ending_at,
            limit=PAGE_SIZE,
            group_by=list(group_by) if group_by else omit,
            time_bucket_width=bucket_width if bucket_width is not None else omit,
            api_key_ids=_listed(api_key_ids),
            workspace_ids=_listed(workspace_ids),
            models=_listed(models),
            actor_ids=_listed(actor_ids),
        )
        rows: list[UsageRow] = []
        refreshed: list[datetime] = []
        for page in self._pages("analytics.usage.list", first, feature_404=True):
            rows.extend(_usage_row(item) for item in page.data)
            if page.data_refreshed_at is not None:
                refreshed.append(page.data_refreshed_at)
        return UsageReport(rows=tuple(rows), data_refreshed_at=min(refreshed, default=None))

    # -- spend limits and increase requests (§2.8, §2.9) -------------------------------------------

    def list_spend_limits(self) -> list[SpendLimit]:
        """Every spend limit (early access for Console orgs: FeatureUnavailable otherwise)."""
        # The page size is left to the server: the API documents no maximum for this cursor list.
        return [
            _spend_limit(s)
            for page in self._pages("spend_limits.list", self._org.spend_limits.list, feature_404=True)
            for s in page.data
        ]

    def set_spend_limit(
        self,
        *,
        amount_usd: Decimal,
        scope_type: SettableSpendScopeType,
        workspace_id: str | None = None,
        user_id: str | None = None,
        period: SpendPeriod = "monthly",
    ) -> SpendLimit:
        """Create or replace the limit for (scope, period); the amount must be whole cents."""
        amount = _usd_to_minor_units(amount_usd)
        scope: dict[str, str]
        if scope_type == "workspace":
            if not workspace_id:
                raise ValueError("a workspace spend limit needs workspace_id")
            scope = {"type": "workspace", "workspace_id": workspace_id}
        elif scope_type == "user":
            if not user_id:
                raise ValueError("a user spend limit needs user_id")
            scope = {"type": "user", "user_id": user_id}
        else:
            scope = {"type": "organization"}
        # An upsert keyed on (scope, period), so a resend after a lost answer is harmless.
        return _spend_limit(
            self._call(
                "spend_limits.set",
                lambda: self._org.spend_limits.set(amount=amount, scope=cast(Any, scope), period=period),
                feature_404=True,
            )
        )

    def list_increase_requests(
        self, statuses: Sequence[IncreaseRequestStatus] | None = ("pending",)
    ) -> list[IncreaseRequest]:
        """Spend-limit increase requests, newest first (default: pending only; None: all)."""
        first = lambda: self._org.spend_limits.increase_requests.list(  # noqa: E731
            status=list(statuses) if statuses else omit
        )
        return [
            _increase_request(r)
            for page in self._pages("spend_limits.increase_requests.list", first, feature_404=True)
            for r in page.data
        ]

    def approve_increase_request(
        self, request_id: str, *, amount_usd: Decimal, period: SpendPeriod | None = None, notify: bool = True
    ) -> IncreaseRequest:
        """Approve a request by writing the requester's limit at `amount_usd` (whole cents)."""
        amount = _usd_to_minor_units(amount_usd)
        increase_requests = self._org.spend_limits.increase_requests

        # Idempotency of approve is not documented: if a retried approve is refused, read the request back
        # and accept it when it is already approved (most likely by our own first attempt).
        def already_approved(error: AdminAPIError) -> IncreaseRequest | None:
            if not isinstance(error, (BadRequest, Conflict)):
                return None
            current = _increase_request(
                self._call("spend_limits.increase_requests.retrieve", lambda: increase_requests.retrieve(request_id))
            )
            return current if current.status == "approved" else None

        return self._call(
            "spend_limits.increase_requests.approve",
            lambda: _increase_request(
                increase_requests.approve(
                    request_id,
                    amount=amount,
                    period=period if period is not None else omit,
                    suppress_notification=not notify,
                )
            ),
            recover=already_approved,
        )

    def deny_increase_request(self, request_id: str, *, notify: bool = True) -> IncreaseRequest:
        """Deny a request (idempotent on an already denied one)."""
        increase_requests = self._org.spend_limits.increase_requests
        return _increase_request(
            self._call(
                "spend_limits.increase_requests.deny",
                lambda: increase_requests.deny(request_id, suppress_notification=not notify),
            )
        )


def _failure_kind(exc: BaseException) -> str:
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection_error"
    return "malformed_response"


def _gone_after_retry(error: AdminAPIError) -> bool | None:
    # A delete whose first answer was lost: the retry's 404 means the first attempt did the work.
    return True if isinstance(error, NotFound) else None


def _assignable_org_role(role: str) -> AssignableOrgRole:
    if role not in ASSIGNABLE_ORG_ROLES:
        raise RoleNotAssignable(
            f"The {role} role can't be given through the API; an org admin must do it in the Claude Console."
            if role in {"admin", "owner", "primary_owner", "membership_admin"}
            else "That isn't an organization role the bot can give."
        )
    return cast(AssignableOrgRole, role)


def _check_range(starting_at: datetime, ending_at: datetime) -> None:
    _require_aware(starting_at=starting_at, ending_at=ending_at)
    if ending_at <= starting_at:
        raise ValueError("ending_at must be after starting_at")


def _listed(values: Sequence[str] | None) -> list[str] | Omit:
    # An empty list is sent as given: for api_key_ids an empty entry means "key-less usage" (§2.12).
    return list(values) if values is not None else omit
