"""The one door to Anthropic's Admin API (`client.beta.organization` of the `anthropic` SDK).

Everything else in the bot sees only the frozen dataclasses (`types`) and the `AdminAPIError` family
(`errors`) re-exported here, so no other module of the bot imports `anthropic`; importing this package doesn't
load the SDK either (`AdminGateway` does, on first use). `AdminGateway` (`client`)
is built from the transport (`transport`: bounded retries, paging, the `on_call` hook) and one part per
resource (`organization`, `api_keys`, `analytics`, `spend`, `claude_code`, `rate_limits`); `convert` turns SDK models
into those types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.anthropic_admin.defaults import DEFAULT_BASE_URL
from bot.anthropic_admin.errors import (
    AdminAPIError,
    AdminKeyInvalid,
    AlreadyMember,
    BadRequest,
    Conflict,
    EmailDomainNotAllowed,
    FeatureUnavailable,
    InvalidAmount,
    InviteAlreadyPending,
    KeyLimitReached,
    ListingIncomplete,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    RoleNotAssignable,
    SeatLimitReached,
    Unavailable,
    WorkspaceFull,
    operator_reason,
)
from bot.anthropic_admin.types import (
    ASSIGNABLE_ORG_ROLES,
    ORG_KIND,
    ApiKey,
    ApiKeyStatus,
    AssignableOrgRole,
    BucketWidth,
    ClaudeCodeDay,
    ClaudeCodeModelUse,
    ClaudeCodeRecord,
    CostGroupBy,
    CostReport,
    CostRow,
    IncreaseRequest,
    IncreaseRequestStatus,
    Invite,
    InviteFilterStatus,
    InviteStatus,
    NoBillingWorkspaceRole,
    Organization,
    OrgRole,
    OrgType,
    OrgTypeSetting,
    OrgUser,
    RateLimitGroup,
    RateLimitGroupType,
    RateLimitValue,
    SettableApiKeyStatus,
    SettableSpendScopeType,
    SpendLimit,
    SpendPeriod,
    SpendScopeType,
    UsageGroupBy,
    UsageOrderBy,
    UsageReport,
    UsageRow,
    Workspace,
    WorkspaceMember,
    WorkspaceRole,
)

if TYPE_CHECKING:
    from bot.anthropic_admin.client import AdminGateway


def __getattr__(name: str) -> Any:
    """`AdminGateway` is imported on first use: it loads the SDK (about 75 MB), which only a process that calls
    the Admin API needs."""
    if name == "AdminGateway":
        from bot.anthropic_admin.client import AdminGateway

        return AdminGateway
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ASSIGNABLE_ORG_ROLES",
    "DEFAULT_BASE_URL",
    "ORG_KIND",
    "AdminAPIError",
    "AdminGateway",
    "AdminKeyInvalid",
    "AlreadyMember",
    "ApiKey",
    "ApiKeyStatus",
    "AssignableOrgRole",
    "BadRequest",
    "BucketWidth",
    "ClaudeCodeDay",
    "ClaudeCodeModelUse",
    "ClaudeCodeRecord",
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
    "ListingIncomplete",
    "NoBillingWorkspaceRole",
    "NotFound",
    "OrgRole",
    "OrgType",
    "OrgTypeSetting",
    "OrgUser",
    "Organization",
    "PaymentRequired",
    "PermissionDenied",
    "RateLimitGroup",
    "RateLimitGroupType",
    "RateLimitValue",
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
    "UsageOrderBy",
    "UsageReport",
    "UsageRow",
    "Workspace",
    "WorkspaceFull",
    "WorkspaceMember",
    "WorkspaceRole",
    "operator_reason",
]
