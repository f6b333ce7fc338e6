"""Calendar periods in the configured time zone (budgets, month-to-date figures, reports)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """00:00 of a local day, as an aware datetime (correct across DST changes)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def month_start(now: datetime, tz: tzinfo) -> datetime:
    """The budget period's start: the 1st of `now`'s month at 00:00 in `tz`."""
    return local_midnight(now.astimezone(tz).date().replace(day=1), tz)


def next_month_start(now: datetime, tz: tzinfo) -> datetime:
    """The budget period's end (exclusive): the next 1st at 00:00 in `tz`."""
    first = now.astimezone(tz).date().replace(day=1)
    return local_midnight((first + timedelta(days=32)).replace(day=1), tz)
