"""HTTP mode: `POST /slack/events`, `GET /healthz` and `GET /metrics` on an ASGI app served by uvicorn."""

from __future__ import annotations

import asyncio
import logging
import time

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.deps import Deps
from bot.metrics import CONTENT_TYPE_LATEST
from storage.db import ping

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a view submission with many blocks stays well under this.
MAX_BODY_BYTES = 1_000_000
HEALTH_TIMEOUT_SECONDS = 3.0


def create_web_app(bolt_app: AsyncApp, deps: Deps) -> Starlette:
    """The ASGI app: Bolt verifies signatures on /slack/events; /healthz checks the database; /metrics is the
    Prometheus exposition of `deps.metrics` (no secrets or user data in it: counts by bounded labels)."""
    handler = AsyncSlackRequestHandler(bolt_app)
    ack_seconds = deps.metrics.ack_seconds

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        response = await handler.handle(request)  # Bolt answers as soon as the listener acks
        ack_seconds.observe(time.perf_counter() - started)
        return response

    async def metrics(request: Request) -> Response:
        return Response(deps.metrics.render(), media_type=CONTENT_TYPE_LATEST)

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
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
