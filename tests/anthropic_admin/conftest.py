"""Fixtures of the Admin API gateway tests: a gateway pointed at the stand-in, with a recording `sleep`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bot.anthropic_admin import AdminGateway
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_gateway(
    anthropic_standin: AnthropicStandIn,
    recorder: Recorder,
) -> Iterator[Callable[..., AdminGateway]]:
    made: list[AdminGateway] = []

    def make(**overrides: Any) -> AdminGateway:
        options: dict[str, Any] = {
            "api_key": SecretStr(anthropic_standin.admin_key),
            "base_url": anthropic_standin.base_url,
            "timeout": 5.0,
            "sleep": recorder.sleep,
            "on_call": recorder.on_call,
            "strict_validation": True,
        }
        options.update(overrides)
        gateway = AdminGateway(**options)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make_gateway: Callable[..., AdminGateway]) -> AdminGateway:
    return make_gateway()


@pytest.fixture
def standin(anthropic_standin: AnthropicStandIn) -> AnthropicStandIn:
    return anthropic_standin
