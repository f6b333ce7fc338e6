"""`/claude-key keys` end to end over HTTP, on SQLite and PostgreSQL: fields, pages, who may list whose keys,
malformed input, and hostile key names escaped in every answer."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from bot.deps import Deps
from bot.keys.model import KEYS_PER_PAGE
from bot.slack.ids import Action
from tests.keys.support import T0, add_key, buttons, click, command, ids, rendered


def test_keys_lists_own_keys_with_every_field(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    mine = add_key(
        anthropic_standin,
        "prod-dev-search",
        owner=dev,
        workspace=ws,
        created=T0 - timedelta(days=100),
        expires_at=T0 + timedelta(days=400),
        partial_key_hint="sk-ant-api03-AbCd...x9ZZ",
    )
    add_key(anthropic_standin, "dev-dev-old", owner=dev, workspace=ws, created=T0 - timedelta(days=10))
    add_key(anthropic_standin, "not-mine", owner=admin, workspace=ws, created=T0)
    anthropic_standin.add_usage(
        starting_at=T0 - timedelta(days=3),
        ending_at=T0 - timedelta(days=3, hours=-1),
        input_tokens=500,
        requests=4,
        api_key_id=mine["id"],
        workspace_id=ws,
    )
    answer = command(http, kbot, slack_standin, "keys")
    assert answer["ack"]["text"] == "Working on it…"
    text = rendered(answer["reply"]["blocks"])
    assert "prod-dev-search" in text and mine["id"] in text and "AbCd...x9ZZ" in text
    assert "default-ws" in text and "active" in text and "age 100 days" in text
    assert "expires Dec 7, 2027" in text
    assert "last used Oct 30, 2026" in text
    assert "rotation overdue since Oct 23, 2026 (10 days)" in text
    assert "rotation due Jan 21, 2027 (in 80 days)" in text  # dev-dev-old
    assert "no use in the last 31 days" in text
    assert "not-mine" not in text


def test_keys_paginate_within_fifty_blocks(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    for i in range(KEYS_PER_PAGE * 2 + 5):
        add_key(anthropic_standin, f"dev-dev-k{i:03d}", owner=dev, workspace=ws, created=T0 - timedelta(days=i))
    first = command(http, kbot, slack_standin, "keys mine")["reply"]
    assert len(first["blocks"]) <= 50 and "page 1 of 3" in rendered(first["blocks"])
    assert not buttons(first["blocks"], Action.KEYS_PREV)
    (next_button,) = buttons(first["blocks"], Action.KEYS_NEXT)
    second = click(http, kbot, slack_standin, action_id=Action.KEYS_NEXT, value=next_button["value"])
    assert second["replace_original"] is True
    assert "page 2 of 3" in rendered(second["blocks"]) and len(second["blocks"]) <= 50
    assert buttons(second["blocks"], Action.KEYS_PREV) and buttons(second["blocks"], Action.KEYS_NEXT)
    shown_first = {b["text"]["text"].split("`")[1] for b in first["blocks"] if "apikey_" in json.dumps(b)}
    shown_second = {b["text"]["text"].split("`")[1] for b in second["blocks"] if "apikey_" in json.dumps(b)}
    assert len(shown_first) == len(shown_second) == KEYS_PER_PAGE and not shown_first & shown_second


def test_all_and_at_user_are_for_admins_only(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    add_key(anthropic_standin, "dev-key", owner=dev, workspace=ws, created=T0)
    add_key(anthropic_standin, "admin-key", owner=admin, workspace=ws, created=T0)
    refused = command(http, kbot, slack_standin, "keys all")["reply"]
    assert refused["text"] == "Only admins can list everyone's keys."
    refused = command(http, kbot, slack_standin, "keys <@U0ADMIN|admin>")["reply"]
    assert refused["text"] == "Only admins can list other people's keys."
    everyone = rendered(command(http, kbot, slack_standin, "keys all", user="U0ADMIN")["reply"]["blocks"])
    assert "dev-key" in everyone and "admin-key" in everyone and "dev@example.com" in everyone
    one = rendered(command(http, kbot, slack_standin, "keys <@U0DEV|dev>", user="U0ADMIN")["reply"]["blocks"])
    assert "dev-key" in one and "admin-key" not in one


@pytest.mark.parametrize(
    "text",
    [
        "keys everyone",
        "keys mine all",
        "keys @dev",
        "revoke",
        "revoke 1234",
        "rotate",
        "rotate apikey_01X apikey_02Y",
        "check",
        "check a b",
    ],
)
def test_malformed_input_gets_a_usage_line_and_touches_nothing(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, text: str
) -> None:
    anthropic_standin.reset_requests()
    answer = command(http, kbot, slack_standin, text)
    assert answer["ack"]["text"].startswith("Usage: `/claude-key ")
    assert answer["reply"] is None
    assert anthropic_standin.requests == []


def test_hostile_key_names_are_escaped_everywhere(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(
        anthropic_standin,
        "<!channel> <https://evil.example|click>",
        owner=dev,
        workspace=ws,
        created=T0 - timedelta(days=95),
    )
    listing = command(http, kbot, slack_standin, "keys")["reply"]
    confirm = command(http, kbot, slack_standin, f"revoke {key['id']}")["reply"]
    rotation = command(http, kbot, slack_standin, f"rotate {key['id']}")["reply"]
    for reply in (listing, confirm, rotation):
        shown = reply["text"] + rendered(reply["blocks"])
        assert "<!channel>" not in shown and "<https://evil" not in shown
        assert "&lt;!channel&gt;" in shown
