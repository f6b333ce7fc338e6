"""Waiting on a future with a deadline, without cancelling it (the ack paths' wait: one callback, no timer of
its own).

Every ack waits like this twice (for its work item to be stored, and for the listener to ack), and almost every
wait ends long before its deadline. One `call_later` per wait would put thousands of cancelled timers on the
loop's heap at a few thousand acks a second, each push costing a dozen Python-level comparisons. Instead the
deadlines share timers: a deadline is rounded up to the next TICK, and each tick has one timer that wakes every
wait still due then. A wait that ends first takes itself off its tick at once, so nothing of it outlives it (kept
until the tick, thousands of finished waits would be promoted to the collector's oldest generation and make
each full collection several times longer).
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable
from typing import Any

TICK = 0.05  # seconds: how late a deadline may fire (the waits here are 1.5 s and 3 s)


class _Ticks:
    """The deadlines of one event loop, by tick: one timer per tick that has any."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[int, set[Callable[[], None]]] = {}

    def call_after(self, seconds: float, callback: Callable[[], None]) -> int:
        """Call `callback` at least `seconds` from now, and at most TICK later than that; the tick, for `cancel`."""
        tick = math.ceil((self.loop.time() + seconds) / TICK)
        waiting = self.due.get(tick)
        if waiting is None:
            waiting = self.due[tick] = set()
            self.loop.call_at(tick * TICK, self._fire, tick)
        waiting.add(callback)
        return tick

    def cancel(self, tick: int, callback: Callable[[], None]) -> None:
        """Forget `callback` (a wait that ended first: nothing of it is kept until its tick)."""
        waiting = self.due.get(tick)
        if waiting is not None:
            waiting.discard(callback)

    def _fire(self, tick: int) -> None:
        for callback in self.due.pop(tick, ()):
            callback()


_TICKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Ticks] = weakref.WeakKeyDictionary()


def _ticks(loop: asyncio.AbstractEventLoop) -> _Ticks:
    ticks = _TICKS.get(loop)
    if ticks is None:
        ticks = _TICKS[loop] = _Ticks(loop)
    return ticks


async def settled_within(future: asyncio.Future[Any], seconds: float) -> bool:
    """Whether `future` is done within `seconds` (never sooner, at most TICK later; it is left running either way)."""
    if future.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(*_: object) -> None:
        if not waiter.done():
            waiter.set_result(None)

    ticks = _ticks(loop)
    future.add_done_callback(wake)
    tick = ticks.call_after(seconds, wake)
    try:
        await waiter
    finally:
        future.remove_done_callback(wake)
        ticks.cancel(tick, wake)
    return future.done()
