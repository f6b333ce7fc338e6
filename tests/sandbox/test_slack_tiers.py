"""The stand-in's rate-limit tiers (time-scaled), users.list paging and slash-command text encoding."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from bot.sandbox.signing import command_body, slack_encoded
from bot.sandbox.slack import SlackStandIn, seed_default_directory
from bot.sandbox.slack.ratelimit import limit_of

SCALE = 0.01  # a minute lasts 0.6 s


@pytest.fixture
def strict(slack_standin: SlackStandIn) -> Iterator[SlackStandIn]:
    slack_standin.tiers, slack_standin.time_scale = True, SCALE
    yield slack_standin


def _ratelimited(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value


def test_tiers_come_from_the_method_documents() -> None:
    assert (limit_of("usergroups.users.list"), limit_of("users.list")) == (20, 20)  # Tier 2
    assert (limit_of("users.lookupByEmail"), limit_of("chat.update"), limit_of("conversations.open")) == (50, 50, 50)
    assert (limit_of("users.info"), limit_of("views.open"), limit_of("chat.postEphemeral")) == (100, 100, 100)
    assert limit_of("chat.postMessage") == 60 and limit_of("auth.test") is None  # special


def test_a_tier_2_method_answers_429_after_20_calls_a_minute(strict: SlackStandIn) -> None:
    client = WebClient(token=strict.bot_token, base_url=strict.base_url)
    for _ in range(20):
        client.usergroups_users_list(usergroup="S0ADMINS")
    error = _ratelimited(lambda: client.usergroups_users_list(usergroup="S0ADMINS"))
    assert error.response.status_code == 429 and error.response["error"] == "ratelimited"
    assert int(error.response.headers["Retry-After"]) >= 1
    client.users_info(user="U0DEV")  # another method has its own window
    deadline = time.monotonic() + 5
    while True:  # the scaled minute passes
        try:
            client.usergroups_users_list(usergroup="S0ADMINS")
            break
        except SlackApiError as exc:
            assert exc.response.status_code == 429 and time.monotonic() < deadline
    assert sum(c.status == 429 for c in strict.calls_to("usergroups.users.list")) >= 1


def test_chat_post_message_is_limited_per_channel(strict: SlackStandIn) -> None:
    client = WebClient(token=strict.bot_token, base_url=strict.base_url)
    for _ in range(60):
        client.chat_postMessage(channel="C0ADMIN", text="burst")
    assert _ratelimited(lambda: client.chat_postMessage(channel="C0ADMIN", text="one too many")).response.status_code
    client.chat_postMessage(channel="U0DEV", text="another channel is fine")
    assert len(strict.messages("C0ADMIN")) == 60


def test_the_sdk_retry_handler_waits_out_retry_after(strict: SlackStandIn) -> None:
    client = WebClient(
        token=strict.bot_token, base_url=strict.base_url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)]
    )
    for _ in range(21):
        client.usergroups_users_list(usergroup="S0ADMINS")
    statuses = [c.status for c in strict.calls_to("usergroups.users.list")]
    assert statuses.count(200) == 21 and statuses.count(429) == 1


def test_tiers_are_off_unless_asked_for(slack_standin: SlackStandIn) -> None:
    client = WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
    for _ in range(25):
        client.usergroups_users_list(usergroup="S0ADMINS")
    assert {c.status for c in slack_standin.calls_to("usergroups.users.list")} == {200}


def test_users_list_pages_with_cursors_and_lists_everyone(no_proxies: None) -> None:
    with SlackStandIn() as standin:
        seed_default_directory(standin)
        for n in range(7):
            standin.add_user(f"U1{n:04d}", name=f"person{n}", email=f"p{n}@example.com", deleted=n == 3)
        standin.add_user("U0HELPER", name="helper-bot", is_bot=True)
        client = WebClient(token=standin.bot_token, base_url=standin.base_url)
        pages, cursor = [], None
        while True:
            page = client.users_list(limit=4, cursor=cursor)
            pages.append(page["members"])
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                break
        members = [m for p in pages for m in p]
        assert [len(p) for p in pages] == [4, 4, 4] and len({m["id"] for m in members}) == 12
        by_id = {m["id"]: m for m in members}
        assert by_id["U10003"]["deleted"] is True and by_id["U0HELPER"]["is_bot"] is True
        assert by_id["USLACKBOT"]["is_bot"] is False and by_id["U0BOT"]["is_bot"] is True
        assert by_id["U10001"]["profile"]["email"] == "p1@example.com"
        assert len(client.users_list()["members"]) == 12  # no limit: everything, in a small workspace
        with pytest.raises(SlackApiError) as raised:
            client.users_list(cursor="bm90IGEgY3Vyc29y")
        assert raised.value.response["error"] == "invalid_cursor"


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.sandbox.slack import PROXY_VARIABLES

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_command_text_is_sent_entity_encoded_as_slack_does() -> None:
    assert slack_encoded("R&D <b> a>b") == "R&amp;D &lt;b&gt; a&gt;b"
    assert slack_encoded("usage <@U0DEV|dev> & <#C0ADMIN|admins>") == "usage <@U0DEV|dev> &amp; <#C0ADMIN|admins>"
    assert slack_encoded("invite <mailto:a&b@x.io|a&b@x.io>") == "invite <mailto:a&b@x.io|a&b@x.io>"
    body = parse_qs(command_body("request R&D for 3d <tests>"))
    assert body["text"] == ["request R&amp;D for 3d &lt;tests&gt;"]
