"""One request as a route handler sees it: query parameters (scalars, arrays, integers, booleans), body, betas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.anthropic.errors import bad


@dataclass(slots=True)
class Req:
    """What a route handler sees."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    def one(self, name: str) -> str | None:
        """The last value of a scalar parameter, or None."""
        values = self.query.get(name)
        return values[-1] if values else None

    def many(self, name: str) -> list[str] | None:
        """Array params arrive in brackets form (``roles[]=a&roles[]=b``); plain repeats are accepted too."""
        values = self.query.get(f"{name}[]", []) + self.query.get(name, [])
        return values or None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer parameter within ``low``..``high`` (400 otherwise), or ``default``."""
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad(f"{name}: expected an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise bad(f"{name}: must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        """A boolean parameter (true/false/1/0; 400 otherwise), or ``default``."""
        raw = self.one(name)
        if raw is None:
            return default
        if raw.lower() in {"true", "1"}:
            return True
        if raw.lower() in {"false", "0"}:
            return False
        raise bad(f"{name}: expected a boolean, got {raw!r}")

    def json_body(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty; 400 when not an object)."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise bad("Request body must be a JSON object")
        return self.body

    def betas(self) -> set[str]:
        """The ``anthropic-beta`` header's values."""
        return {b.strip() for b in self.headers.get("anthropic-beta", "").split(",") if b.strip()}


def parse_query_dt(req: Req, name: str) -> datetime | None:
    """An RFC 3339 query parameter as an aware UTC datetime (400 without an offset)."""
    raw = req.one(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise bad(f"{name}: not an RFC 3339 datetime: {raw!r}") from None
    if value.tzinfo is None:
        raise bad(f"{name}: must include a UTC offset (RFC 3339)")
    return value.astimezone(UTC)
