"""Run a few blocking calls side by side on a thread pool and collect their results in order."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any


def parallel(pool: Executor, *calls: Callable[[], Any]) -> list[Any]:
    """Each call's result in the order given; the first failure, in that order, is raised."""
    futures = [pool.submit(call) for call in calls]
    return [f.result() for f in futures]
