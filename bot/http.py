"""HTTP mode: `POST /slack/events` and `GET /healthz` on an ASGI app served by uvicorn."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.deps import Deps
from storage.db import ping

logger = logging.getLogger(__name__)

# Slack's payloads are a few kB; a view submission with many blocks stays well under this.
MAX_BODY_BYTES = 1_000_000
HEALTH_TIMEOUT_SECONDS = 3.0


def create_web_app(bolt_app: AsyncApp, deps: Deps) -> Starlette:
    """The ASGI app: Bolt verifies signatures on /slack/events; /healthz checks the database."""
    handler = AsyncSlackRequestHandler(bolt_app)

    async def slack_events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        return await handler.handle(request)

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
        ]
    )
