"""GET /usage_report/claude_code (Claude Code Analytics): one UTC day's records per actor, paged.

Served in the format of the public docs (https://platform.claude.com/docs/en/api/admin/usage_report/
retrieve_claude_code.md): ``starting_at`` (a ``YYYY-MM-DD`` UTC date, required), ``limit`` (1-1000, default 20)
and ``page`` (the opaque ``next_page``); any other query parameter is a 400, as the real API refuses unknown
parameters. Records are ordered by actor (people by email, then API keys by name: a stand-in choice, stable).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.sandbox.anthropic.errors import bad
from bot.sandbox.anthropic.paging import cursor_slice
from bot.sandbox.anthropic.request import Req
from bot.sandbox.anthropic.state import AdminState

PARAMS = {"starting_at", "limit", "page"}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def actor_sort_key(record: dict[str, Any]) -> tuple[int, str]:
    """People first (by email), then API keys (by name)."""
    actor = record["actor"]
    if actor["type"] == "user_actor":
        return (0, actor["email_address"].lower())
    return (1, actor["api_key_name"])


def claude_code_report(org: AdminState, req: Req) -> dict[str, Any]:
    """One page of one day's Claude Code records."""
    unknown = sorted(set(req.query) - PARAMS)
    if unknown:
        raise bad(f"Unknown query parameter(s): {', '.join(unknown)}")
    raw = req.one("starting_at")
    if raw is None:
        raise bad("starting_at: required")
    if not _DAY.fullmatch(raw):
        raise bad(f"starting_at: expected a UTC date in YYYY-MM-DD format, got {raw!r}")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise bad(f"starting_at: not a date: {raw!r}") from None
    limit = req.integer("limit", 20, 1, 1000)
    records = sorted(org._claude_code.get(day, []), key=actor_sort_key)
    page, next_page = cursor_slice(req, records, limit)
    return {"data": page, "has_more": next_page is not None, "next_page": next_page}
