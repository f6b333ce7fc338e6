"""The gateway's own vocabulary and small frozen result types, so callers never see SDK models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

OrgType = Literal["console", "enterprise"]  # a Claude Console (API) org or a Claude Enterprise org
OrgTypeSetting = Literal["auto", "console", "enterprise"]
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
# `admin` (and the Enterprise owner roles) can't be given through the API: refused locally.
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
UsageOrderBy = Literal["output_tokens", "requests", "time", "total_tokens", "uncached_input_tokens"]


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
    product: str | None = None  # with group_by product: "claude_code", "messages_api", … (None otherwise)


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
    currency: str | None = None  # of the two amounts: the org's billing currency (None without a summary)


# What each org type is called, in sentences for people.
ORG_KIND = {"console": "Claude Console", "enterprise": "Claude Enterprise"}
# -- Claude Code Analytics (`GET /v1/organizations/usage_report/claude_code`, bot/anthropic_admin/claude_code.py)

ClaudeCodeActorKind = Literal["user", "api_key"]


@dataclass(frozen=True, slots=True)
class ClaudeCodeModelUse:
    """One model's tokens and estimated cost in one actor's day (cost exact, in dollars)."""

    model: str
    cost_usd: Decimal
    currency: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int


@dataclass(frozen=True, slots=True)
class ClaudeCodeRecord:
    """One actor's Claude Code activity on one UTC day: a person (`email`) or an API key (`api_key_name`)."""

    day: date
    actor_kind: ClaudeCodeActorKind
    email: str | None  # lower-cased; for actor_kind "user"
    api_key_name: str | None  # for actor_kind "api_key"
    sessions: int
    lines_added: int
    lines_removed: int
    commits: int
    pull_requests: int
    tool_accepted: int  # edit, multi-edit, notebook-edit and write tools together
    tool_rejected: int
    models: tuple[ClaudeCodeModelUse, ...]
    customer_type: str  # "api" (pay as you go) or "subscription" (Pro/Team/Enterprise seats)
    terminal_type: str | None

    @property
    def cost_usd(self) -> Decimal:
        """The day's estimated cost over every model."""
        return sum((m.cost_usd for m in self.models), Decimal(0))


@dataclass(frozen=True, slots=True)
class ClaudeCodeDay:
    """Every actor's record for one UTC day (all pages; the report carries no "data as of" of its own)."""

    day: date
    records: tuple[ClaudeCodeRecord, ...]


# -- rate limits (bot/anthropic_admin/rate_limits.py) --------------------------------------------------------------

RateLimitGroupType = Literal["batch", "files", "model_group", "skills", "token_count", "web_search"]


@dataclass(frozen=True, slots=True)
class RateLimitValue:
    type: str  # the limiter: requests_per_minute, input_tokens_per_minute_cache_aware, output_tokens_per_minute, …
    value: int  # what applies at this level: the org's value, or for a workspace its override or the inherited one
    org_limit: int | None = None  # workspace entries: the org's value of the same limiter (None: the org has none)
    override: bool = False  # workspace entries: a workspace-level override is stored


@dataclass(frozen=True, slots=True)
class RateLimitGroup:
    rate_limit_id: str  # the org entry's id (a workspace entry's `rate_limit_id`)
    group_id: str  # the same in every org
    group_type: RateLimitGroupType
    name: str  # the model group's display name, else the group type
    models: tuple[str, ...]  # model names and aliases it covers (empty unless a model group)
    limits: tuple[RateLimitValue, ...]
    workspace_id: str | None = None  # None: the organization's entry
