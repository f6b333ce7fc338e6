"""A stand-in for Slack's Socket Mode WebSocket endpoint (aiohttp), for testing `claude-key-bot run`.

Point `SlackStandIn.socket_mode_url` at `SocketModeStandIn.url`; the bot's `apps.connections.open` call
returns it, the bot connects, gets `hello`, and acks each envelope pushed with `send_envelope`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class SocketModeStandIn:
    """WebSocket server on 127.0.0.1 that records the acks a Socket Mode client sends."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.connections = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="socket-standin")
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The ws URL to hand the bot (``SlackStandIn.socket_mode_url``)."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket=standin"

    def start(self) -> SocketModeStandIn:
        """Serve on 127.0.0.1 in a background event loop."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self._lock:
            self.connections += 1
            self._sockets.append(ws)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0STANDIN"},
                    "debug_info": {"host": "standin", "approximate_connection_time": 3600},
                }
            )
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                with self._lock:
                    self.acks.append(json.loads(message.data))
        with self._lock:
            self._sockets.remove(ws)
        return ws

    def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Push an envelope (`slash_commands`, `interactive`, `events_api`) to the connected client."""
        envelope_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
        )

        async def send() -> None:
            for ws in list(self._sockets):
                await ws.send_str(body)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout=10)
        return envelope_id

    def wait_for_connection(self, timeout: float = 30.0) -> None:
        """Block until a client is connected."""
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode client connected")
            time.sleep(0.05)

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The client's ack of ``envelope_id``, once it arrives."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            if time.monotonic() > deadline:
                raise AssertionError(f"no ack for {envelope_id}; got {self.acks}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Close the connections and stop serving."""

        async def shutdown() -> None:
            for ws in list(self._sockets):
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
