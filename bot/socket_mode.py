"""Socket Mode serving: connect with capped backoff, one log line per failed attempt, stop on SIGINT/SIGTERM.

The SDK's own connect loop retries forever, logs a traceback each time and cannot be interrupted; here the
first connection (`apps.connections.open`, then the WebSocket) is awaited beside the stop signal, so the process
stops within seconds in every state, and the SDK's later reconnect messages are kept to one line each.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable
from typing import TypeVar

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

logger = logging.getLogger("bot")
T = TypeVar("T")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
ATTEMPT_TIMEOUT_SECONDS = 15.0
CLOSE_TIMEOUT_SECONDS = 3.0


class _OneLine(logging.Filter):
    """The SDK logs a traceback with each failed reconnect: keep the message and the reason, drop the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg, record.args = f"{record.getMessage()} ({type(record.exc_info[1]).__name__})", None
            record.exc_info, record.exc_text = None, None
        return True


def _sdk_logger() -> logging.Logger:
    sdk = logging.getLogger("bot.socket_mode.sdk")
    if not any(isinstance(f, _OneLine) for f in sdk.filters):
        sdk.addFilter(_OneLine())
    return sdk


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {ATTEMPT_TIMEOUT_SECONDS:g} s"
    error = getattr(getattr(exc, "response", None), "get", lambda _key: None)("error")
    if error:
        return f"Slack answered {error}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T], timeout: float | None) -> tuple[bool, T | None]:
    """(True, result) when `work` finished first, (False, None) when `stop` was set first (`work` is cancelled).
    Raises what `work` raised, TimeoutError after `timeout`."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({task, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task in done:
        return True, task.result()
    task.cancel()
    if stop.is_set():
        return False, None
    raise TimeoutError


async def serve_socket_mode(app: AsyncApp, app_token: str, api_url: str) -> None:
    """Connect (retrying with capped backoff) and serve until SIGINT or SIGTERM."""
    handler = AsyncSocketModeHandler(app, app_token, logger=_sdk_logger())
    client = handler.client
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    delay, connected = FIRST_RETRY_SECONDS, False
    try:
        while not stop.is_set():
            try:
                finished, url = await _unless_stopped(stop, client.issue_new_wss_url(), ATTEMPT_TIMEOUT_SECONDS)
                if not finished:
                    break
                client.wss_uri = url
                finished, _ = await _unless_stopped(stop, client.connect(), ATTEMPT_TIMEOUT_SECONDS)
                connected = finished
                break
            except Exception as exc:
                target = f"{api_url}apps.connections.open" if client.wss_uri is None else "the Socket Mode WebSocket"
                logger.warning("cannot reach Slack at %s (%s); retrying in %g s", target, _reason(exc), delay)
                client.wss_uri = None  # a fresh URL (and ticket) on the next attempt
                if (await _unless_stopped(stop, asyncio.sleep(delay), None))[0]:
                    delay = min(delay * 2, MAX_RETRY_SECONDS)
        if connected:
            logger.info("connected to Slack in Socket Mode")
            await stop.wait()
    finally:
        logger.info("disconnecting")
        try:
            await asyncio.wait_for(handler.close_async(), CLOSE_TIMEOUT_SECONDS)
        except Exception as exc:  # closing a half-open connection: nothing left to save
            logger.info("socket mode close: %s", type(exc).__name__)
