"""Cost and token reports from the Admin API (`cost_report` / `usage_report`), cached and fetched side by side.

Money stays `Decimal` from the gateway to the builders. Report pages are cached for a few minutes per query in
`deps.cache` (the data lags hours behind anyway), so a burst of `/claude-key usage org 30d` costs the Admin API
one round of calls. The calls of one answer run side by side on `deps.fanout`. Days start at 00:00 TIMEZONE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from bot.anthropic_admin import BucketWidth, CostGroupBy, CostRow, UsageGroupBy, UsageRow, Workspace
from bot.anthropic_admin.windows import analytics_floor, report_windows
from bot.core import periods
from bot.core.cache import DEFAULT_TTL
from bot.core.errors import UserError
from bot.core.parallel import parallel
from bot.deps import Deps
from bot.slack.text import escape
from bot.spend.model import ScopeKind, SpendSummary, Tokens, Who

T = TypeVar("T")

# How long a report page is reused: long enough to absorb bursts, short next to the API's own lag.
CACHE_TTL = DEFAULT_TTL
# The analytics API refuses ranges that start before `floor(now)`: 2026-01-01 or 365 days back.
floor = analytics_floor
UNKNOWN_MODEL = "other"

Part = Callable[[], tuple[list[Any], datetime | None]]


def fan_out(deps: Deps, *calls: Callable[[], Any]) -> list[Any]:
    """Run the Admin API calls of one answer side by side on `deps.fanout`; results in order."""
    return parallel(deps.fanout, *calls)


def cached(deps: Deps, key: tuple[Any, ...], load: Callable[[], T], *, use_cache: bool = True) -> T:
    """`load()` through the report cache (one per Deps, so tests with their own stand-ins never share)."""
    if not use_cache:
        return load()
    return deps.cache.get_or_load(key, deps.clock(), load)


def clear_cache(deps: Deps) -> None:
    """Forget cached report pages (after a budget change, and in tests)."""
    deps.cache.clear()


def daily_width(start: datetime, end: datetime) -> BucketWidth:
    """1d buckets when local days are UTC days; else hourly buckets, summed into local days here."""
    aligned = start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    return "1d" if aligned else "1h"


# --------------------------------------------------------------------------------------------------
# Who: what a scope means to the analytics filters
# --------------------------------------------------------------------------------------------------


def person_who(deps: Deps, anthropic_user_id: str, kind: ScopeKind, slack_user_id: str | None = None) -> Who:
    """A person (ME or USER): the keys they created (`created_by_user_id`) and their own actor id."""
    keys = cached(
        deps,
        ("keys-of", anthropic_user_id),
        lambda: tuple(sorted(k.id for k in deps.admin.list_api_keys(created_by_user_id=anthropic_user_id))),
    )
    return Who(kind, slack_user_id=slack_user_id, api_key_ids=keys, actor_id=anthropic_user_id)


def find_workspace(deps: Deps, name: str) -> Workspace:
    """An active workspace by name (case-insensitive) or id; UserError naming the choices otherwise."""
    workspaces = deps.workspaces()
    folded = name.casefold()
    for ws in workspaces:
        if ws.id == name or ws.name.casefold() == folded:
            return ws
    names = ", ".join(sorted(f"`{escape(ws.name)}`" for ws in workspaces)[:20]) or "none"
    raise UserError(f"There is no workspace called `{escape(name)}`. Workspaces: {names}.")


# --------------------------------------------------------------------------------------------------
# Report rows
# --------------------------------------------------------------------------------------------------


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
        parts: list[Part] = []
        for lo, hi in report_windows(start, end):
            parts.extend(_cost_parts(deps, who, lo, hi, group, width))
        results = fan_out(deps, *parts)
        rows = [row for part_rows, _ in results for row in part_rows]
        as_of = [when for _, when in results if when is not None]
        return rows, min(as_of, default=None)

    return cached(deps, key, load, use_cache=use_cache)


def _cost_parts(
    deps: Deps, who: Who, start: datetime, end: datetime, group: tuple[CostGroupBy, ...], width: BucketWidth | None
) -> list[Part]:
    admin = deps.admin

    def plain(**filters: Any) -> Part:
        def call() -> tuple[list[CostRow], datetime | None]:
            report = admin.cost_report(starting_at=start, ending_at=end, group_by=group, bucket_width=width, **filters)
            return list(report.rows), report.data_refreshed_at

        return call

    if who.kind is ScopeKind.ORG:
        return [plain()]
    if who.kind is ScopeKind.WORKSPACE:
        return [plain(workspace_ids=[who.workspace_id])]
    parts = []
    keys = set(who.api_key_ids)
    if keys:  # never an empty list: api_key_ids=[] would mean "usage without a key"
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

    def one(**filters: Any) -> Part:
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
        results = fan_out(deps, *calls)
        rows = [row for part, _ in results for row in part]
        return rows, min((w for _, w in results if w is not None), default=None)

    return cached(deps, key, load, use_cache=use_cache)


# --------------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------------


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
    products: bool = False,
) -> SpendSummary:
    """Cost by model (and by day when `daily`) plus tokens by model, fetched side by side; with `products`, cost
    is also split by the analytics `product` dimension (API vs Claude Code)."""
    width = daily_width(start, end) if daily else None
    group: tuple[CostGroupBy, ...] = ("model", "product") if products else ("model",)
    calls: list[Callable[[], Any]] = [
        lambda: cost_rows(deps, who, start, end, group_by=group, width=width, use_cache=use_cache)
    ]
    if tokens:
        calls.append(lambda: usage_rows(deps, who, start, end, use_cache=use_cache))
    results = fan_out(deps, *calls)
    rows, as_of = results[0]
    total, by_model, by_day = summarize_cost(rows, deps.settings.tz)
    token_map: dict[str, Tokens] = {}
    if tokens:
        usage, usage_as_of = results[1]
        token_map = summarize_tokens(usage)
        as_of = min((w for w in (as_of, usage_as_of) if w is not None), default=None)
    by_product: dict[str, Decimal] = {}
    if products:
        for row in rows:
            name = row.product or UNKNOWN_MODEL
            by_product[name] = by_product.get(name, Decimal(0)) + row.amount_usd
    return SpendSummary(start, end, total, by_model, by_day, token_map, as_of, by_product)


def period_spend(deps: Deps, who: Who, now: datetime, *, use_cache: bool = True) -> tuple[Decimal, datetime | None]:
    """Month-to-date cost of a scope (exact) and its "data as of"."""
    start = periods.month_start(now, deps.settings.tz)
    rows, as_of = cost_rows(deps, who, start, now, group_by=(), use_cache=use_cache)
    return sum((r.amount_usd for r in rows), Decimal(0)), as_of


def daily_spend(
    deps: Deps, who: Who, start: datetime, end: datetime, *, use_cache: bool = False
) -> tuple[dict[date, Decimal], datetime | None]:
    """Cost per local day over [start, end) (any length; fetched in 31-day pieces)."""
    rows, as_of = cost_rows(
        deps, who, start, end, group_by=(), width=daily_width(start, end), use_cache=use_cache, cache_end=True
    )
    days: dict[date, Decimal] = {}
    for row in rows:
        local = row.starting_at.astimezone(deps.settings.tz).date()
        days[local] = days.get(local, Decimal(0)) + row.amount_usd
    return days, as_of
