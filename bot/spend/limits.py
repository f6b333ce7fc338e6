"""`/claude-key limits [workspace <name>]`: rate limits per model group for the org or a workspace, each with the
busiest minute of the last 24 hours (the analytics usage report in `1m` buckets, the finest it has).

Who may see what: admins and billing any scope; anyone else a workspace they are a member of. Two rounds of
Admin API calls side by side, cached briefly: the org's limits and the workspace's, then per model group a few
one-page reports of its busiest minutes (`busiest_minutes`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from bot.anthropic_admin import RateLimitGroup, UsageOrderBy, UsageReport, UsageRow, Workspace
from bot.anthropic_admin.rate_limit_rules import LABELS, Limit, Peak, limits_of, minute_peaks, share
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, confirm_role, resolve_actor
from bot.spend import analytics
from bot.spend.analytics import cached, fan_out

LIMITS_LINE = "Usage: `/claude-key limits [workspace &lt;name&gt;]`"
WINDOW = timedelta(hours=24)  # the longest range the usage report takes with 1m buckets
# The report's orders that find a busiest minute, and how many minutes of each are read (busiest_minutes).
PEAK_ORDERS: tuple[UsageOrderBy, ...] = ("requests", "output_tokens", "uncached_input_tokens", "total_tokens")
TOP_MINUTES = 5


class LimitsSyntaxError(ValueError):
    """The arguments don't parse; the message is the usage line, with what was wrong."""


@dataclass(frozen=True)
class LimitLine:
    """One limiter of a model group: the org's value, a workspace override, what applies, the busiest minute."""

    type: str
    label: str
    org: int | None
    override: int | None
    enforced: int | None
    peak: Peak
    share: float | None  # of `enforced`


@dataclass(frozen=True)
class GroupLimits:
    """A model group's limiters."""

    name: str
    lines: tuple[LimitLine, ...]


@dataclass(frozen=True)
class LimitsReport:
    """The answer to `limits`: the scope, its model groups, since when peaks are counted and how fresh they are."""

    scope: str  # "the organization" or the workspace's name
    workspace_id: str | None
    groups: tuple[GroupLimits, ...]
    since: datetime
    as_of: datetime | None
    tz: tzinfo
    others: tuple[str, ...] = field(default=())  # usage in models no rate-limit group covers


@dataclass(frozen=True)
class KeyShare:
    """A key's use in the alert's busiest minute."""

    id: str
    name: str | None
    hint: str | None
    used: int


@dataclass(frozen=True)
class HeadroomAlert:
    """One alert: the scope, the model group's limiters at or over the threshold, and the keys that drove it."""

    ledger_key: str
    scope: str  # a workspace's name, or "the organization"
    workspace_id: str | None
    group: GroupLimits  # only the lines at or above the threshold
    keys: tuple[KeyShare, ...]
    percent: int
    as_of: datetime | None


def parse_limits(args: Sequence[str]) -> str | None:
    """The workspace named by `limits` arguments, or None for the org (pure; runs before the ack)."""
    words = list(args)
    if not words:
        return None
    if words[0].lower() == "workspace":
        name = " ".join(words[1:]).strip()
        if not name:
            raise LimitsSyntaxError(f"Name the workspace: `/claude-key limits workspace &lt;name&gt;`.\n{LIMITS_LINE}")
        return name
    raise LimitsSyntaxError(LIMITS_LINE)


def _may_see_any(actor: Actor) -> bool:
    return actor.is_admin or actor.is_billing


def visible_workspace(deps: Deps, actor: Actor, name: str | None) -> Workspace | None:
    """The workspace asked about (None: the org), refusing what the actor may not see."""
    if name is None:
        if not _may_see_any(actor):
            raise UserError(
                "Only admins and billing viewers see the organization's rate limits. "
                "`/claude-key limits workspace &lt;name&gt;` shows a workspace you belong to."
            )
        return None
    try:
        workspace = analytics.find_workspace(deps, name)
    except UserError:
        # The workspace list is cached for a few minutes: a workspace created since is read once more.
        fresh = sorted(deps.admin.list_workspaces(), key=lambda w: w.name.lower())
        deps.cache.put(("workspaces",), fresh, deps.clock())
        workspace = analytics.find_workspace(deps, name)
    if _may_see_any(actor):
        return workspace
    member = deps.admin.get_workspace_member(workspace.id, actor.anthropic_user_id) if actor.anthropic_user_id else None
    if member is None:
        raise UserError("You can see the rate limits of workspaces you belong to only.")
    return workspace


def org_rate_limits(deps: Deps) -> list[RateLimitGroup]:
    """The org's model-group rate limits, cached briefly (they change rarely, and take an hour to apply)."""
    return cached(deps, ("rate-limits",), deps.admin.list_rate_limits)


def workspace_rate_limits(deps: Deps, workspace_id: str) -> list[RateLimitGroup]:
    """A workspace's model-group rate limits (overrides marked), cached briefly."""
    return cached(deps, ("rate-limits", workspace_id), lambda: deps.admin.list_workspace_rate_limits(workspace_id))


def busiest_minutes(
    deps: Deps, group: RateLimitGroup, start: datetime, end: datetime, workspace_id: str | None
) -> tuple[list[UsageRow], datetime | None]:
    """The group's busiest minutes over [start, end): for each way the report can order, its top few minutes.

    Each row is one minute's total over the group's models (the `models` filter, no grouping), so the busiest
    minute for requests and output tokens is exact; for input tokens it is the busiest of those minutes (the
    report orders by uncached input and by total tokens, not by what an input limiter counts). A handful of
    one-page calls side by side instead of every minute of the day: a 1,000-row page costs the SDK about as
    much to read as a round trip.
    """
    if not group.models:
        return [], None
    key = ("busiest-minutes", group.rate_limit_id, workspace_id, start.replace(second=0, microsecond=0))

    def load() -> tuple[list[UsageRow], datetime | None]:
        def top(order: UsageOrderBy) -> UsageReport:
            return deps.admin.top_usage_buckets(
                starting_at=start,
                ending_at=end,
                bucket_width="1m",
                order_by=order,
                limit=TOP_MINUTES,
                workspace_ids=[workspace_id] if workspace_id else None,
                models=list(group.models),
            )

        reports: list[UsageReport] = fan_out(deps, *(lambda o=o: top(o) for o in PEAK_ORDERS))
        minutes = {row.starting_at: row for report in reports for row in report.rows}  # one row per minute
        as_of = [r.data_refreshed_at for r in reports if r.data_refreshed_at is not None]
        return list(minutes.values()), min(as_of, default=None)

    return cached(deps, key, load)


def group_lines(org: RateLimitGroup, workspace: RateLimitGroup | None, rows: Sequence[UsageRow]) -> GroupLimits:
    """A group's limiters with the busiest minute of `rows` (already the group's and the scope's)."""
    limits: list[Limit] = limits_of(org, workspace)
    peaks = minute_peaks(rows, [limit.type for limit in limits])
    lines = tuple(
        LimitLine(
            type=limit.type,
            label=LABELS.get(limit.type, limit.type),
            org=limit.org,
            override=limit.workspace,
            enforced=limit.enforced,
            peak=peaks.get(limit.type, Peak()),
            share=share(peaks.get(limit.type, Peak()).used, limit.enforced),
        )
        for limit in limits
    )
    return GroupLimits(org.name, lines)


def limits_report(deps: Deps, slack_user_id: str, workspace_name: str | None) -> LimitsReport:
    """Answer `/claude-key limits …` for a Slack user (runs after the ack)."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    if _may_see_any(actor):
        actor = confirm_role(deps, actor)  # any scope: a role checked just now
    workspace = visible_workspace(deps, actor, workspace_name)
    start = max(now - WINDOW, analytics.floor(now))
    ws_id = workspace.id if workspace else None
    calls: list[Callable[[], list[RateLimitGroup]]] = [lambda: org_rate_limits(deps)]
    if ws_id is not None:
        calls.append(lambda: workspace_rate_limits(deps, ws_id))
    limits = fan_out(deps, *calls)
    org_groups: list[RateLimitGroup] = limits[0]
    ws_groups = {g.rate_limit_id: g for g in limits[1]} if ws_id is not None else {}
    minutes = fan_out(deps, *(lambda g=g: busiest_minutes(deps, g, start, now, ws_id) for g in org_groups))
    groups = tuple(
        group_lines(g, ws_groups.get(g.rate_limit_id), rows) for g, (rows, _) in zip(org_groups, minutes, strict=True)
    )
    as_of = [when for _, when in minutes if when is not None]
    return LimitsReport(
        scope=workspace.name if workspace else "the organization",
        workspace_id=ws_id,
        groups=groups,
        since=start,
        as_of=min(as_of, default=None),
        tz=deps.settings.tz,
    )
