"""HTTP mode: `POST /slack/events`, `GET /healthz` and `GET /metrics` on an ASGI app served by uvicorn.

Everything that reaches POST /slack/events passes these gates, in order, before Bolt sees a byte:
the body is read with a byte count and a deadline (413, 408); the timestamp and the signature are checked on
the raw bytes (401); the body must be UTF-8 and parse as Slack's JSON or form encoding (400); it must come
from the served team (401). Each refusal is counted in /metrics by reason and logged at most once a minute per
reason. Connections whose headers do not arrive in time are closed by `DeadlineH11Protocol`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import h11
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.config import Settings
from bot.deps import Deps
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.client import make_web_client
from storage.db import ping

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a view submission with many blocks stays well under this.
MAX_BODY_BYTES = 1_000_000
HEALTH_TIMEOUT_SECONDS = 3.0
# Slack sends whole requests at once; a client slower than these holds a socket for nothing.
HEADER_READ_SECONDS = 10.0
BODY_READ_SECONDS = 10.0
# Slack's signatures are valid for 5 minutes (api.slack.com: verifying requests).
SIGNATURE_MAX_AGE_SECONDS = 300
# Connections plus in-flight requests before uvicorn answers 503; file descriptors are never the limit first.
LIMIT_CONCURRENCY = 1000
REFUSAL_LOG_INTERVAL_SECONDS = 60.0
# Requests Slack sends without a team (setup checks): verified like the rest, then served.
_TEAMLESS_TYPES = frozenset({"url_verification"})


class BotTokenError(Exception):
    """auth.test failed for SLACK_BOT_TOKEN; the message is one line for the operator (never the token)."""


@dataclass(frozen=True)
class BotIdentity:
    """Who SLACK_BOT_TOKEN is, from auth.test at start."""

    team_id: str
    enterprise_id: str | None


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


def check_bot_token(settings: Settings) -> tuple[BotIdentity, Any]:
    """auth.test for SLACK_BOT_TOKEN (once, at start): the identity and the raw result, or BotTokenError."""

    try:
        result = make_web_client(settings).auth_test()
    except SlackApiError as exc:
        raise BotTokenError(f"SLACK_BOT_TOKEN was refused by Slack's auth.test ({exc.response.get('error')})") from None
    except (SlackClientError, OSError) as exc:
        raise BotTokenError(
            f"SLACK_BOT_TOKEN could not be checked: auth.test at {settings.slack_api_url} failed ({type(exc).__name__})"
        ) from None
    team_id = result.get("team_id")
    if not isinstance(team_id, str) or not team_id:
        raise BotTokenError("SLACK_BOT_TOKEN: auth.test answered without a team_id")
    enterprise_id = result.get("enterprise_id")
    return BotIdentity(team_id, enterprise_id if isinstance(enterprise_id, str) and enterprise_id else None), result


def _seed_authorization(bolt_app: AsyncApp, auth_test_result: Any) -> None:
    """Hand Bolt the start-up auth.test result so it never calls auth.test while answering a request."""
    for middleware in bolt_app._async_middleware_list:
        if isinstance(middleware, AsyncSingleTeamAuthorization):
            middleware.auth_test_result = auth_test_result


def _body_is_in(request: Request) -> bool:
    """Whether the server holds the whole body already, so one receive returns it without waiting: uvicorn's h11
    cycle, once the request's end has arrived (a Slack request's body comes with its headers)."""
    cycle = getattr(request.receive, "__self__", None)
    return getattr(cycle, "more_body", True) is False and getattr(cycle, "disconnected", True) is False


async def read_body(request: Request) -> bytes:
    """The body, counted while it streams: over MAX_BODY_BYTES → 413, slower than BODY_READ_SECONDS → 408. A body
    that is all in already is taken in one receive, with no deadline to set and cancel."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or len(length) > 12):
        raise Refused(400, "malformed", "unreadable Content-Length")
    if length is not None and int(length) > MAX_BODY_BYTES:
        raise Refused(413, "too_large", f"Content-Length over {MAX_BODY_BYTES} bytes")
    if _body_is_in(request):
        message = await request.receive()
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
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise Refused(413, "too_large", f"body over {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, "slow_body", f"body not received within {BODY_READ_SECONDS:g} s") from None
    except ClientDisconnect:
        raise Refused(400, "malformed", "client disconnected mid-body") from None
    return b"".join(chunks)


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


def bolt_request_of(request: Request, raw: bytes) -> AsyncBoltRequest:
    """The verified body as Bolt's request, parsed once, by Bolt's own rules (JSON, a form, or a form's `payload`
    JSON); anything that is not UTF-8 or does not parse into an object → 400."""
    try:
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8"),
            query=request.scope.get("query_string", b"").decode("latin-1"),  # not request.url: no URL to build
            headers=dict(request.headers),
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


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline: a connection whose request line and headers have not all
    arrived HEADER_READ_SECONDS after it opened (or after its previous response) is closed.

    One timer per connection, not one per request: each response moves the deadline (a float); the timer, when
    it fires, closes a connection still waiting for headers past its deadline, or sets itself for the deadline
    as it now stands."""

    _header_deadline: asyncio.TimerHandle | None = None
    _headers_due: float | None = None  # loop time by which the next request's headers must be in; None: not waiting

    def _arm_header_deadline(self) -> None:
        self._headers_due = self.loop.time() + HEADER_READ_SECONDS
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_at(self._headers_due, self._check_header_deadline)

    def _disarm_header_deadline(self) -> None:
        self._headers_due = None  # the timer, when it fires, finds nothing to wait for

    def _check_header_deadline(self) -> None:
        self._header_deadline = None
        due = self._headers_due
        if due is None or self.transport.is_closing():
            return
        if self.loop.time() < due:  # a response since moved the deadline
            self._header_deadline = self.loop.call_at(due, self._check_header_deadline)
            return
        if self.conn.their_state is h11.IDLE:
            REFUSALS.refused("slow_headers", f"headers not received within {HEADER_READ_SECONDS:g} s")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)


class _ConcurrencyLogFilter(logging.Filter):
    """uvicorn logs every 503 over `limit_concurrency`; one line per interval goes through REFUSALS instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "Exceeded concurrency limit.":
            REFUSALS.refused("busy", f"over {LIMIT_CONCURRENCY} connections; answered 503")
            return False
        return True


class _AcceptFailureLogFilter(logging.Filter):
    """asyncio logs a traceback for every failed accept() when file descriptors run out; one line per
    interval goes through REFUSALS instead (the header deadline frees the descriptors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("socket.accept() out of system resource"):
            REFUSALS.refused("out_of_files", "no file descriptor left to accept a connection (ulimit -n)")
            return False
        return True


logging.getLogger("uvicorn.error").addFilter(_ConcurrencyLogFilter())
logging.getLogger("asyncio").addFilter(_AcceptFailureLogFilter())


def uvicorn_options() -> dict[str, Any]:
    """The uvicorn settings HTTP mode runs with (bot/cli.py, bot/sandbox/botserver.py)."""
    return {
        "http": DeadlineH11Protocol,
        "limit_concurrency": LIMIT_CONCURRENCY,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": 16 * 1024,
    }


def _refuse(metrics: Metrics, refused: Refused) -> Response:
    metrics.http_refusals.labels(refused.reason).inc()
    REFUSALS.refused(refused.reason, refused.detail)
    return JSONResponse({"error": refused.reason}, status_code=refused.status)


def create_web_app(bolt_app: AsyncApp, deps: Deps) -> Starlette:
    """The ASGI app: the gates above, then Bolt on /slack/events; /healthz checks the database; /metrics is the
    Prometheus exposition of `deps.metrics` (no secrets or user data in it: counts by bounded labels).

    Calls auth.test once (BotTokenError when SLACK_BOT_TOKEN does not work): the served team defaults to the
    token's, and Bolt is handed the result so no request waits on, or fails with, auth.test."""
    settings = deps.settings
    identity, auth_test_result = check_bot_token(settings)
    _seed_authorization(bolt_app, auth_test_result)
    served = settings.slack_team_id or identity.team_id
    secret = settings.slack_signing_secret.get_secret_value().encode() if settings.slack_signing_secret else b""
    metrics = deps.metrics
    logger.info("serving Slack team %s", served)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        try:
            raw = await read_body(request)
            verify_signature(request.headers, raw, secret, time.time())
            bolt_request = bolt_request_of(request, raw)
            check_team(bolt_request.body, served)
            normalize_shape(bolt_request.body)
        except Refused as refused:
            return _refuse(metrics, refused)
        response = to_starlette_response(await bolt_app.async_dispatch(bolt_request))  # answered at ack()
        metrics.ack_seconds.observe(time.perf_counter() - started)
        return response

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.wait_for(asyncio.to_thread(ping, deps.engine), HEALTH_TIMEOUT_SECONDS)
        except Exception as exc:
            logger.warning("health check failed: database unavailable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ]
    )
