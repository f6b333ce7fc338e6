"""Waiting on a future with a deadline, without cancelling it (the ack paths' one timer and one callback)."""

from __future__ import annotations

import asyncio
from typing import Any


async def settled_within(future: asyncio.Future[Any], seconds: float) -> bool:
    """Whether `future` is done within `seconds` (it is left running either way): `asyncio.wait` with one timer
    and one callback, and no set or task to build."""
    if future.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(*_: object) -> None:
        if not waiter.done():
            waiter.set_result(None)

    future.add_done_callback(wake)
    timer = loop.call_later(seconds, wake)
    try:
        await waiter
    finally:
        timer.cancel()
        future.remove_done_callback(wake)
    return future.done()
