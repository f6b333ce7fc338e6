"""Usage and cost: `/claude-key usage` and the App Home line (DESIGN.md §3, §7).

Numbers come from `analytics.cost` / `analytics.usage` (reference §2.12). Money stays `Decimal` from the
gateway to the rendered text; it is rounded to cents once, when shown. Report pages are cached for a few
minutes per query (the data lags hours behind anyway), so a burst of `/claude-key usage org 30d` costs the
Admin API one round of calls. Time comes from `deps.clock()` and days and months start at 00:00 TIMEZONE.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import (
    AdminAPIError,
    BucketWidth,
    CostGroupBy,
    CostRow,
    UsageGroupBy,
    UsageRow,
)
from bot.core.cache import DEFAULT_TTL, TTLCache
from bot.core.errors import UserError
from bot.core.periods import local_midnight, month_start
from bot.deps import Deps
from bot.identity import Actor, resolve_actor
from bot.slack import usage_blocks
from bot.slack.reply import Reply
from storage.db import session_scope

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a report page is reused: long enough to absorb bursts, short next to the API's own lag.
CACHE_TTL = DEFAULT_TTL
# The analytics API refuses ranges that start before this (reference §2.12).
ANALYTICS_FLOOR = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
MAX_RANGE = timedelta(days=31)

# Admin API calls of one answer run side by side (cost and tokens, two halves of "me"). A pool of its own:
# the callers already run on deps.executor, and borrowing from it could starve it under a burst.
_FANOUT = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ckb-usage")

USAGE_LINE = "Usage: `/claude-key usage [me | org | workspace <name> | @user] [today | 7d | 30d | mtd]`"


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


PERIOD_LABELS = {
    Period.TODAY: "today",
    Period.D7: "the last 7 days",
    Period.D30: "the last 30 days",
    Period.MTD: "this month",
}


@dataclass(frozen=True)
class UsageQuery:
    """A parsed `/claude-key usage` command."""

    scope: ScopeKind = ScopeKind.ME
    period: Period = Period.MTD
    workspace: str | None = None
    slack_user_id: str | None = None


class UsageSyntaxError(ValueError):
    """The arguments don't parse; the message is the usage line, with what was wrong."""


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def parse_usage(args: Sequence[str]) -> UsageQuery:
    """Parse `usage` arguments (pure; runs before the ack)."""
    words = list(args)
    period = Period.MTD
    if words and words[-1].lower() in {p.value for p in Period}:
        period = Period(words.pop().lower())
    if not words:
        return UsageQuery(ScopeKind.ME, period)
    first = words[0].lower()
    if first in {"me", "mine"} and len(words) == 1:
        return UsageQuery(ScopeKind.ME, period)
    if first == "org" and len(words) == 1:
        return UsageQuery(ScopeKind.ORG, period)
    if first == "workspace":
        name = " ".join(words[1:]).strip()
        if not name:
            raise UsageSyntaxError(f"Name the workspace: `/claude-key usage workspace <name>`.\n{USAGE_LINE}")
        return UsageQuery(ScopeKind.WORKSPACE, period, workspace=name)
    if len(words) == 1:
        mention = _MENTION.match(words[0])
        if mention:
            return UsageQuery(ScopeKind.USER, period, slack_user_id=mention.group(1))
        if words[0].startswith("@"):
            raise UsageSyntaxError(f"Pick the person from Slack's @-menu so I get their user ID.\n{USAGE_LINE}")
    raise UsageSyntaxError(USAGE_LINE)


# --------------------------------------------------------------------------------------------------
# Time: days and months in TIMEZONE
# --------------------------------------------------------------------------------------------------


def period_key(now: datetime, tz: tzinfo) -> str:
    """The budget period as text, e.g. "2026-11" (ledger keys carry it)."""
    return now.astimezone(tz).strftime("%Y-%m")


def period_bounds(period: Period, now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, now) for a usage period; days start at local midnight."""
    today = now.astimezone(tz).date()
    if period is Period.TODAY:
        start = local_midnight(today, tz)
    elif period is Period.D7:
        start = local_midnight(today - timedelta(days=6), tz)
    elif period is Period.D30:
        start = local_midnight(today - timedelta(days=29), tz)
    else:
        start = month_start(now, tz)
    return max(start, ANALYTICS_FLOOR), now


def daily_width(start: datetime, end: datetime) -> BucketWidth:
    """1d buckets when local days are UTC days; else hourly buckets, summed into local days here."""
    aligned = start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    return "1d" if aligned else "1h"


def split_range(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Pieces of at most 31 days (the API's longest range)."""
    pieces = []
    cursor = start
    while cursor < end:
        upper = min(cursor + MAX_RANGE, end)
        pieces.append((cursor, upper))
        cursor = upper
    return pieces


# --------------------------------------------------------------------------------------------------
# The cache: per gateway (so tests with their own stand-ins never share), keyed by the query
# --------------------------------------------------------------------------------------------------


def cache_of(deps: Deps) -> TTLCache:
    """The process's report cache (one per Deps, so tests with their own stand-ins never share)."""
    return deps.cache


def clear_cache(deps: Deps) -> None:
    """Forget cached report pages (after a budget change, and in tests)."""
    cache_of(deps).clear()


def cached(deps: Deps, key: tuple[Any, ...], load: Callable[[], T], *, use_cache: bool = True) -> T:
    """`load()` through the per-gateway TTL cache."""
    if not use_cache:
        return load()
    return cache_of(deps).get_or_load(key, deps.clock(), load)


# --------------------------------------------------------------------------------------------------
# Who: what a scope means to the analytics filters
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A scope resolved to filters. A person is their keys plus usage attributed to them as an actor."""

    kind: ScopeKind
    label: str
    workspace_id: str | None = None
    api_key_ids: tuple[str, ...] = ()
    actor_id: str | None = None
    budget_scope: str | None = None  # "org" or "workspace:<id>" when a budget may cover it

    @property
    def cache_key(self) -> tuple[Any, ...]:
        return (self.kind.value, self.workspace_id, self.api_key_ids, self.actor_id)


ORG = Who(ScopeKind.ORG, "the organization", budget_scope="org")


def workspace_who(workspace_id: str, name: str) -> Who:
    """A workspace scope."""
    return Who(
        ScopeKind.WORKSPACE,
        f"workspace {usage_blocks.escape(name)}",
        workspace_id=workspace_id,
        budget_scope=f"workspace:{workspace_id}",
    )


def person_who(deps: Deps, anthropic_user_id: str, label: str, *, use_cache: bool = True) -> Who:
    """A person: the keys they created (`created_by_user_id`) and their own actor id."""
    keys = cached(
        deps,
        ("keys-of", anthropic_user_id),
        lambda: tuple(sorted(k.id for k in deps.admin.list_api_keys(created_by_user_id=anthropic_user_id))),
        use_cache=use_cache,
    )
    kind = ScopeKind.ME if label == "you" else ScopeKind.USER
    return Who(kind, label, api_key_ids=keys, actor_id=anthropic_user_id)


def _parallel(*calls: Callable[[], Any]) -> list[Any]:
    futures = [_FANOUT.submit(call) for call in calls]
    return [f.result() for f in futures]


def cost_rows(
    deps: Deps,
    who: Who,
    start: datetime,
    end: datetime,
    *,
    group_by: Sequence[CostGroupBy] = ("model",),
    width: BucketWidth | None = None,
    use_cache: bool = True,
    cache_end: bool = False,
) -> tuple[list[CostRow], datetime | None]:
    """Cost rows for a scope over [start, end), and the report's "data as of".

    The cache key leaves `end` out unless `cache_end` (the end of "up to now" moves every second; the
    cached page is at most CACHE_TTL old).
    """
    group = tuple(group_by)
    key = ("cost", who.cache_key, start, end if cache_end else None, group, width)

    def load() -> tuple[list[CostRow], datetime | None]:
        parts: list[Callable[[], Any]] = []
        for lo, hi in split_range(start, end):
            parts.extend(_cost_parts(deps, who, lo, hi, group, width))
        results = _parallel(*parts)
        rows = [row for part_rows, _ in results for row in part_rows]
        as_of = [when for _, when in results if when is not None]
        return rows, min(as_of, default=None)

    return cached(deps, key, load, use_cache=use_cache)


def _cost_parts(
    deps: Deps, who: Who, start: datetime, end: datetime, group: tuple[CostGroupBy, ...], width: BucketWidth | None
) -> list[Callable[[], tuple[list[CostRow], datetime | None]]]:
    admin = deps.admin

    def plain(**filters: Any) -> Callable[[], tuple[list[CostRow], datetime | None]]:
        def call() -> tuple[list[CostRow], datetime | None]:
            report = admin.cost_report(starting_at=start, ending_at=end, group_by=group, bucket_width=width, **filters)
            return list(report.rows), report.data_refreshed_at

        return call

    if who.kind in (ScopeKind.ORG,):
        return [plain()]
    if who.kind is ScopeKind.WORKSPACE:
        return [plain(workspace_ids=[who.workspace_id])]
    parts = []
    keys = set(who.api_key_ids)
    if keys:  # never an empty list: api_key_ids=[] would mean "usage without a key" (§2.12)
        parts.append(plain(api_key_ids=list(who.api_key_ids)))

    def as_actor() -> tuple[list[CostRow], datetime | None]:
        by = group if not keys or "api_key_id" in group else (*group, "api_key_id")
        report = admin.cost_report(
            starting_at=start, ending_at=end, group_by=by, bucket_width=width, actor_ids=[who.actor_id or ""]
        )
        # Requests made with the person's own keys are already counted above.
        return [r for r in report.rows if r.api_key_id not in keys], report.data_refreshed_at

    if who.actor_id:
        parts.append(as_actor)
    return parts


def usage_rows(
    deps: Deps, who: Who, start: datetime, end: datetime, *, use_cache: bool = True
) -> tuple[list[UsageRow], datetime | None]:
    """Token usage by model for a scope over [start, end)."""
    key = ("usage", who.cache_key, start)
    admin = deps.admin
    keys = set(who.api_key_ids)

    def one(**filters: Any) -> Callable[[], tuple[list[UsageRow], datetime | None]]:
        by: tuple[UsageGroupBy, ...] = ("model", "api_key_id") if "actor_ids" in filters and keys else ("model",)

        def call() -> tuple[list[UsageRow], datetime | None]:
            report = admin.usage_report(starting_at=start, ending_at=end, group_by=by, **filters)
            rows = list(report.rows)
            if "actor_ids" in filters:
                rows = [r for r in rows if r.api_key_id not in keys]
            return rows, report.data_refreshed_at

        return call

    def load() -> tuple[list[UsageRow], datetime | None]:
        if end <= start:  # the very first moment of a period: nothing to ask for
            return [], None
        if who.kind is ScopeKind.ORG:
            calls = [one()]
        elif who.kind is ScopeKind.WORKSPACE:
            calls = [one(workspace_ids=[who.workspace_id])]
        else:
            calls = []
            if keys:
                calls.append(one(api_key_ids=list(who.api_key_ids)))
            if who.actor_id:
                calls.append(one(actor_ids=[who.actor_id]))
        results = _parallel(*calls)
        rows = [row for part, _ in results for row in part]
        return rows, min((w for _, w in results if w is not None), default=None)

    return cached(deps, key, load, use_cache=use_cache)


# --------------------------------------------------------------------------------------------------
# Summaries (pure)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    """Token counts: input (uncached), output, cache (reads and writes)."""

    input: int = 0
    output: int = 0
    cache: int = 0

    @property
    def total(self) -> int:
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

    @property
    def total_tokens(self) -> Tokens:
        return sum(self.tokens.values(), Tokens())


UNKNOWN_MODEL = "other"


def summarize_cost(
    rows: Sequence[CostRow], tz: tzinfo, series: Callable[[CostRow], str | None] | None = None
) -> tuple[Decimal, dict[str, Decimal], dict[date, dict[str, Decimal]]]:
    """Total, by model, and by local day (keyed by `series`, default the model). Exact sums."""
    pick = series or (lambda r: r.model)
    total = Decimal(0)
    by_model: dict[str, Decimal] = {}
    daily: dict[date, dict[str, Decimal]] = {}
    for row in rows:
        total += row.amount_usd
        model = row.model or UNKNOWN_MODEL
        by_model[model] = by_model.get(model, Decimal(0)) + row.amount_usd
        day = row.starting_at.astimezone(tz).date()
        name = pick(row) or UNKNOWN_MODEL
        bucket = daily.setdefault(day, {})
        bucket[name] = bucket.get(name, Decimal(0)) + row.amount_usd
    return total, by_model, daily


def summarize_tokens(rows: Sequence[UsageRow]) -> dict[str, Tokens]:
    """Tokens by model."""
    out: dict[str, Tokens] = {}
    for row in rows:
        model = row.model or UNKNOWN_MODEL
        out[model] = out.get(model, Tokens()) + Tokens(
            row.uncached_input_tokens, row.output_tokens, row.cache_read_input_tokens + row.cache_creation_tokens
        )
    return out


def spend_summary(
    deps: Deps,
    who: Who,
    start: datetime,
    end: datetime,
    *,
    tokens: bool = True,
    daily: bool = True,
    use_cache: bool = True,
) -> SpendSummary:
    """Cost by model (and by day when `daily`) plus tokens by model, fetched side by side."""
    width = daily_width(start, end) if daily else None
    calls: list[Callable[[], Any]] = [lambda: cost_rows(deps, who, start, end, width=width, use_cache=use_cache)]
    if tokens:
        calls.append(lambda: usage_rows(deps, who, start, end, use_cache=use_cache))
    results = _parallel(*calls)
    rows, as_of = results[0]
    total, by_model, by_day = summarize_cost(rows, deps.settings.tz)
    token_map: dict[str, Tokens] = {}
    if tokens:
        usage, usage_as_of = results[1]
        token_map = summarize_tokens(usage)
        as_of = min((w for w in (as_of, usage_as_of) if w is not None), default=None)
    return SpendSummary(start, end, total, by_model, by_day, token_map, as_of)


# --------------------------------------------------------------------------------------------------
# The command and the Home line
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartRequest:
    """A chart to draw and upload after the text answer went out."""

    slack_user_id: str
    title: str
    daily: dict[date, dict[str, Decimal]]
    start: date
    end: date


@dataclass(frozen=True)
class UsageAnswer:
    """The text answer, and the chart to send after it (None for a day or less, or nothing spent)."""

    reply: Reply
    chart: ChartRequest | None = None


def _may_see_others(actor: Actor) -> bool:
    return actor.is_admin or actor.is_billing


def resolve_scope(deps: Deps, actor: Actor, query: UsageQuery, target: Actor | None = None) -> Who:
    """Turn a query into filters, refusing what the actor may not see (DESIGN.md §2).

    `target` is the resolved `@user` of a USER query. Admin API calls only: no database session is held.
    """
    if query.scope is ScopeKind.ME:
        if actor.anthropic_user_id is None:
            raise UserError(
                "You aren't a member of the Anthropic organization yet, so there is no usage of yours to show. "
                "Ask for access with `/claude-key request`."
            )
        return person_who(deps, actor.anthropic_user_id, "you")
    if not _may_see_others(actor):
        raise UserError(
            "Only admins and billing viewers can see usage beyond their own. `/claude-key usage` shows yours."
        )
    if query.scope is ScopeKind.ORG:
        return ORG
    if query.scope is ScopeKind.WORKSPACE:
        wanted = (query.workspace or "").strip()
        workspace = find_workspace(deps, wanted)
        return workspace_who(workspace.id, workspace.name)
    mention = f"<@{query.slack_user_id}>"
    if target is None or target.anthropic_user_id is None:
        raise UserError(f"{mention} isn't a member of the Anthropic organization, so they have no usage.")
    return person_who(deps, target.anthropic_user_id, mention)


def find_workspace(deps: Deps, name: str) -> Any:
    """An active workspace by name (case-insensitive) or id; UserError naming the choices otherwise."""
    workspaces = deps.workspaces()
    folded = name.casefold()
    for ws in workspaces:
        if ws.id == name or ws.name.casefold() == folded:
            return ws
    names = ", ".join(sorted(f"`{usage_blocks.escape(ws.name)}`" for ws in workspaces)[:20]) or "none"
    raise UserError(f"There is no workspace called `{usage_blocks.escape(name)}`. Workspaces: {names}.")


def usage_answer(deps: Deps, slack_user_id: str, query: UsageQuery) -> UsageAnswer:
    """Answer `/claude-key usage …` for a Slack user (runs after the ack)."""
    from bot.services import budgets  # budgets imports this module

    now = deps.clock()
    tz = deps.settings.tz
    with session_scope(deps.engine) as session:
        actor = resolve_actor(deps, slack_user_id)
        target = None
        if query.scope is ScopeKind.USER and _may_see_others(actor) and query.slack_user_id:
            target = resolve_actor(deps, query.slack_user_id)
    # Report calls happen outside any database transaction (SQLite would hold its write lock through them).
    who = resolve_scope(deps, actor, query, target)
    budget = None
    if who.budget_scope:
        with session_scope(deps.engine) as session:
            budget = budgets.budget_for_scope(session, deps.settings, who.budget_scope)
    start, end = period_bounds(query.period, now, tz)
    longer_than_a_day = start.astimezone(tz).date() < end.astimezone(tz).date()
    calls: list[Callable[[], Any]] = [lambda: spend_summary(deps, who, start, end, daily=longer_than_a_day)]
    if budget is not None and query.period is not Period.MTD:
        calls.append(lambda: budgets.period_spend(deps, who, now))
    results = _parallel(*calls)
    summary: SpendSummary = results[0]
    position = None
    if budget is not None:
        spent = summary.total if query.period is Period.MTD else results[1][0]
        position = budgets.position(budget, spent, now, tz)
    chart = None
    if longer_than_a_day and summary.total > 0:
        chart = ChartRequest(
            slack_user_id=slack_user_id,
            title=f"Spend per day: {usage_blocks.plain_label(who.label)}, {PERIOD_LABELS[query.period]}",
            daily=summary.daily,
            start=start.astimezone(tz).date(),
            end=end.astimezone(tz).date(),
        )
    text, blocks = usage_blocks.build_usage(
        label=who.label,
        period=PERIOD_LABELS[query.period],
        summary=summary,
        position=position,
        tz=tz,
        chart_coming=chart is not None,
    )
    return UsageAnswer(Reply(text, blocks), chart)


def post_chart(deps: Deps, chart: ChartRequest) -> bool:
    """Draw the chart and upload it to the user's DM (file upload v2); False if Slack refused."""
    from bot.charts import daily_spend_png  # matplotlib is imported only when a chart is drawn

    png = daily_spend_png(chart.daily, chart.start, chart.end, title=chart.title)
    try:
        opened = deps.slack.conversations_open(users=chart.slack_user_id)
        channel = str(opened["channel"]["id"])
        deps.slack.files_upload_v2(
            channel=channel,
            file=png,
            filename=f"spend-{chart.start.isoformat()}-{chart.end.isoformat()}.png",
            title=chart.title,
            alt_txt=chart.title,
            initial_comment=f"{chart.title} (stacked by model).",
        )
    except SlackApiError as exc:
        logger.warning("chart upload failed: %s", exc.response.get("error"))
        return False
    return True


def home_usage_line(deps: Deps, actor: Actor) -> str | None:
    """The actor's month-to-date cost (and tokens) as one mrkdwn line for the App Home; None if unavailable."""
    if actor.anthropic_user_id is None:
        return None
    now = deps.clock()
    tz = deps.settings.tz
    start = month_start(now, tz)
    try:
        who = person_who(deps, actor.anthropic_user_id, "you")
        summary = spend_summary(deps, who, max(start, ANALYTICS_FLOOR), now, daily=False)
    except AdminAPIError as exc:
        logger.info("home usage line unavailable: %s", type(exc).__name__)
        return None
    return usage_blocks.home_line(summary, tz)
