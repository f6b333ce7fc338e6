"""The gates every request to POST /slack/events passes, in order, before Bolt sees a byte: the body read with a
byte count and a deadline (413, 408); the timestamp and the signature checked on the raw bytes (401); UTF-8 and
Slack's JSON or form encoding (400); the served team (401). A refusal is a `Refused`, logged at most once a
minute per reason (`REFUSALS`)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.types import Receive, Scope

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a view submission with many blocks stays well under this.
MAX_BODY_BYTES = 1_000_000
# Slack sends whole requests at once; a client slower than this holds a socket for nothing.
BODY_READ_SECONDS = 10.0
# Slack's signatures are valid for 5 minutes (api.slack.com: verifying requests).
SIGNATURE_MAX_AGE_SECONDS = 300
REFUSAL_LOG_INTERVAL_SECONDS = 60.0
# Requests Slack sends without a team (setup checks): verified like the rest, then served.
_TEAMLESS_TYPES = frozenset({"url_verification"})


class RefusalLog:
    """One log line per kind of refusal per interval, with how many were refused since the last line."""

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def refused(self, reason: str, detail: str) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(reason)
            if last is not None and now - last < self.interval:
                self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
                return
            self._last[reason] = now
            more = self._suppressed.pop(reason, 0)
        suffix = f" ({more} more since the last line)" if more else ""
        logger.warning("refused a request to /slack/events: %s: %s%s", reason, detail, suffix)


REFUSALS = RefusalLog()


class Refused(Exception):
    """A request refused at the edge: `status`, a bounded `reason` label and a `detail` for the log."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


def headers_of(scope: Scope) -> dict[str, str | Sequence[str]]:
    """The request's headers by lower-case name, the first of repeated ones (as Starlette's `Headers.get`)."""
    headers: dict[str, str | Sequence[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def _body_is_in(receive: Receive) -> bool:
    """Whether the server holds the whole body already, so one receive returns it without waiting: uvicorn's h11
    cycle, once the request's end has arrived (a Slack request's body comes with its headers)."""
    cycle = getattr(receive, "__self__", None)
    return getattr(cycle, "more_body", True) is False and getattr(cycle, "disconnected", True) is False


async def read_body(headers: Mapping[str, Any], receive: Receive) -> bytes:
    """The body, counted while it streams: over MAX_BODY_BYTES → 413, slower than BODY_READ_SECONDS → 408. A body
    that is all in already is taken in one receive, with no deadline to set and cancel."""
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or len(length) > 12):
        raise Refused(400, "malformed", "unreadable Content-Length")
    if length is not None and int(length) > MAX_BODY_BYTES:
        raise Refused(413, "too_large", f"Content-Length over {MAX_BODY_BYTES} bytes")
    if _body_is_in(receive):
        message = await receive()
        if message["type"] != "http.request":
            raise Refused(400, "malformed", "client disconnected mid-body")
        body: bytes = message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
        return body
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_READ_SECONDS):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise Refused(400, "malformed", "client disconnected mid-body")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise Refused(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise Refused(408, "slow_body", f"body not received within {BODY_READ_SECONDS:g} s") from None


def verify_signature(headers: Any, body: bytes, secret: bytes, now: float) -> None:
    """Slack's v0 signature over the raw bytes, and a timestamp within SIGNATURE_MAX_AGE_SECONDS."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise Refused(401, "unsigned", "no X-Slack-Signature or X-Slack-Request-Timestamp")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Refused(401, "bad_timestamp", "X-Slack-Request-Timestamp is not a Unix time")
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        raise Refused(401, "stale_timestamp", "timestamp more than 5 minutes from this server's clock")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "bad_signature", "signature does not match SLACK_SIGNING_SECRET")


def bolt_request_of(scope: Scope, headers: dict[str, str | Sequence[str]], raw: bytes) -> AsyncBoltRequest:
    """The verified body as Bolt's request, parsed once, by Bolt's own rules (JSON, a form, or a form's `payload`
    JSON); anything that is not UTF-8 or does not parse into an object → 400."""
    try:
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8"),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):  # UTF-8, JSON, shapes
        raise Refused(400, "malformed", "body is not UTF-8 JSON or a form Slack would send") from None
    if not isinstance(bolt_request.body, dict):
        raise Refused(400, "malformed", "body is not a JSON object")
    return bolt_request


def _ids(body: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The team and enterprise ids a body names, wherever its kind of request carries them."""
    teams: set[str] = set()
    enterprises: set[str] = set()
    for holder in (body, body.get("team"), body.get("enterprise"), body.get("user")):
        if isinstance(holder, dict):
            for key, into in (("team_id", teams), ("enterprise_id", enterprises)):
                if isinstance(holder.get(key), str) and holder[key]:
                    into.add(holder[key])
    for key, into in (("team", teams), ("enterprise", enterprises)):
        value = body.get(key)
        if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
            into.add(value["id"])
    return teams, enterprises


def check_team(body: dict[str, Any], served: str) -> None:
    """Only the served team (T…), or any team of the served Enterprise Grid (E…), gets an answer."""
    if body.get("type") in _TEAMLESS_TYPES or body.get("ssl_check") == "1":
        return
    teams, enterprises = _ids(body)
    named = enterprises if served.startswith("E") else teams
    if named != {served}:
        raise Refused(401, "other_team", "request from a Slack team this bot does not serve")


_STALE_ACTION = {"type": "button", "action_id": "", "block_id": "", "value": ""}


def _valid_state(holder: Any) -> None:
    if isinstance(holder, dict) and "state" in holder:
        state = holder["state"]
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            holder["state"] = {"values": {}}


def normalize_shape(body: dict[str, Any]) -> None:
    """Make a signed but oddly shaped click or submission safe for Bolt's routing, in place: an `actions` that is
    not a list of actions becomes one action no listener claims (the catch-all answers "no longer active"), a
    `state.values` that is not an object becomes an empty one. An event without an event object is malformed."""
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        if not (isinstance(first, dict) and isinstance(first.get("action_id"), str)):
            body["actions"] = [dict(_STALE_ACTION)]
        elif not isinstance(first.get("block_id", ""), str):
            first["block_id"] = ""
        _valid_state(body)
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not (isinstance(view, dict) and isinstance(view.get("callback_id"), str)):
            body["view"] = view = {"id": "", "callback_id": "", "private_metadata": "", "state": {"values": {}}}
        if not isinstance(view.get("type"), str):
            view["type"] = "modal"
        _valid_state(view)
    elif kind == "event_callback":
        event = body.get("event")
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            raise Refused(400, "malformed", "event_callback without an event")
