"""The bot's Bolt hot path: the listener runner returns the ack once it is set, without Bolt's 10 ms poll
(`bot.slack.runner`), and a request's context reuses its team's Web API client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.listener import asyncio_runner
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import BotApp
from bot.slack.runner import AckResumedRunner


async def _authorize(**_: Any) -> AuthorizeResult:
    """No auth.test: these requests never leave the process."""
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="UB", bot_id="B1")


def _app() -> BotApp:
    return BotApp(
        client=AsyncWebClient(), signing_secret="secret", request_verification_enabled=False, authorize=_authorize
    )


def _command() -> AsyncBoltRequest:
    body = urlencode({"command": "/claude-key", "text": "help", "user_id": "U1", "team_id": "T1", "channel_id": "C1"})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def _dispatch(build: Callable[[BotApp], Awaitable[Any]]) -> BoltResponse:
    async def main() -> BoltResponse:
        app = _app()
        await build(app)
        return await app.async_dispatch(_command())

    return asyncio.run(main())


@pytest.fixture
def no_polling(mocker: Any) -> None:
    """Bolt's runner waits for the ack with `asyncio.sleep(0.01)` in a loop: make any such sleep fail the test."""
    poll = mocker.patch.object(asyncio_runner, "asyncio", wraps=asyncio)
    poll.sleep.side_effect = AssertionError("Bolt's runner polled for the ack")


def test_the_app_runs_listeners_on_the_resumed_runner() -> None:
    assert isinstance(_app().listener_runner, AckResumedRunner)


@pytest.mark.usefixtures("no_polling")
def test_the_ack_returns_while_the_listener_is_still_running() -> None:
    after_ack: list[str] = []

    async def build(app: BotApp) -> None:
        release = asyncio.Event()

        @app.command("/claude-key")
        async def listener(ack: AsyncAck) -> None:
            await ack(text="Working on it")
            await release.wait()  # never set: only the ack can have answered
            after_ack.append("ran on")

    response = _dispatch(build)
    assert response.status == 200
    assert "Working on it" in response.body
    assert after_ack == []


@pytest.mark.usefixtures("no_polling")
def test_a_listener_that_fails_before_its_ack_answers_500_through_the_error_handler() -> None:
    seen: list[str] = []

    async def build(app: BotApp) -> None:
        @app.error
        async def on_error(error: Exception) -> None:
            seen.append(str(error))

        @app.command("/claude-key")
        async def listener(ack: AsyncAck) -> None:
            raise RuntimeError("boom")

    response = _dispatch(build)
    assert response.status == 500
    assert seen == ["boom"]


@pytest.mark.usefixtures("no_polling")
def test_a_listener_that_ends_without_ack_is_unhandled_at_once(caplog: pytest.LogCaptureFixture) -> None:
    async def build(app: BotApp) -> None:
        @app.command("/claude-key")
        async def listener() -> None:
            return None

    with caplog.at_level(logging.WARNING):
        response = _dispatch(build)
    assert response.status == 404
    assert any("listener" in record.getMessage() and "ack()" in record.getMessage() for record in caplog.records)


def test_lazy_listeners_keep_bolts_runner() -> None:
    lazy_ran = asyncio.Event()

    async def main() -> BoltResponse:
        app = _app()

        async def ack_it(ack: AsyncAck) -> None:
            await ack(text="acked")

        async def later() -> None:
            lazy_ran.set()

        app.command("/claude-key")(ack=ack_it, lazy=[later])
        response = await app.async_dispatch(_command())
        await asyncio.wait_for(lazy_ran.wait(), timeout=10)
        return response

    response = asyncio.run(main())
    assert response.status == 200
    assert "acked" in response.body
    assert lazy_ran.is_set()


def _request_for(team: str) -> AsyncBoltRequest:
    body = urlencode({"command": "/claude-key", "text": "help", "user_id": "U1", "team_id": team, "channel_id": "C1"})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def test_the_context_holds_what_bolts_own_holds_with_one_client_per_team() -> None:
    async def main() -> None:
        app = _app()
        ours, bolts, other_team = _request_for("T1"), _request_for("T1"), _request_for("T2")
        app._init_context(ours)
        AsyncApp._init_context(app, bolts)
        assert set(ours.context) == set(bolts.context)
        assert ours.context.client.default_params == bolts.context.client.default_params == {"team_id": "T1"}
        assert ours.context.client.base_url == bolts.context.client.base_url
        again = _request_for("T1")
        app._init_context(again)
        app._init_context(other_team)
        assert again.context.client is ours.context.client
        assert other_team.context.client is not ours.context.client
        assert other_team.context.client.default_params == {"team_id": "T2"}

    asyncio.run(main())
