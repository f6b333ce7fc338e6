"""The per-key overflow menu of `/claude-key keys` (Rotate, Revoke / Deactivate, Check): chosen over HTTP as
Slack sends an overflow choice, each re-checked, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
from sqlmodel import select

from bot.deps import Deps
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import KeyRotation
from tests.botserver import post_slack
from tests.keys.support import T0, add_key, audit_actions, buttons, click, command, ids


def choose(client: httpx.Client, url: str, slack: Any, option: dict[str, Any], *, user: str = "U0DEV") -> dict:
    """Pick an option of an overflow menu, as Slack sends it; the response_url answer."""
    response_url = slack.new_response_url()
    before = len(slack.responses)
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "D0DEV", "name": "d"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "D0DEV"},
        "actions": [
            {
                "type": "overflow",
                "action_id": Action.KEY_MENU,
                "block_id": "b",
                "selected_option": option,
                "action_ts": "1700000001.000000",
            }
        ],
    }
    response = post_slack(client, url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text
    return dict(slack.wait_for_response(count=before + 1, timeout=10)[before].body)


def menu(blocks: list[dict[str, Any]], key_id: str) -> dict[str, Any]:
    (found,) = [b["accessory"] for b in blocks if b.get("accessory") and key_id in b["text"]["text"]]
    return dict(found)


def labels(element: dict[str, Any]) -> list[str]:
    return [o["text"]["text"] for o in element["options"]]


def test_each_key_has_a_menu_and_each_choice_does_what_its_command_does(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-search", owner=dev, workspace=ws, created=T0 - timedelta(days=95))["id"]
    off = add_key(
        anthropic_standin, "dev-old", owner=dev, workspace=ws, created=T0 - timedelta(days=5), status="inactive"
    )["id"]
    blocks = command(http, kbot, slack_standin, "keys")["reply"]["blocks"]
    assert message_problems(blocks) == []
    element = menu(blocks, key)
    assert element["type"] == "overflow" and labels(element) == ["Rotate", "Revoke", "Check"]
    assert menu(blocks, off)["type"] == "button"  # an inactive key can only be checked
    assert all(len(o["value"]) <= 150 for o in element["options"])
    rotate, revoke, check = element["options"]
    # Check: the diagnosis, below the list (which stays).
    checked = choose(http, kbot, slack_standin, check)
    assert checked.get("replace_original") is False and key in json.dumps(checked)
    # Revoke: the confirm step first; nothing changes until Deactivate key is pressed.
    confirm = choose(http, kbot, slack_standin, revoke)
    (deactivate,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    assert kdeps.admin.get_api_key(key).status == "active"
    # Rotate: the rotation starts, as with `/claude-key rotate`.
    started = choose(http, kbot, slack_standin, rotate)
    assert "dev-search" in json.dumps(started)
    with session_scope(kdeps.engine) as session:
        assert session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).one().started_by_slack_id == (
            "U0DEV"
        )
    # The list now shows the rotation in progress: no Rotate.
    blocks = command(http, kbot, slack_standin, "keys")["reply"]["blocks"]
    assert labels(menu(blocks, key)) == ["Revoke", "Check"]
    done = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=deactivate["value"])
    assert done["text"].startswith(":lock: Deactivated")
    assert kdeps.admin.get_api_key(key).status == "inactive"
    assert audit_actions(kdeps, key)[-1] == "key.revoked"
    # A key that is off can only be checked.
    blocks = command(http, kbot, slack_standin, "keys")["reply"]["blocks"]
    only = menu(blocks, key)
    assert only["type"] == "button" and only["text"]["text"] == "Check"


def test_admins_list_has_deactivate_and_others_are_refused(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-search", owner=dev, workspace=ws, created=T0 - timedelta(days=5))["id"]
    blocks = command(http, kbot, slack_standin, "keys all", user="U0ADMIN")["reply"]["blocks"]
    assert message_problems(blocks) == []
    element = menu(blocks, key)
    assert labels(element) == ["Rotate", "Deactivate", "Check"]
    rotate, deactivate, check = element["options"]
    # Someone else picking from a forwarded menu is refused by each choice, and nothing changes.
    anthropic_standin.add_user("other@example.com", role="developer")
    slack_standin.add_user("U0OTHER", name="other", email="other@example.com")
    for option in (rotate, deactivate, check):
        refused = choose(http, kbot, slack_standin, option, user="U0OTHER")
        assert "belongs to someone else" in json.dumps(refused), refused
    assert kdeps.admin.get_api_key(key).status == "active" and audit_actions(kdeps, key) == []
    confirm = choose(http, kbot, slack_standin, deactivate, user="U0ADMIN")
    assert buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    forged = choose(http, kbot, slack_standin, {"text": {"type": "plain_text", "text": "x"}, "value": '{"a":"drop"}'})
    assert "no longer active" in forged["text"]
