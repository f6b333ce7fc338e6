"""Decoding Web API arguments: request bodies, form booleans, optional strings and paging cursors."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any
from urllib.parse import parse_qs

from bot.sandbox.slack.errors import SlackError
from bot.sandbox.slack.records import Json

#: Fields slack_sdk sends as JSON strings inside form bodies; decoded into ``SlackCall.body``.
JSON_ENCODED_FIELDS = frozenset(
    {"attachments", "blocks", "files", "metadata", "outputs", "unfurls", "user_auth_blocks", "view"}
)


def truthy(value: Any) -> bool:
    """A form or JSON boolean as Slack reads it."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def opt_str(value: Any) -> str | None:
    """A string argument, or None when absent or empty."""
    if value is None or value == "":
        return None
    return str(value)


def decode_body(content_type: str, data: bytes, query: str) -> tuple[Json, Json]:
    """Returns (raw, body) as described in the module docstring. Raises SlackError on bad JSON."""
    raw: Json = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if data and "application/json" in content_type:
        try:
            parsed = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise SlackError("json_not_object")
        raw.update(parsed)
    elif data and "multipart/form-data" not in content_type:
        text = data.decode("utf-8", errors="replace")
        raw.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()})
    body = dict(raw)
    for key in JSON_ENCODED_FIELDS & body.keys():
        value = body[key]
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                body[key] = json.loads(value)
    return raw, body


def encode_cursor(offset: int) -> str:
    """The ``next_cursor`` for an offset."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset in a cursor (``invalid_cursor`` otherwise)."""
    try:
        prefix, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    if prefix != "offset" or offset < 0:
        raise SlackError("invalid_cursor")
    return offset
