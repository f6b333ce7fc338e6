"""Money, percent, token and time formatting for display (exact Decimal in, rounded text out, once)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Round exact dollars to cents, half-up (1.005 → 1.01)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def usd(amount: Decimal) -> str:
    """Dollars and cents with thousands separators: `$1,234.57`."""
    rounded = cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def money(amount: Decimal, currency: str) -> str:
    """An amount in its currency: `$1,234.57` for USD, `1,234.57 EUR` for any other ISO 4217 code."""
    if currency.upper() == "USD":
        return usd(amount)
    return f"{cents(amount):,.2f} {currency.upper()}"


def percent(part: Decimal, whole: Decimal) -> str:
    """Share as a whole percent, rounded down (so 99.9 % never reads as a crossed 100 %)."""
    if whole <= 0:
        return "—"
    value = (part * 100 / whole).quantize(Decimal(1), rounding=ROUND_DOWN)
    return f"{value}%"


def tokens(count: int) -> str:
    """1234 → 1.2k, 5_600_000 → 5.6M (display only)."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(count) >= size:
            return f"{Decimal(count) / size:.1f}{suffix}"
    return str(count)


def local_datetime(moment: datetime, tz: tzinfo) -> str:
    """`Dec 1, 2026 at 07:47 CET`: an instant in TIMEZONE (the fallback text of a Slack date token)."""
    local = moment.astimezone(tz)
    return f"{calendar_day(local.date())} at {local:%H:%M} {local.tzname()}"


def calendar_day(value: date) -> str:
    """`Dec 1, 2026`: the one way a date is written (a calendar day, as in a budget period or a daily total)."""
    return f"{value:%b} {value.day}, {value.year}"


def day(moment: datetime, tz: tzinfo) -> str:
    """`Dec 1, 2026`: the day of an instant in TIMEZONE."""
    return calendar_day(moment.astimezone(tz).date())


def last_day(period_end: datetime, tz: tzinfo) -> str:
    """The last day of a period whose end is exclusive (`Nov 30, 2026` for an end of Dec 1, 00:00)."""
    return day(period_end - timedelta(microseconds=1), tz)


def month_name(moment: datetime, tz: tzinfo) -> str:
    """`December 2026`: the TIMEZONE month of an instant."""
    return f"{moment.astimezone(tz):%B %Y}"


def week_label(iso_week: str) -> str:
    """`week of Dec 7, 2026` for `2026-W50` (the ISO week weekly reports are keyed by), as people say it."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", iso_week)
    if match is None:
        return iso_week
    return f"week of {calendar_day(date.fromisocalendar(int(match[1]), int(match[2]), 1))}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 key`, `3 keys`, `2,000 keys` (`many` for irregular plurals: `plural(2, "match", "matches")`)."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {many or word + 's'}"


def duration(days: int) -> str:
    """`1 day`, `3 days`: a span of whole days (grants, ages, windows, "after 3 days of data")."""
    return plural(days, "day")


def percent_value(value: Decimal | int | float) -> str:
    """An already-computed percentage as text, whole and rounded down: `80%` (same rule as `percent`)."""
    return f"{Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_DOWN)}%"


#: Anthropic's role names as people say them. Workspace roles drop their `workspace_` prefix.
ROLE_NAMES = {
    "admin": "admin",
    "developer": "developer",
    "user": "user",
    "billing": "billing",
    "claude_code_user": "Claude Code user",
    "managed": "managed",
    "workspace_admin": "workspace admin",
    "workspace_developer": "developer",
    "workspace_user": "user",
    "workspace_billing": "billing",
    "workspace_restricted_developer": "restricted developer",
}


def role_name(role: str | None) -> str:
    """An org or workspace role as people say it: `workspace_developer` → `developer`."""
    if not role:
        return "no role"
    if role in ROLE_NAMES:
        return ROLE_NAMES[role]
    return role.removeprefix("workspace_").replace("_", " ")
