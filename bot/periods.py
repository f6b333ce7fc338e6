"""Calendar periods in the configured time zone (budgets, month-to-date figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def month_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The 1st of `now`'s month at 00:00 in `tz`, as a UTC datetime."""
    local = now.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
