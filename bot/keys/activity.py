"""Activity per key from usage analytics: the Admin API has no last-used field.

One analytics call covers at most 31 days, nothing before 2026-01-01 and nothing older than 365 days; whole-org
scans ask for usage grouped by key in one paged call per 31 days, never one call per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.anthropic_admin import UsageRow
from bot.anthropic_admin.windows import analytics_floor as floor
from bot.anthropic_admin.windows import report_windows
from bot.deps import Deps

LAST_USED_WINDOW_DAYS = 31


def windows(start: datetime, end: datetime, now: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into spans the analytics API accepts at `now` (≤ 31 days, not before `floor(now)`)."""
    return report_windows(max(start, floor(now)), end)


def is_active(row: UsageRow) -> bool:
    """Whether a usage row shows any request or token."""
    return bool(row.requests or row.total_tokens)


def keys_with_usage(
    deps: Deps, start: datetime, end: datetime, key_ids: Sequence[str] | None = None
) -> tuple[set[str], datetime | None]:
    """Ids of keys with any usage in [start, end), and the data's as-of time: one paged call per 31 days."""
    if key_ids is not None and not key_ids:
        return set(), None
    used: set[str] = set()
    as_of: list[datetime] = []
    for a, b in windows(start, end, deps.clock()):
        report = deps.admin.usage_report(starting_at=a, ending_at=b, group_by=["api_key_id"], api_key_ids=key_ids)
        used.update(row.api_key_id for row in report.rows if row.api_key_id and is_active(row))
        if report.data_refreshed_at is not None:
            as_of.append(report.data_refreshed_at)
    return used, min(as_of, default=None)


def last_used_dates(deps: Deps, key_ids: Sequence[str], now: datetime) -> tuple[dict[str, date], datetime | None]:
    """The last day (in TIMEZONE) each key was used within LAST_USED_WINDOW_DAYS; one call for a page of keys."""
    if not key_ids:
        return {}, None
    start = max(now - timedelta(days=LAST_USED_WINDOW_DAYS), floor(now))
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, group_by=["api_key_id"], bucket_width="1d", api_key_ids=key_ids
    )
    last: dict[str, date] = {}
    for row in report.rows:
        if row.api_key_id and is_active(row):
            day = row.starting_at.astimezone(deps.settings.tz).date()
            last[row.api_key_id] = max(day, last.get(row.api_key_id, day))
    return last, report.data_refreshed_at


def unused_for(deps: Deps, key_id: str, now: datetime, quiet: timedelta) -> bool:
    """Usage shows no request with the key for `quiet` up to the data's as-of time (lag-proof)."""
    start = max(now - 2 * quiet, floor(now))
    report = deps.admin.usage_report(
        starting_at=start, ending_at=now, bucket_width="1h", group_by=["api_key_id"], api_key_ids=[key_id]
    )
    as_of = min(report.data_refreshed_at or now, now)
    since = as_of - quiet
    return not any(row.api_key_id == key_id and is_active(row) and row.ending_at > since for row in report.rows)
