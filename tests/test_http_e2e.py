"""End to end over HTTP: signed requests as Slack sends them, assertions on what the stand-ins received."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from bot.config import Settings
from bot.core.errors import DB_UNAVAILABLE
from bot.deps import Deps
from bot.slack.commands import Sub
from handlers.router import Router
from storage.db import make_engine, session_scope
from storage.models import WorkItem
from tests.botserver import command_body, event_body, post_slack, signed_headers

# Nothing listens on port 1: connecting fails at once.
UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _ack(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return json.loads(response.text)


@pytest.mark.parametrize("text", ["help", "", "  HELP  "])
def test_help_answers_ephemerally_with_every_command(bot_url: str, client: httpx.Client, text: str) -> None:
    body = _ack(post_slack(client, bot_url, command_body(text)))
    assert body["response_type"] == "ephemeral"
    rendered = json.dumps(body["blocks"])
    for sub in Sub:
        assert f"/claude-key {sub.value}" in rendered
    assert body["text"].startswith("Claude key bot commands")


def test_unknown_subcommand_answers_with_help_not_an_error(bot_url: str, client: httpx.Client) -> None:
    body = _ack(post_slack(client, bot_url, command_body("frobnicate <!channel> now")))
    rendered = json.dumps(body["blocks"])
    assert "I don't know" in rendered
    assert "<!channel>" not in rendered  # user text is escaped
    assert "/claude-key request" in rendered


def test_every_subcommand_has_a_listener_of_its_own_app(settings: Settings, deps: Deps) -> None:
    from bot.app import create_app

    first, second = create_app(settings, deps), create_app(settings, deps)
    assert set(first.router.handlers) == set(Sub) - {Sub.HELP}
    assert first.router.handlers[Sub.CHECK] is not second.router.handlers[Sub.CHECK]
    router = Router()
    with pytest.raises(RuntimeError, match="subcommands without a listener"):
        router.check_complete()


@pytest.mark.parametrize(
    "text",
    [
        "help",
        "nonsense",
        "usage org 30d",
        "keys all",
        "request default-ws for 7d because",
        "requests mine",
        "invite someone@example.com",
        "audit 7",
        "budget show",
        "check apikey_01",
        "revoke apikey_01",
    ],
)
def test_every_ack_comes_before_any_admin_api_work_and_after_its_work_is_stored(
    bot_url: str,
    client: httpx.Client,
    anthropic_standin,
    slack_standin,
    deps,
    text: str,
) -> None:
    # With the Admin API taking 20 s, Bolt would answer 404 after its 3 s ack timeout if a listener called it
    # before ack(); a 200 with the ack's own text proves it did not. Work that was acked is already a row.
    anthropic_standin.latency = 20
    with session_scope(deps.engine) as session:
        before = len(list(session.exec(select(WorkItem))))
    response = post_slack(client, bot_url, command_body(text, response_url=slack_standin.new_response_url()))
    anthropic_standin.latency = 0
    assert response.status_code == 200, response.text
    assert "Working on it" in response.text or "/claude-key" in response.text
    with session_scope(deps.engine) as session:
        stored = len(list(session.exec(select(WorkItem)))) - before
    assert stored == (1 if "Working on it" in response.text else 0)


@pytest.mark.parametrize("text", ["help", "nonsense", "usage org 30d", "keys all", "check apikey_01"])
def test_with_the_database_unreachable_the_ack_says_nothing_was_stored(
    bot_url: str, client: httpx.Client, slack_standin, deps, text: str
) -> None:
    deps.engine = make_engine(UNREACHABLE_DB)
    response = post_slack(client, bot_url, command_body(text, response_url=slack_standin.new_response_url()))
    assert response.status_code == 200, response.text
    if text in ("help", "nonsense"):  # answered in the ack itself: no work to store
        assert "/claude-key" in response.text
    else:
        assert DB_UNAVAILABLE in response.text and "Working on it" not in response.text


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "stale", "future", "no-signature", "body-changed"],
)
def test_forged_or_replayed_requests_get_401_and_run_nothing(
    bot_url: str,
    client: httpx.Client,
    slack_standin,
    tamper: str,
) -> None:
    body = command_body("help")
    if tamper == "wrong-secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif tamper == "stale":
        headers = signed_headers(body, timestamp=int(time.time()) - 301)
    elif tamper == "future":
        headers = signed_headers(body, timestamp=int(time.time()) + 400)
    elif tamper == "no-signature":
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        headers = signed_headers(body)
        body = body.replace("help", "usage")
    slack_standin.reset_calls()
    response = client.post(f"{bot_url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert "Claude key bot" not in response.text
    assert slack_standin.calls == []  # not even auth.test: verification comes first


def test_replayed_signature_within_window_is_still_verified_as_slack_does(bot_url: str, client: httpx.Client) -> None:
    body = command_body("help")
    headers = signed_headers(body, timestamp=int(time.time()) - 240)
    assert client.post(f"{bot_url}/slack/events", content=body, headers=headers).status_code == 200


def test_healthz_reports_the_database(bot_url: str, client: httpx.Client, deps) -> None:
    ok = client.get(f"{bot_url}/healthz")
    assert ok.status_code == 200 and ok.json()["database"] == "up"
    deps.engine = make_engine(UNREACHABLE_DB)
    down = client.get(f"{bot_url}/healthz")
    assert down.status_code == 503 and down.json()["database"] == "down"


def test_url_verification_challenge_is_echoed(bot_url: str, client: httpx.Client) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"})
    response = post_slack(client, bot_url, body)
    assert response.status_code == 200
    assert "abc123" in response.text


def test_app_home_opened_publishes_the_home_tab(
    bot_url: str,
    client: httpx.Client,
    slack_standin,
) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0DEV",
        "channel": "D0DEV",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    assert post_slack(client, bot_url, event_body(event)).status_code == 200
    published = slack_standin.wait_for("views.publish")
    assert published[0].body["user_id"] == "U0DEV"
    home = slack_standin.home_view("U0DEV")
    assert home is not None and "/claude-key request" in json.dumps(home)


def test_messages_tab_open_publishes_nothing(
    bot_url: str,
    client: httpx.Client,
    slack_standin,
) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0ADMIN",
        "channel": "D0ADMIN",
        "tab": "messages",
        "event_ts": "1700000000.000100",
    }
    assert post_slack(client, bot_url, event_body(event, event_id="Ev0002")).status_code == 200
    # A later home-tab open by someone else is published; the messages-tab open before it was not.
    event.update(user="U0DEV", channel="D0DEV", tab="home")
    post_slack(client, bot_url, event_body(event, event_id="Ev0003"))
    published = slack_standin.wait_for("views.publish")
    assert [call.body["user_id"] for call in published] == ["U0DEV"]
    assert slack_standin.home_view("U0ADMIN") is None


def test_oversized_body_is_refused_before_parsing(bot_url: str, client: httpx.Client) -> None:
    body = "text=" + "a" * 1_100_000
    response = client.post(f"{bot_url}/slack/events", content=body, headers=signed_headers(body))
    assert response.status_code == 413


def _interaction(payload: dict) -> str:
    from urllib.parse import quote

    return "payload=" + quote(json.dumps(payload))


def test_a_button_from_an_older_version_is_acked_and_explained(
    bot_url: str,
    client: httpx.Client,
    slack_standin,
) -> None:
    response_url = slack_standin.new_response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": "U0DEV", "username": "dev", "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "C0ADMIN", "name": "admins"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ADMIN"},
        "message": {"ts": "1700000000.000100", "text": "old"},
        "actions": [
            {
                "type": "button",
                "action_id": "retired_button",
                "block_id": "b",
                "value": "1",
                "action_ts": "1700000001.000000",
            }
        ],
    }
    response = post_slack(client, bot_url, _interaction(payload))
    assert response.status_code == 200
    reply = slack_standin.wait_for_response()
    assert "no longer active" in reply[0].body["text"]
    assert reply[0].body.get("replace_original") is False


def test_an_unknown_modal_submission_is_acked(bot_url: str, client: httpx.Client) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": "U0DEV", "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "team": {"id": "T0STANDIN"},
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "retired_modal",
            "private_metadata": "",
            "state": {"values": {}},
            "team_id": "T0STANDIN",
            "app_installed_team_id": "T0STANDIN",
        },
    }
    response = post_slack(client, bot_url, _interaction(payload))
    assert response.status_code == 200
    assert response.text == ""
