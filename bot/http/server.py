"""How uvicorn serves HTTP mode: its h11 protocol with a header deadline, a concurrency limit, and log filters that
turn floods of the same failure into one line a minute."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.http import gates

# Slack sends whole requests at once; a client slower than this holds a socket for nothing.
HEADER_READ_SECONDS = 10.0
# Connections plus in-flight requests before uvicorn answers 503; file descriptors are never the limit first.
LIMIT_CONCURRENCY = 1000


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
            gates.REFUSALS.refused("slow_headers", f"headers not received within {HEADER_READ_SECONDS:g} s")
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
            gates.REFUSALS.refused("busy", f"over {LIMIT_CONCURRENCY} connections; answered 503")
            return False
        return True


class _AcceptFailureLogFilter(logging.Filter):
    """asyncio logs a traceback for every failed accept() when file descriptors run out; one line per
    interval goes through REFUSALS instead (the header deadline frees the descriptors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("socket.accept() out of system resource"):
            gates.REFUSALS.refused("out_of_files", "no file descriptor left to accept a connection (ulimit -n)")
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
        "server_header": False,  # no "server: uvicorn" on every answer: nothing to advertise, one header less to write
    }
