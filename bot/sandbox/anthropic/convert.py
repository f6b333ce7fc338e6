"""Times, amounts and emails as the stand-in stores and serves them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import overload


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def rfc3339(value: datetime | None) -> str | None:
    """RFC 3339 with a ``Z`` suffix."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@overload
def as_utc(value: datetime | str, default: datetime | None = None) -> datetime: ...
@overload
def as_utc(value: datetime | str | None, default: datetime) -> datetime: ...
@overload
def as_utc(value: datetime | str | None, default: None = None) -> datetime | None: ...
def as_utc(value: datetime | str | None, default: datetime | None = None) -> datetime | None:
    """Seeding input -> aware UTC datetime (naive values are taken as UTC)."""
    if value is None:
        return default
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def dec_str(value: Decimal) -> str:
    """Decimal -> plain decimal string without exponent or trailing zeros ("1234.567", "0")."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def norm_email(email: str) -> str:
    """An email address as compared: trimmed and case-folded."""
    return email.strip().casefold()
