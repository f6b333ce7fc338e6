"""The two paging styles: ID cursors (``after_id``/``before_id``, ``first_id``/``last_id``) and opaque page tokens."""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Callable
from typing import Any

from bot.sandbox.anthropic.errors import bad
from bot.sandbox.anthropic.request import Req


def id_page(
    req: Req,
    records: list[Any],
    to_json: Callable[[Any], dict[str, Any]],
    key: Callable[[Any], str] = lambda r: r.id,
) -> dict[str, Any]:
    """ID-cursor envelope over ``records`` already sorted ascending by ``key``."""
    limit = req.integer("limit", 20, 1, 1000)
    after, before = req.one("after_id"), req.one("before_id")
    if after and before:
        raise bad("after_id and before_id are mutually exclusive")
    if after:
        start = bisect.bisect_right(records, after, key=key)
        page = records[start : start + limit]
        has_more = start + limit < len(records)
    elif before:
        end = bisect.bisect_left(records, before, key=key)
        start = max(0, end - limit)
        page = records[start:end]
        has_more = start > 0
    else:
        page = records[:limit]
        has_more = len(records) > limit
    return {
        "data": [to_json(r) for r in page],
        "has_more": has_more,
        "first_id": key(page[0]) if page else None,
        "last_id": key(page[-1]) if page else None,
    }


def query_fingerprint(req: Req) -> str:
    """A short hash of the path and the query (paging parameters aside)."""
    items = sorted((k, tuple(v)) for k, v in req.query.items() if k not in {"page", "limit"})
    return hashlib.sha256(repr((req.path, items)).encode()).hexdigest()[:12]


def cursor_slice(req: Req, items: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """Opaque-cursor slice: the cursor encodes an offset and a fingerprint of the other params."""
    offset = 0
    token = req.one("page")
    fingerprint = query_fingerprint(req)
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset, seen = int(decoded["o"]), decoded["f"]
        except (ValueError, KeyError, TypeError):
            raise bad("page: invalid cursor") from None
        if seen != fingerprint or offset < 0:
            raise bad("page: cursor does not belong to this query")
    page = items[offset : offset + limit]
    next_page = None
    if offset + limit < len(items):
        raw = json.dumps({"o": offset + limit, "f": fingerprint}).encode()
        next_page = base64.urlsafe_b64encode(raw).decode()
    return page, next_page


CURSOR_PARAMS = ("after_id", "before_id", "page")


def without_cursor(query: dict[str, list[str]]) -> dict[str, list[str]]:
    """The query with its paging cursor dropped: what a server stuck on its first page answers."""
    return {k: v for k, v in query.items() if k not in CURSOR_PARAMS}


def always_more(payload: bytes) -> bytes:
    """A listing answer that says another page follows (``has_more``, or a ``next_page`` cursor), so a client keeps
    following its cursor."""
    body = json.loads(payload)
    if isinstance(body, dict) and "data" in body:
        if "next_page" in body and "has_more" not in body:
            # An opaque-cursor listing without `has_more` (rate limits): a cursor that never ends.
            body["next_page"] = body["next_page"] or "page_repeated"
        else:
            body["has_more"] = True
    return json.dumps(body).encode()
