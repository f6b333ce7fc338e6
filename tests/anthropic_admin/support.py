"""What the Admin API gateway tests share: the recording `sleep`/`on_call`, seeded ids, dates."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.sandbox.anthropic import AnthropicStandIn

ORG = "/v1/organizations"
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV_8 = datetime(2026, 11, 8, tzinfo=UTC)


class Recorder:
    """The injected `sleep` and `on_call`: remembers instead of waiting."""

    def __init__(self, *, really_sleep: bool = False) -> None:
        self.sleeps: list[float] = []
        self.calls: list[tuple[str, int | str]] = []
        self._really_sleep = really_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self._really_sleep:
            time.sleep(seconds)

    def on_call(self, endpoint: str, outcome: int | str) -> None:
        self.calls.append((endpoint, outcome))


def seeded_id(standin: AnthropicStandIn, name: str) -> str:
    return str(standin.seeded[name]["id"])
