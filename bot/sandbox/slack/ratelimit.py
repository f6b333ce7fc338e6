"""Slack's rate-limit tiers, per method and workspace, with a time scale so tests need not wait minutes.

Tiers come from each method's document (``methods/<method>.json`` ``rate_limits``) and Slack's rate-limits page:
Tier 1 ≈ 1 a minute, Tier 2 ≈ 20, Tier 3 ≈ 50, Tier 4 ≈ 100. ``t5`` is Slack's "special": for
``chat.postMessage`` about one message a second per channel, short bursts allowed (here: 60 a minute per
channel); other special methods (``auth.test``) are not limited. Over a limit Slack answers HTTP 429,
``Retry-After`` in whole seconds (clients parse it as an integer) and ``{"ok": false, "error": "ratelimited"}``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from bot.sandbox.slack.docs import method_doc
from bot.sandbox.slack.records import Json

PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
#: chat.postMessage: per channel, about one a second with bursts.
POST_MESSAGE_PER_MINUTE = 60
#: Methods the stand-in serves without a document of their own: their tier on Slack's pages.
UNDOCUMENTED_TIERS = {"apps.connections.open": "t1", "views.push": "t4"}


def limit_of(method: str) -> int | None:
    """Calls a minute ``method`` takes (per workspace; per channel for chat.postMessage), None: not limited."""
    if method == "chat.postMessage":
        return POST_MESSAGE_PER_MINUTE
    tier = method_doc(method).get("rate_limits") or UNDOCUMENTED_TIERS.get(method)
    return PER_MINUTE.get(str(tier))


class RateLimiter:
    """Sliding one-minute windows (scaled by ``time_scale``) of answered calls, per method or method and channel."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, method: str, args: Json, *, time_scale: float) -> int | None:
        """Whole seconds to wait when this call is over its limit (the call is then not counted), else None."""
        limit = limit_of(method)
        if limit is None:
            return None
        key = (method, str(args.get("channel") or "") if method == "chat.postMessage" else "")
        window = 60.0 * time_scale
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + window - now))
            hits.append(now)
            return None

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._hits.clear()
