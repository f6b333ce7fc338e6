"""The date ranges the analytics reports accept (no SDK needed to know them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# The longest range one report call accepts; the earliest day the reports have data for, and how far back
# from now the API answers at all (the later of the two applies).
MAX_RANGE = timedelta(days=31)
EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)
LOOKBACK = timedelta(days=365)


def analytics_floor(now: datetime) -> datetime:
    """The earliest start the analytics API accepts at `now`: 2026-01-01 or 365 days back, whichever is later."""
    return max(EARLIEST, now - LOOKBACK)


def report_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive ranges of at most 31 days, the longest one report call accepts."""
    pieces = []
    cursor = start
    while cursor < end:
        upper = min(cursor + MAX_RANGE, end)
        pieces.append((cursor, upper))
        cursor = upper
    return pieces
