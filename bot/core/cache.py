"""A small thread-safe TTL cache with one load per key at a time (a burst of identical queries waits for the
first answer instead of repeating it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TTL = timedelta(minutes=5)
MAX_ENTRIES = 512


class TTLCache:
    """A small thread-safe TTL cache; the caller passes `now` (the injected clock), so tests can step time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[Any, ...], tuple[datetime, Any]] = {}
        self._inflight: dict[tuple[Any, ...], threading.Lock] = {}

    def get_or_load(
        self, key: tuple[Any, ...], now: datetime, load: Callable[[], T], *, ttl: timedelta = DEFAULT_TTL
    ) -> T:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            gate = self._inflight.setdefault(key, threading.Lock())
        # One load per key at a time: a burst of identical commands waits for the first answer.
        with gate:
            with self._lock:
                hit = self._items.get(key)
                if hit is not None and hit[0] > now:
                    return hit[1]
            try:
                value = load()
            except BaseException:
                with self._lock:
                    self._inflight.pop(key, None)
                raise
            with self._lock:
                if len(self._items) >= MAX_ENTRIES:
                    for stale in sorted(self._items, key=lambda k: self._items[k][0])[: MAX_ENTRIES // 4]:
                        del self._items[stale]
                self._items[key] = (now + ttl, value)
                self._inflight.pop(key, None)
            return value

    def put(self, key: tuple[Any, ...], value: Any, now: datetime, ttl: timedelta = DEFAULT_TTL) -> None:
        with self._lock:
            self._items[key] = (now + ttl, value)

    def peek(self, key: tuple[Any, ...], now: datetime) -> Any:
        with self._lock:
            hit = self._items.get(key)
            return hit[1] if hit is not None and hit[0] > now else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
