"""HTTP mode: `POST /slack/events`, `GET /healthz` and `GET /metrics`, served by uvicorn (`bot.http.server`).

Everything that reaches POST /slack/events passes the gates of `bot.http.gates` before Bolt sees a byte. That path
is the hot one (every command, click and event, each acked within Slack's 3 seconds), so it is a bare ASGI app
(`SlackEvents`), dispatched to before Starlette's routing and middleware; the other paths, and every other method on
/slack/events (405), go through Starlette.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.config import Settings
from bot.deps import Deps
from bot.http import gates
from bot.http.gates import (
    MAX_BODY_BYTES,
    RefusalLog,
    Refused,
    bolt_request_of,
    check_team,
    headers_of,
    normalize_shape,
    read_body,
    verify_signature,
)
from bot.http.server import LIMIT_CONCURRENCY, DeadlineH11Protocol, uvicorn_options
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.client import make_web_client
from storage.db import ping

__all__ = [
    "LIMIT_CONCURRENCY",
    "MAX_BODY_BYTES",
    "BotIdentity",
    "BotTokenError",
    "DeadlineH11Protocol",
    "RefusalLog",
    "Refused",
    "SlackEvents",
    "check_bot_token",
    "create_web_app",
    "uvicorn_options",
]

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3.0
EVENTS_PATH = "/slack/events"


class BotTokenError(Exception):
    """auth.test failed for SLACK_BOT_TOKEN; the message is one line for the operator (never the token)."""


@dataclass(frozen=True)
class BotIdentity:
    """Who SLACK_BOT_TOKEN is, from auth.test at start."""

    team_id: str
    enterprise_id: str | None


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


def _latin1(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Bolt's response headers for ASGI, but its Content-Length: `_answer` counts the bytes it sends."""
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    return [(name, value) for name, value in encoded if name != b"content-length"]


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """One whole response; Content-Length always (a keep-alive connection's next request follows it)."""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SlackEvents:
    """POST /slack/events as a bare ASGI app: the gates, then Bolt; a refusal is answered with its status and a
    one-word JSON error, and counted in /metrics by reason."""

    def __init__(self, bolt_app: AsyncApp, *, secret: bytes, served: str, metrics: Metrics) -> None:
        self.bolt_app, self.secret, self.served, self.metrics = bolt_app, secret, served, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = headers_of(scope)
        try:
            raw = await read_body(headers, receive)
            verify_signature(headers, raw, self.secret, time.time())
            bolt_request = bolt_request_of(scope, headers, raw)
            check_team(bolt_request.body, self.served)
            normalize_shape(bolt_request.body)
        except Refused as refused:
            self.metrics.http_refusals.labels(refused.reason).inc()
            gates.REFUSALS.refused(refused.reason, refused.detail)
            body = f'{{"error":"{refused.reason}"}}'.encode()
            await _answer(send, refused.status, [(b"content-type", b"application/json")], body)
            return
        response: BoltResponse = await self.bolt_app.async_dispatch(bolt_request)  # answered at ack()
        if response.cookies():  # Bolt's OAuth flow only: Starlette writes the cookies
            await to_starlette_response(response)(scope, receive, send)
        else:
            body = response.body.encode() if isinstance(response.body, str) else response.body
            await _answer(send, response.status, _latin1(response.first_headers_without_set_cookie()), body)
        self.metrics.ack_seconds.observe(time.perf_counter() - started)


class WebApp:
    """The ASGI app: POST /slack/events straight to `SlackEvents`, everything else to Starlette."""

    def __init__(self, events: SlackEvents, rest: Starlette) -> None:
        self.events, self.rest = events, rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == EVENTS_PATH and scope["method"] == "POST":
            await self.events(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


def create_web_app(bolt_app: AsyncApp, deps: Deps) -> WebApp:
    """The ASGI app: the gates, then Bolt on /slack/events; /healthz checks the database; /metrics is the
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
    events = SlackEvents(bolt_app, secret=secret, served=served, metrics=metrics)

    async def metrics_page(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.wait_for(asyncio.to_thread(ping, deps.engine), HEALTH_TIMEOUT_SECONDS)
        except Exception as exc:
            logger.warning("health check failed: database unavailable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    rest = Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),  # reached only by other methods (405) and mounted paths
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ]
    )
    return WebApp(events, rest)
