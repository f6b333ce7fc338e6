"""Value types of the spend domain: what the services compute and the builders render.

Money is exact `Decimal` dollars (fractions of a cent included) from the Admin API to the builders, which
round it to cents once, when shown. Nothing here formats text or decides a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from bot.spend.driver_model import Drivers

ORG_SCOPE = "org"
CLAUDE_CODE_PRODUCT = "claude_code"  # the analytics `product` of Claude Code's spend

# --------------------------------------------------------------------------------------------------
# Usage: whose, which days, how much
# --------------------------------------------------------------------------------------------------


class ScopeKind(StrEnum):
    """Whose usage."""

    ME = "me"
    ORG = "org"
    WORKSPACE = "workspace"
    USER = "user"


class Period(StrEnum):
    """Which days."""

    TODAY = "today"
    D7 = "7d"
    D30 = "30d"
    MTD = "mtd"


@dataclass(frozen=True)
class UsageQuery:
    """A parsed `/claude-key usage` command."""

    scope: ScopeKind = ScopeKind.ME
    period: Period = Period.MTD
    workspace: str | None = None
    slack_user_id: str | None = None


@dataclass(frozen=True)
class Who:
    """A scope resolved to filters. A person is their keys plus usage attributed to them as an actor."""

    kind: ScopeKind
    workspace_id: str | None = None
    workspace_name: str | None = None
    slack_user_id: str | None = None  # the `@user` of a USER scope
    api_key_ids: tuple[str, ...] = ()
    actor_id: str | None = None
    budget_scope: str | None = None  # "org" or "workspace:<id>" when a budget may cover it

    @property
    def cache_key(self) -> tuple[Any, ...]:
        """What identifies this scope's reports in the cache."""
        return (self.kind.value, self.workspace_id, self.api_key_ids, self.actor_id)


ORG = Who(ScopeKind.ORG, budget_scope=ORG_SCOPE)


def workspace_who(workspace_id: str, name: str) -> Who:
    """A workspace scope."""
    return Who(
        ScopeKind.WORKSPACE, workspace_id=workspace_id, workspace_name=name, budget_scope=f"workspace:{workspace_id}"
    )


@dataclass(frozen=True)
class Tokens:
    """Token counts: input (uncached), output, cache (reads and writes)."""

    input: int = 0
    output: int = 0
    cache: int = 0

    @property
    def total(self) -> int:
        """All tokens."""
        return self.input + self.output + self.cache

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(self.input + other.input, self.output + other.output, self.cache + other.cache)


@dataclass(frozen=True)
class SpendSummary:
    """Cost (exact Decimal dollars) and tokens, by model and by local day."""

    start: datetime
    end: datetime
    total: Decimal
    by_model: dict[str, Decimal]
    daily: dict[date, dict[str, Decimal]]
    tokens: dict[str, Tokens] = field(default_factory=dict)
    data_as_of: datetime | None = None
    # Cost by analytics product ("claude_code", "messages_api", "other"…) with `spend_summary(products=True)`.
    by_product: dict[str, Decimal] = field(default_factory=dict)

    @property
    def claude_code(self) -> Decimal | None:
        """Cost through Claude Code, when the report split cost by product and any of it was Claude Code's."""
        amount = self.by_product.get(CLAUDE_CODE_PRODUCT)
        return amount if amount else None

    @property
    def total_tokens(self) -> Tokens:
        """Tokens of every model together."""
        return sum(self.tokens.values(), Tokens())


# --------------------------------------------------------------------------------------------------
# Budgets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetView:
    """A budget as the alerts and answers see it."""

    scope_key: str
    amount: Decimal
    thresholds: tuple[int, ...]
    revision: int
    workspace_id: str | None = None
    workspace_name: str | None = None
    from_settings: bool = False
    updated_by_slack_id: str | None = None
    mirrored_limit_id: str | None = None

    @property
    def who(self) -> Who:
        """The usage scope this budget covers."""
        if self.workspace_id is None:
            return ORG
        return workspace_who(self.workspace_id, self.workspace_name or self.workspace_id)


@dataclass(frozen=True)
class BudgetPosition:
    """Where a budget stands this period; `forecast` is None until `forecast_min_days` of data exist."""

    budget: BudgetView
    spent: Decimal
    forecast: Decimal | None
    forecast_min_days: int
    period_start: datetime
    period_end: datetime
    data_as_of: datetime | None

    @property
    def amount(self) -> Decimal:
        """The budget's amount."""
        return self.budget.amount


@dataclass(frozen=True)
class BudgetCommand:
    """A parsed `/claude-key budget …`."""

    action: str  # "show" | "set" | "thresholds"
    amount: Decimal | None = None
    workspace: str | None = None
    thresholds: tuple[int, ...] = ()


@dataclass(frozen=True)
class BudgetList:
    """`/claude-key budget show`: every budget with its position (None when spend is unavailable)."""

    budgets: list[tuple[BudgetView, BudgetPosition | None]]
    thresholds: tuple[int, ...]
    alert_channel: str | None
    tz: tzinfo


@dataclass(frozen=True)
class BudgetSaved:
    """`/claude-key budget set`: the saved budget, where it stands, and whether a real spend limit may be offered."""

    budget: BudgetView
    position: BudgetPosition | None
    offer_mirror: bool  # False when the org surely can't set spend limits through the API
    console_url: str
    tz: tzinfo


@dataclass(frozen=True)
class ThresholdsSaved:
    """`/claude-key budget thresholds`: the new marks (percent), for every budget."""

    thresholds: tuple[int, ...]


@dataclass(frozen=True)
class MirrorOutcome:
    """The Mirror button: the limit Anthropic now enforces, or why it refused (`refusal`)."""

    budget: BudgetView
    limit_id: str | None
    refusal: str | None
    console_url: str


class MirrorPayload(BaseModel):
    """The Mirror button's value: which budget (amounts are re-read from the database on click)."""

    scope_key: str


class ViewUsagePayload(BaseModel):
    """A budget alert's View usage: the workspace's id (None: the org); its name is looked up on click."""

    w: str | None = None


class AlertKind(StrEnum):
    """The four budget notices."""

    THRESHOLD = "threshold"
    FORECAST = "forecast"
    SPIKE = "spike"
    NEW_PERIOD = "new-period"


@dataclass(frozen=True)
class Contacts:
    """Who to talk to about a budget (one of the three, chosen by the alert job); none: the org's admins."""

    set_by_slack_id: str | None = None
    admin_slack_ids: tuple[str, ...] = ()
    admin_channel_id: str | None = None


@dataclass(frozen=True)
class Spike:
    """A day's spend against the mean of the days before it."""

    day: date
    spend: Decimal
    mean: Decimal
    factor: int
    trailing_days: int


@dataclass(frozen=True)
class BudgetAlert:
    """One budget notice: what happened (`kind` and its detail), the position, and who to talk to."""

    kind: AlertKind
    position: BudgetPosition
    contacts: Contacts
    tz: tzinfo
    threshold: int | None = None
    spike: Spike | None = None
    drivers: Drivers | None = None  # None: the breakdown failed (the alert goes out regardless)


# --------------------------------------------------------------------------------------------------
# The usage answer and its chart
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageReport:
    """The answer to `/claude-key usage …`; `chart_days` (first and last local day) when a chart should follow."""

    slack_user_id: str
    who: Who
    period: Period
    summary: SpendSummary
    position: BudgetPosition | None
    chart_days: tuple[date, date] | None
    tz: tzinfo
    burn: BurnChart | None = None


@dataclass(frozen=True)
class BurnChart:
    """A budget's burn this period (AWS Budgets' look): spend per local day so far, the budget and the forecast."""

    first_day: date
    last_day: date  # the period's last day (inclusive)
    daily: dict[date, Decimal]
    budget: Decimal
    forecast: Decimal | None


@dataclass(frozen=True)
class ChartRequest:
    """A chart to draw and upload to a DM after the text answer went out."""

    slack_user_id: str
    title: str
    comment: str
    filename: str
    daily: dict[date, dict[str, Decimal]]
    start: date
    end: date
    burn: BurnChart | None = None  # a budget scope: the burn chart beside the bars


# --------------------------------------------------------------------------------------------------
# The weekly digest
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRef:
    """An API key as the digest names it (`key_id` None: spend without a key, from the Console or Claude Code)."""

    key_id: str | None
    name: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Digest:
    """Last week's spend: by workspace, by model, the top keys, the week before, and keys due for rotation."""

    week_start: datetime
    week_end: datetime
    total: Decimal
    previous: Decimal
    by_workspace: dict[str, Decimal]
    by_model: dict[str, Decimal]
    top_keys: list[tuple[KeyRef, Decimal]]
    rotation_due: list[tuple[KeyRef, int]]  # (key, age in days)
    data_as_of: datetime | None
    tz: tzinfo


# --------------------------------------------------------------------------------------------------
# Spend-limit increase requests
# --------------------------------------------------------------------------------------------------


class SpendRequestPayload(BaseModel):
    """Approve/Deny button value: the request, and the amount to start the modal with."""

    request_id: str
    suggested: str
    currency: str = "USD"  # of `suggested` and of the amount the modal asks for


class SpendModalPayload(BaseModel):
    """The Approve modal's private_metadata: the request and where the clicker saw it."""

    request_id: str
    channel_id: str | None = None


@dataclass(frozen=True)
class SpendRequestCard:
    """The admin-channel message of one increase request; `decidable` while Approve and Deny still apply."""

    request_id: str
    state: str
    period: str
    requester_slack_id: str | None
    requester_name: str | None
    requester_email: str | None
    requester_user_id: str | None
    current_limit: Decimal | None
    spend: Decimal | None
    suggestion: Decimal
    decidable: bool
    last_error: str | None
    approved_amount: Decimal | None
    decided_by_slack_id: str | None
    decided_at: datetime | None
    resolved_as: str | None  # the Console's verdict when it was decided outside the bot
    tz: tzinfo
    currency: str = "USD"  # of every amount on the card: the org's billing currency


@dataclass(frozen=True)
class SpendDecision:
    """What an Approve or Deny did: `verb` "approve" or "deny"; `error` when Anthropic refused."""

    verb: str
    decider_slack_id: str | None  # None: a decision recorded later whose decider the bot never stored
    period: str
    amount: Decimal | None = None
    error: str | None = None
    currency: str = "USD"
