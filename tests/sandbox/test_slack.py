"""Tests of the Slack stand-in itself, driven through the real slack_sdk clients (no mocks)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox.slack import PROXY_VARIABLES, SlackCall, SlackStandIn

REPO_ROOT = Path(__file__).resolve().parents[2]
TS_PATTERN = re.compile(r"^\d{10}\.\d{6}$")
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Request a key"}, "blocks": []}
HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that start their own stand-in: what the slack_standin fixture does about proxies."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(slack_standin: SlackStandIn) -> WebClient:
    return WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)


def api_error(call: Any, *args: Any, **kwargs: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value


def error_of(call: Any, *args: Any, **kwargs: Any) -> str:
    return str(api_error(call, *args, **kwargs).response["error"])


def raw_post(url: str, data: bytes, content_type: str = "application/json") -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# ------------------------------------------------------------------------------------ lifecycle


def test_urls_point_at_loopback_and_stop_closes_the_port(no_proxies: None) -> None:
    with SlackStandIn() as standin:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", standin.root_url)
        assert standin.base_url == standin.root_url + "/api/"
        base_url = standin.base_url
        assert WebClient(token=standin.bot_token, base_url=base_url).auth_test()["ok"] is True
    with pytest.raises(RuntimeError):
        _ = standin.root_url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base_url + "auth.test", timeout=2)


def test_keep_alive_serves_several_requests_on_one_connection(slack_standin: SlackStandIn) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", int(slack_standin.root_url.rsplit(":", 1)[1]), timeout=5)
    try:
        for _ in range(3):
            connection.request("POST", "/api/auth.test", headers={"Authorization": f"Bearer {slack_standin.bot_token}"})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/json; charset=utf-8"
            assert json.loads(response.read())["ok"] is True
    finally:
        connection.close()
    assert len(slack_standin.calls_to("auth.test")) == 3


def test_bolt_app_verifies_its_token_against_the_standin(slack_standin: SlackStandIn) -> None:
    web = WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
    app = App(client=web, signing_secret="test-secret")
    assert app.client is web
    [call] = slack_standin.wait_for("auth.test")
    assert call.status == 200
    assert call.response["user_id"] == "U0BOT"


def test_async_clients_work_too(slack_standin: SlackStandIn) -> None:
    """The bot's AsyncApp uses aiohttp; JSON, form and webhook bodies must decode the same way."""

    async def scenario() -> tuple[str, str, int]:
        client = AsyncWebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
        posted = await client.chat_postMessage(channel="C0ADMIN", text="async hello")
        user = await client.users_info(user="U0DEV")
        webhook = await AsyncWebhookClient(slack_standin.new_response_url()).send(text="async respond")
        return posted["ts"], user["user"]["name"], webhook.status_code

    ts, name, status = asyncio.run(scenario())
    assert (name, status) == ("dev", 200)
    assert [(m.ts, m.text) for m in slack_standin.messages("C0ADMIN")] == [(ts, "async hello")]
    assert slack_standin.calls_to("users.info")[0].body == {"user": "U0DEV"}
    assert slack_standin.wait_for_response()[0].body == {"text": "async respond"}


# ----------------------------------------------------------------------------- auth and routing


def test_auth_test_returns_the_bot_identity_and_scopes(client: WebClient, slack_standin: SlackStandIn) -> None:
    response = client.auth_test()
    assert response["user_id"] == "U0BOT"
    assert response["team_id"] == "T0STANDIN"
    assert response["bot_id"].startswith("B")
    assert "users:read.email" in response.headers["x-oauth-scopes"].split(",")
    [call] = slack_standin.calls_to("auth.test")
    assert call.headers["authorization"] == f"Bearer {slack_standin.bot_token}"
    assert call.http_method == "POST"


def test_missing_wrong_and_misused_tokens_are_refused(slack_standin: SlackStandIn) -> None:
    base_url = slack_standin.base_url
    assert error_of(WebClient(base_url=base_url).auth_test) == "not_authed"
    assert error_of(WebClient(token="xoxb-wrong", base_url=base_url).auth_test) == "invalid_auth"
    app_client = WebClient(token=slack_standin.app_token, base_url=base_url)
    assert error_of(app_client.chat_postMessage, channel="C0ADMIN", text="x") == "not_allowed_token_type"
    bot_client = WebClient(token=slack_standin.bot_token, base_url=base_url)
    assert error_of(bot_client.apps_connections_open, app_token=slack_standin.bot_token) == "not_allowed_token_type"
    assert [c.status for c in slack_standin.calls] == [200, 200, 200, 200]
    assert slack_standin.messages() == []


def test_apps_connections_open_takes_the_app_token(slack_standin: SlackStandIn) -> None:
    client = WebClient(base_url=slack_standin.base_url)
    response = client.apps_connections_open(app_token=slack_standin.app_token)
    assert response["url"].startswith("ws://127.0.0.1:")


def test_unknown_method_is_http_404(client: WebClient) -> None:
    error = api_error(client.api_call, "nonexistent.method")
    assert error.response.status_code == 404
    assert error.response["error"] == "unknown_method"


def test_get_with_query_string_arguments_is_accepted(slack_standin: SlackStandIn) -> None:
    url = f"{slack_standin.base_url}users.info?user=U0DEV&token={slack_standin.bot_token}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.loads(response.read())
    assert body["ok"] is True
    assert body["user"]["name"] == "dev"
    assert slack_standin.calls_to("users.info")[0].http_method == "GET"


def test_form_and_json_bodies_are_recorded_decoded(client: WebClient, slack_standin: SlackStandIn) -> None:
    client.chat_postMessage(channel="C0ADMIN", text="hi", blocks=[{"type": "divider"}], team_id="T0STANDIN")
    client.api_call("conversations.open", params={"users": "U0DEV", "return_im": True})
    client.api_call("views.publish", params={"user_id": "U0DEV", "view": json.dumps(HOME)})

    post = slack_standin.calls_to("chat.postMessage")[0]
    assert post.headers["content-type"].startswith("application/json")
    assert post.body["blocks"] == [{"type": "divider"}]
    assert post.body["team_id"] == "T0STANDIN"  # Bolt's injected extra argument is tolerated
    assert post.status == 200
    opened = slack_standin.calls_to("conversations.open")[0]
    assert opened.body == {"users": "U0DEV", "return_im": "1"}  # form booleans stay strings
    published = slack_standin.calls_to("views.publish")[0]
    assert isinstance(published.raw["view"], str)
    assert published.body["view"] == HOME


def test_invalid_json_body_is_reported(slack_standin: SlackStandIn) -> None:
    request = urllib.request.Request(
        slack_standin.base_url + "chat.postMessage",
        data=b"{not json",
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {slack_standin.bot_token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"ok": False, "error": "invalid_json"}


def test_missing_required_arguments_use_documented_errors(client: WebClient) -> None:
    assert error_of(client.api_call, "chat.postMessage", json={"text": "no channel"}) == "channel_not_found"
    assert error_of(client.api_call, "users.info", params={}) == "user_not_found"
    assert error_of(client.api_call, "files.getUploadURLExternal", params={"length": 3}) == "missing_argument"
    error = api_error(client.api_call, "views.publish", json={"view": HOME})
    assert error.response["error"] == "invalid_arguments"
    assert "user_id" in error.response["response_metadata"]["messages"][0]


def test_methods_check_scopes(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.scopes.discard("chat:write")
    error = api_error(client.chat_postMessage, channel="C0ADMIN", text="hi")
    assert error.response["error"] == "missing_scope"
    assert error.response["needed"] == "chat:write"
    assert client.views_publish(user_id="U0DEV", view=HOME)["ok"] is True  # no scope needed


# ---------------------------------------------------------------------------------------- chat


def test_post_message_returns_monotonic_ts_and_stores_threads(client: WebClient, slack_standin: SlackStandIn) -> None:
    first = client.chat_postMessage(channel="C0ADMIN", text="parent")
    assert first["channel"] == "C0ADMIN"
    assert first["message"]["text"] == "parent"
    assert first["message"]["ts"] == first["ts"]
    reply = client.chat_postMessage(channel="C0ADMIN", text="reply", thread_ts=first["ts"])
    third = client.chat_postMessage(channel="claude-key-admins", text="by name", blocks=[{"type": "divider"}])
    stamps = [first["ts"], reply["ts"], third["ts"]]
    assert all(TS_PATTERN.match(ts) for ts in stamps)
    assert [float(ts) for ts in stamps] == sorted({float(ts) for ts in stamps})
    assert reply["message"]["thread_ts"] == first["ts"]

    stored = slack_standin.messages("C0ADMIN")
    assert [(m.text, m.thread_ts) for m in stored] == [("parent", None), ("reply", first["ts"]), ("by name", None)]
    assert stored[2].blocks == [{"type": "divider"}]
    assert stored[0].user == "U0BOT"


def test_post_message_errors(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.add_channel("C0PRIVATE", name="secret", is_private=True, members=["U0DEV"], bot_is_member=False)
    slack_standin.add_channel("C0PUBLIC", name="general", bot_is_member=False)
    slack_standin.add_channel("C0OLD", name="old", is_archived=True)

    assert error_of(client.api_call, "chat.postMessage", json={"channel": "C0ADMIN"}) == "no_text"
    assert error_of(client.chat_postMessage, channel="C0NOPE", text="x") == "channel_not_found"
    assert error_of(client.chat_postMessage, channel="C0PRIVATE", text="x") == "not_in_channel"
    assert error_of(client.chat_postMessage, channel="C0PUBLIC", text="x") == "not_in_channel"
    assert error_of(client.chat_postMessage, channel="C0OLD", text="x") == "is_archived"
    too_many = [{"type": "divider"}] * 51
    assert error_of(client.chat_postMessage, channel="C0ADMIN", text="x", blocks=too_many) == "invalid_blocks"
    slack_standin.scopes.add("chat:write.public")
    assert client.chat_postMessage(channel="C0PUBLIC", text="x")["ok"] is True
    assert error_of(client.chat_postMessage, channel="C0PRIVATE", text="x") == "not_in_channel"
    assert [m.channel for m in slack_standin.messages()] == ["C0PUBLIC"]


def test_posting_to_a_user_goes_through_their_dm(client: WebClient, slack_standin: SlackStandIn) -> None:
    posted = client.chat_postMessage(channel="U0DEV", text="your key is ready")
    assert posted["channel"].startswith("D")
    assert client.conversations_open(users="U0DEV")["channel"]["id"] == posted["channel"]
    assert [m.text for m in slack_standin.dms_to("U0DEV")] == ["your key is ready"]
    assert slack_standin.dms_to("U0ADMIN") == []

    slack_standin.messages_tab_enabled = False
    assert error_of(client.chat_postMessage, channel="U0DEV", text="again") == "messages_tab_disabled"
    assert error_of(client.chat_postMessage, channel=posted["channel"], text="again") == "messages_tab_disabled"
    assert error_of(client.chat_postMessage, channel="U0GHOST", text="x") == "channel_not_found"
    assert len(slack_standin.dms_to("U0DEV")) == 1


def test_chat_update_edits_the_bot_message(client: WebClient, slack_standin: SlackStandIn) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "pending"}}]
    posted = client.chat_postMessage(channel="C0ADMIN", text="pending", blocks=blocks)
    updated = client.chat_update(channel="C0ADMIN", ts=posted["ts"], text="approved")
    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "approved"
    [message] = slack_standin.messages("C0ADMIN")
    assert message.text == "approved"
    assert message.blocks == blocks  # left out of the update: kept, as Slack does
    assert message.edits == [{"text": "pending", "blocks": blocks, "attachments": None}]

    client.chat_update(channel="C0ADMIN", ts=posted["ts"], text="cleared", blocks=[])
    assert slack_standin.messages("C0ADMIN")[0].blocks is None


def test_chat_update_refuses_unknown_and_foreign_messages(client: WebClient, slack_standin: SlackStandIn) -> None:
    human_ts = slack_standin.add_message("C0ADMIN", text="from a human", user="U0ADMIN")
    assert error_of(client.chat_update, channel="C0ADMIN", ts="1.000001", text="x") == "message_not_found"
    assert error_of(client.chat_update, channel="C0ADMIN", ts=human_ts, text="x") == "cant_update_message"
    assert error_of(client.chat_update, channel="C0NOPE", ts=human_ts, text="x") == "channel_not_found"
    assert slack_standin.messages("C0ADMIN")[0].text == "from a human"


def test_post_ephemeral(client: WebClient, slack_standin: SlackStandIn) -> None:
    response = client.chat_postEphemeral(channel="C0ADMIN", user="U0ADMIN", text="only you")
    assert TS_PATTERN.match(response["message_ts"])
    [ephemeral] = slack_standin.ephemerals("C0ADMIN")
    assert (ephemeral.user, ephemeral.text, ephemeral.message_ts) == ("U0ADMIN", "only you", response["message_ts"])
    assert slack_standin.messages() == []
    assert error_of(client.chat_postEphemeral, channel="C0ADMIN", user="U0DEV", text="x") == "user_not_in_channel"
    update = error_of(client.chat_update, channel="C0ADMIN", ts=response["message_ts"], text="x")
    assert update == "cant_update_message"


# ------------------------------------------------------------------------------- conversations


def test_conversations_open_is_stable_per_user(client: WebClient, slack_standin: SlackStandIn) -> None:
    first = client.conversations_open(users="U0ADMIN")
    again = client.conversations_open(users="U0ADMIN", return_im=True)
    assert first["channel"]["id"] == again["channel"]["id"]
    assert again["channel"]["is_im"] is True
    assert again["channel"]["user"] == "U0ADMIN"
    assert again["already_open"] is True
    assert client.conversations_open(users="U0DEV")["channel"]["id"] != first["channel"]["id"]
    assert error_of(client.conversations_open, users="U0GHOST") == "user_not_found"
    assert error_of(client.api_call, "conversations.open", params={}) == "users_list_not_supplied"


def test_conversations_info(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.add_channel("C0HIDDEN", name="hidden", is_private=True, bot_is_member=False)
    channel = client.conversations_info(channel="C0ADMIN", include_num_members=True)["channel"]
    assert (channel["id"], channel["name"], channel["is_private"]) == ("C0ADMIN", "claude-key-admins", True)
    assert channel["is_member"] is True
    assert channel["num_members"] == 2  # U0ADMIN and the bot
    assert error_of(client.conversations_info, channel="C0NOPE") == "channel_not_found"
    assert error_of(client.conversations_info, channel="C0HIDDEN") == "channel_not_found"


def test_conversations_members_paginates(client: WebClient, slack_standin: SlackStandIn) -> None:
    humans = [f"U0M{i}" for i in range(5)]
    slack_standin.add_channel("C0BIG", name="big", members=humans)
    pages: list[list[str]] = []
    cursor = None
    while True:
        response = client.conversations_members(channel="C0BIG", limit=2, cursor=cursor)
        pages.append(response["members"])
        cursor = response["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == [humans[0:2], humans[2:4], [humans[4], "U0BOT"]]
    assert error_of(client.conversations_members, channel="C0BIG", cursor="bm90LWEtY3Vyc29y") == "invalid_cursor"
    assert error_of(client.conversations_members, channel="C0BIG", limit=0) == "invalid_limit"


# ---------------------------------------------------------------------------------------- users


def test_users_info_shows_email_only_with_the_scope(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.add_user("U0TOKYO", name="kenji", tz="Asia/Tokyo")
    user = client.users_info(user="U0ADMIN")["user"]
    assert (user["id"], user["name"], user["real_name"]) == ("U0ADMIN", "admin", "Ada Admin")
    assert user["profile"]["email"] == "admin@example.com"
    assert user["deleted"] is False
    assert "email" not in client.users_info(user="U0TOKYO")["user"]["profile"]
    assert client.users_info(user="U0TOKYO")["user"]["tz_offset"] == 9 * 3600
    slack_standin.scopes.discard("users:read.email")
    assert "email" not in client.users_info(user="U0ADMIN")["user"]["profile"]
    assert error_of(client.users_info, user="U0GHOST") == "user_not_found"


def test_users_lookup_by_email(client: WebClient, slack_standin: SlackStandIn) -> None:
    assert client.users_lookupByEmail(email="Dev@Example.com")["user"]["id"] == "U0DEV"
    assert error_of(client.users_lookupByEmail, email="nobody@example.com") == "users_not_found"
    slack_standin.scopes.discard("users:read.email")
    assert error_of(client.users_lookupByEmail, email="dev@example.com") == "missing_scope"


def test_usergroups_users_list(client: WebClient, slack_standin: SlackStandIn) -> None:
    assert client.usergroups_users_list(usergroup="S0ADMINS")["users"] == ["U0ADMIN"]
    assert error_of(client.usergroups_users_list, usergroup="S0NOPE") == "no_such_subteam"
    slack_standin.usergroups_enabled = False
    assert error_of(client.usergroups_users_list, usergroup="S0ADMINS") == "plan_upgrade_required"


def test_reactions_add(client: WebClient, slack_standin: SlackStandIn) -> None:
    ts = client.chat_postMessage(channel="C0ADMIN", text="done")["ts"]
    assert client.reactions_add(channel="C0ADMIN", timestamp=ts, name="white_check_mark")["ok"] is True
    assert slack_standin.messages("C0ADMIN")[0].reactions == {"white_check_mark": ["U0BOT"]}
    assert error_of(client.reactions_add, channel="C0ADMIN", timestamp=ts, name="white_check_mark") == (
        "already_reacted"
    )
    assert error_of(client.reactions_add, channel="C0ADMIN", timestamp="1.000001", name="x") == "message_not_found"


# ---------------------------------------------------------------------------------------- views


def test_views_open_consumes_the_trigger_once(client: WebClient, slack_standin: SlackStandIn) -> None:
    trigger_id = slack_standin.new_trigger_id()
    view = client.views_open(trigger_id=trigger_id, view=MODAL)["view"]
    assert re.fullmatch(r"V\w+", view["id"])
    assert view["root_view_id"] == view["id"]
    assert view["title"] == MODAL["title"]
    assert slack_standin.views[view["id"]]["type"] == "modal"
    assert error_of(client.views_open, trigger_id=trigger_id, view=MODAL) == "exchanged_trigger_id"
    assert error_of(client.views_open, trigger_id="123.456.nope", view=MODAL) == "invalid_trigger_id"
    assert len(slack_standin.views) == 1


def test_views_open_trigger_expires(client: WebClient, slack_standin: SlackStandIn) -> None:
    clock = FakeClock()
    slack_standin.clock = clock
    slack_standin.trigger_ttl = 3.0
    fresh, stale = slack_standin.new_trigger_id(), slack_standin.new_trigger_id()
    clock.now += 2.9
    assert client.views_open(trigger_id=fresh, view=MODAL)["ok"] is True
    clock.now += 0.2
    assert error_of(client.views_open, trigger_id=stale, view=MODAL) == "expired_trigger_id"


def test_views_open_trigger_expires_in_real_time(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.trigger_ttl = 0.01
    trigger_id = slack_standin.new_trigger_id()
    time.sleep(0.05)  # only to let the tiny TTL pass
    assert error_of(client.views_open, trigger_id=trigger_id, view=MODAL) == "expired_trigger_id"


def test_views_update_by_id_and_external_id(client: WebClient, slack_standin: SlackStandIn) -> None:
    opened = client.views_open(trigger_id=slack_standin.new_trigger_id(), view={**MODAL, "external_id": "req-1"})
    view_id, old_hash = opened["view"]["id"], opened["view"]["hash"]
    step2 = {**MODAL, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "step 2"}}]}
    updated = client.views_update(view_id=view_id, view=step2, hash=old_hash)["view"]
    assert updated["id"] == view_id
    assert updated["hash"] != old_hash
    assert slack_standin.views[view_id]["blocks"] == step2["blocks"]
    assert client.views_update(external_id="req-1", view=MODAL)["view"]["id"] == view_id
    assert error_of(client.views_update, view_id=view_id, view=MODAL, hash=old_hash) == "hash_conflict"
    assert error_of(client.views_update, view_id="V0MISSING", view=MODAL) == "not_found"
    assert error_of(client.views_update, external_id="req-unknown", view=MODAL) == "not_found"


def test_views_push_stacks_on_the_open_modal(client: WebClient, slack_standin: SlackStandIn) -> None:
    root = client.views_open(trigger_id=slack_standin.new_trigger_id(), view=MODAL)["view"]
    pushed = client.views_push(trigger_id=slack_standin.new_trigger_id(view_id=root["id"]), view=MODAL)["view"]
    assert pushed["root_view_id"] == root["id"]
    assert pushed["previous_view_id"] == root["id"]
    client.views_push(trigger_id=slack_standin.new_trigger_id(), view=MODAL)
    assert error_of(client.views_push, trigger_id=slack_standin.new_trigger_id(), view=MODAL) == "push_limit_reached"


def test_views_publish_stores_the_home_tab(client: WebClient, slack_standin: SlackStandIn) -> None:
    first = client.views_publish(user_id="U0DEV", view=HOME)["view"]
    assert first["type"] == "home"
    assert (slack_standin.home_view("U0DEV") or {}).get("blocks") == HOME["blocks"]
    assert slack_standin.home_view("U0ADMIN") is None
    second = client.views_publish(user_id="U0DEV", view={**HOME, "blocks": []}, hash=first["hash"])["view"]
    assert second["id"] == first["id"]
    assert (slack_standin.home_view("U0DEV") or {}).get("blocks") == []
    assert error_of(client.views_publish, user_id="U0DEV", view=HOME, hash=first["hash"]) == "hash_conflict"
    assert error_of(client.views_publish, user_id="U0DEV", view=MODAL) == "invalid_arguments"


# ---------------------------------------------------------------------------------------- files


def test_files_upload_v2_end_to_end(client: WebClient, slack_standin: SlackStandIn) -> None:
    thread_ts = client.chat_postMessage(channel="C0ADMIN", text="usage report")["ts"]
    response = client.files_upload_v2(
        channel="C0ADMIN",
        content="month,cost\n2026-01,12.50\n",
        filename="usage.csv",
        title="Usage",
        initial_comment="here you go",
        thread_ts=thread_ts,
    )
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Usage"
    methods = [c.method for c in slack_standin.calls]
    assert methods[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    upload = slack_standin.uploads[file_id]
    assert upload.data == b"month,cost\n2026-01,12.50\n"
    assert upload.length == len(upload.data)
    assert (upload.channel_id, upload.thread_ts, upload.initial_comment) == ("C0ADMIN", thread_ts, "here you go")
    assert upload.completed is True
    complete = slack_standin.calls_to("files.completeUploadExternal")[0]
    assert isinstance(complete.raw["files"], str)
    assert complete.body["files"] == [{"id": file_id, "title": "Usage"}]


def test_complete_upload_without_the_bytes_fails(client: WebClient, slack_standin: SlackStandIn) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert ticket["upload_url"] == f"{slack_standin.root_url}/upload/{ticket['file_id']}"
    files = [{"id": ticket["file_id"], "title": "a"}]
    assert error_of(client.files_completeUploadExternal, files=files, channel_id="C0ADMIN") == "file_not_found"
    assert raw_post(ticket["upload_url"], b"abc", "application/octet-stream") == (200, "OK - 3")
    assert client.files_completeUploadExternal(files=files, channel_id="C0ADMIN")["files"][0]["size"] == 3
    assert error_of(client.files_completeUploadExternal, files=files, channel_id="C0NOPE") == "channel_not_found"


# -------------------------------------------------------------------------------------- faults


def test_injected_429_reaches_slack_sdk(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.inject("chat.postMessage", status=429, retry_after=7)
    error = api_error(client.chat_postMessage, channel="C0ADMIN", text="x")
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel="C0ADMIN", text="x")["ok"] is True  # the fault was used up
    assert [c.status for c in slack_standin.calls_to("chat.postMessage")] == [429, 200]


def test_rate_limit_retry_handler_retries_successfully(slack_standin: SlackStandIn) -> None:
    client = WebClient(
        token=slack_standin.bot_token,
        base_url=slack_standin.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack_standin.inject("users.info", status=429, retry_after=0)
    assert client.users_info(user="U0DEV")["user"]["id"] == "U0DEV"
    assert [c.status for c in slack_standin.calls_to("users.info")] == [429, 200]


def test_server_errors_and_retries(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.inject("auth.test", status=503)
    error = api_error(client.auth_test)
    assert error.response.status_code == 503
    assert "non-JSON" in error.response["error"]
    retrying = WebClient(
        token=slack_standin.bot_token,
        base_url=slack_standin.base_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )
    slack_standin.inject("auth.test", status=500, body='{"ok": false, "error": "internal_error"}')
    assert retrying.auth_test()["ok"] is True
    assert [c.status for c in slack_standin.calls_to("auth.test")] == [503, 500, 200]


def test_injected_error_answers_ok_false_at_http_200(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.inject("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        error = api_error(client.chat_postMessage, channel="C0ADMIN", text="x")
        assert (error.response.status_code, error.response["error"]) == (200, "channel_not_found")
    assert client.chat_postMessage(channel="C0ADMIN", text="x")["ok"] is True
    assert len(slack_standin.messages()) == 1


def test_delay_slows_only_the_faulted_call(slack_standin: SlackStandIn) -> None:
    slack_standin.inject("users.info", delay=0.5)
    client = WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
    outcome: dict[str, float] = {}

    def slow_call() -> None:
        started = time.monotonic()
        client.users_info(user="U0DEV")
        outcome["slow"] = time.monotonic() - started

    thread = threading.Thread(target=slow_call)
    thread.start()
    started = time.monotonic()
    client.auth_test()
    fast = time.monotonic() - started
    thread.join(timeout=5)
    assert outcome["slow"] >= 0.5
    assert fast < 0.4  # served concurrently, not behind the slow reply


def test_latency_applies_to_every_call(client: WebClient, slack_standin: SlackStandIn) -> None:
    slack_standin.latency = 0.1
    started = time.monotonic()
    client.auth_test()
    client.auth_test()
    assert time.monotonic() - started >= 0.2


# --------------------------------------------------------------------------------- response_url


def test_response_url_via_webhook_client(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url()
    assert url.startswith(slack_standin.root_url + "/response/")
    response = WebhookClient(url).send(text="approved", replace_original=True)
    assert (response.status_code, response.body) == (200, "ok")
    [call] = slack_standin.wait_for_response()
    assert call.body == {"text": "approved", "replace_original": True}
    assert call.url_id == url.rsplit("/", 1)[1]


def test_response_url_is_limited_to_five_uses(slack_standin: SlackStandIn) -> None:
    webhook = WebhookClient(slack_standin.new_response_url())
    statuses = [webhook.send(text=f"update {i}").status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert webhook.send(text="again").body == "used_url"
    assert len(slack_standin.wait_for_response(count=5)) == 5
    assert len(slack_standin.responses) == 7


def test_response_url_rejects_bad_payloads_unknown_ids_and_old_urls(slack_standin: SlackStandIn) -> None:
    clock = FakeClock()
    slack_standin.clock = clock
    url = slack_standin.new_response_url()
    assert raw_post(url, b"not json") == (400, "invalid_payload")
    assert raw_post(slack_standin.root_url + "/response/R-unknown", b"{}") == (404, "no_service")
    clock.now += slack_standin.response_url_ttl + 1
    assert raw_post(url, b'{"text": "late"}') == (404, "expired_url")
    assert [r.status for r in slack_standin.responses] == [400, 404, 404]


def test_control_api_mints_response_urls_in_bulk(slack_standin: SlackStandIn) -> None:
    status, text = raw_post(slack_standin.root_url + "/_standin/response_urls?count=3", b"")
    assert status == 200
    urls = json.loads(text)["response_urls"]
    assert len(set(urls)) == 3
    assert [WebhookClient(url).send(text="hi").status_code for url in urls] == [200, 200, 200]
    for bad in ("", "?count=0", "?count=abc", "?count=20001"):
        status, text = raw_post(slack_standin.root_url + "/_standin/response_urls" + bad, b"")
        assert (status, json.loads(text)["ok"]) == (400, False)


def test_response_url_fault_injection(slack_standin: SlackStandIn) -> None:
    webhook = WebhookClient(slack_standin.new_response_url())
    slack_standin.inject("response", status=500)
    slack_standin.inject("response", error="expired_url")
    assert webhook.send(text="a").status_code == 500
    assert (webhook.send(text="b").status_code, webhook.send(text="c").status_code) == (404, 200)
    assert [r.body["text"] for r in slack_standin.wait_for_response()] == ["c"]


# ------------------------------------------------------------------------------------ wait_for


def test_wait_for_sees_calls_made_from_another_thread(client: WebClient, slack_standin: SlackStandIn) -> None:
    thread = threading.Thread(target=lambda: client.chat_postMessage(channel="C0ADMIN", text="from a worker"))
    thread.start()
    [call] = slack_standin.wait_for("chat.postMessage", predicate=lambda c: c.body.get("text") == "from a worker")
    thread.join(timeout=5)
    assert call.response["ok"] is True


def test_wait_for_times_out_listing_what_arrived(client: WebClient, slack_standin: SlackStandIn) -> None:
    client.auth_test()
    started = time.monotonic()
    with pytest.raises(AssertionError) as excinfo:
        slack_standin.wait_for("chat.postMessage", timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert "chat.postMessage" in str(excinfo.value)
    assert "auth.test -> 200" in str(excinfo.value)
    with pytest.raises(AssertionError, match="response_url"):
        slack_standin.wait_for_response(timeout=0.1)


def test_wait_for_counts_and_predicates(client: WebClient, slack_standin: SlackStandIn) -> None:
    for text in ("a", "b", "c"):
        client.chat_postMessage(channel="C0ADMIN", text=text)
    calls: list[SlackCall] = slack_standin.wait_for("chat.postMessage", count=3)
    assert [c.body["text"] for c in calls] == ["a", "b", "c"]
    with pytest.raises(AssertionError):
        slack_standin.wait_for("chat.postMessage", count=2, predicate=lambda c: c.body["text"] == "a", timeout=0.1)
    slack_standin.reset_calls()
    assert slack_standin.calls == []
    assert len(slack_standin.messages()) == 3  # state survives; only the traffic log is cleared


# ------------------------------------------------------------------------------- command line


@pytest.fixture
def standin_process(no_proxies: None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.slack", "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # EOF (and a failed match) if the process dies first
        match = re.fullmatch(r"READY (http://127\.0\.0\.1:\d+/api/)\n", line)
        assert match, f"unexpected first line {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_command_line_serves_until_sigterm(standin_process: tuple[subprocess.Popen[str], str]) -> None:
    process, base_url = standin_process
    client = WebClient(token="xoxb-standin-token", base_url=base_url)
    assert client.users_info(user="U0ADMIN")["user"]["name"] == "admin"
    root_url = base_url.removesuffix("/api/")
    trigger = json.loads(raw_post(root_url + "/_standin/trigger_id", b"")[1])["trigger_id"]
    assert client.views_open(trigger_id=trigger, view=MODAL)["ok"] is True
    with urllib.request.urlopen(root_url + "/_standin/calls?method=views.open", timeout=5) as response:
        assert [c["status"] for c in json.loads(response.read())["calls"]] == [200]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
