"""Money, percent, token and time formatting for display (exact Decimal in, rounded text out, once)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
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


def when(moment: datetime | None, tz: tzinfo) -> str:
    """`Nov 3, 08:00 UTC` in TIMEZONE."""
    if moment is None:
        return "unknown"
    local = moment.astimezone(tz)
    return f"{local:%b} {local.day}, {local:%H:%M} {local.tzname()}"


def day(moment: datetime, tz: tzinfo) -> str:
    """`Dec 1` in TIMEZONE."""
    local = moment.astimezone(tz)
    return f"{local:%b} {local.day}"


def last_day(period_end: datetime, tz: tzinfo) -> str:
    """The last day of a period whose end is exclusive (`Nov 30` for an end of Dec 1, 00:00)."""
    return day(period_end - timedelta(microseconds=1), tz)
