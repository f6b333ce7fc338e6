"""`settled_within`: a wait with a deadline that leaves its future running, and shares timers between waits."""

from __future__ import annotations

import asyncio

from bot.core import waiting
from bot.core.waiting import settled_within


def test_a_future_settled_in_time_is_reported_done() -> None:
    async def main() -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        loop.call_soon(future.set_result, 7)
        return await settled_within(future, 30.0)

    assert asyncio.run(main()) is True


def test_a_deadline_never_fires_early_and_leaves_the_future_running() -> None:
    async def main() -> tuple[bool, float, bool]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        started = loop.time()
        settled = await settled_within(future, 0.2)
        return settled, loop.time() - started, future.cancelled() or future.done()

    settled, waited, touched = asyncio.run(main())
    assert settled is False
    assert waited >= 0.2
    assert touched is False  # neither cancelled nor settled by the wait


def test_a_thousand_waits_with_one_deadline_share_a_timer_or_two() -> None:
    async def main() -> tuple[int, list[bool]]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = [loop.create_future() for _ in range(1000)]
        before = len(loop._scheduled)  # type: ignore[attr-defined]
        waits = [asyncio.ensure_future(settled_within(f, 5.0)) for f in futures]
        await asyncio.sleep(0)  # every wait registered its deadline
        timers = len(loop._scheduled) - before  # type: ignore[attr-defined]
        for f in futures:
            f.set_result(None)
        return timers, list(await asyncio.gather(*waits))

    timers, results = asyncio.run(main())
    assert timers <= 2  # one per TICK the deadlines fell in, not one per wait
    assert results == [True] * 1000


def test_a_wait_that_ends_first_leaves_nothing_behind_on_its_tick() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = [loop.create_future() for _ in range(100)]
        waits = [asyncio.ensure_future(settled_within(f, 5.0)) for f in futures]
        await asyncio.sleep(0)
        for f in futures:
            f.set_result(None)
        await asyncio.gather(*waits)
        return sum(len(callbacks) for callbacks in waiting._ticks(loop).due.values())

    assert asyncio.run(main()) == 0  # kept until the tick, finished waits would fill the collector's old generation


def test_waits_on_different_loops_keep_their_own_deadlines() -> None:
    async def main() -> bool:
        return await settled_within(asyncio.get_running_loop().create_future(), waiting.TICK)

    assert asyncio.run(main()) is False
    assert asyncio.run(main()) is False  # a second loop: its own timers, none left over from the first
