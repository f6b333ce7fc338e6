"""`/claude-key role` and `/claude-key offboard` end to end over HTTP, on SQLite and PostgreSQL: a confirm that
writes nothing, the confirmed change, Cancel, and bad input answered with the usage line."""

from __future__ import annotations

from typing import Any

import httpx

from bot.deps import Deps
from bot.slack.ids import Action
from tests.keys.support import add_key, buttons, click, command, ids, rendered


def _writes(admin: Any) -> int:
    return len([r for r in admin.requests if r.method in ("POST", "DELETE")])


def test_role_by_mention_is_confirmed_then_changed(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    anthropic_standin.reset_requests()
    confirm = command(http, kbot, slack_standin, "role <@U0DEV> billing", user="U0ADMIN")["reply"]
    assert "from `developer` to `billing`" in confirm["text"] and _writes(anthropic_standin) == 0
    (button,) = buttons(confirm["blocks"], Action.ROLE_CONFIRM)
    done = click(http, kbot, slack_standin, action_id=Action.ROLE_CONFIRM, value=button["value"], user="U0ADMIN")
    assert done["text"].startswith("Done: dev@example.com is now `billing`")
    assert kdeps.admin.find_user_by_email("dev@example.com").role == "billing"  # type: ignore[union-attr]
    again = click(http, kbot, slack_standin, action_id=Action.ROLE_CONFIRM, value=button["value"], user="U0ADMIN")
    assert "changed to `billing` since you asked" in again["text"]  # a second click changes nothing


def test_role_cancel_and_bad_input(kbot: str, http: httpx.Client, slack_standin, anthropic_standin) -> None:
    confirm = command(http, kbot, slack_standin, "role dev@example.com user", user="U0ADMIN")["reply"]
    (cancel,) = buttons(confirm["blocks"], Action.ROLE_CANCEL)
    answer = click(http, kbot, slack_standin, action_id=Action.ROLE_CANCEL, value=cancel["value"], user="U0ADMIN")
    assert answer["text"].startswith("Cancelled")
    assert command(http, kbot, slack_standin, "role dev@example.com", user="U0ADMIN")["ack"]["text"].startswith(
        "Usage: `/claude-key role"
    )
    bad = command(http, kbot, slack_standin, "role not-an-email user", user="U0ADMIN")["reply"]["text"]
    assert "neither a @mention nor an email" in bad
    refused = command(http, kbot, slack_standin, "role dev@example.com admin", user="U0ADMIN")["reply"]["text"]
    assert "can't make anyone an admin" in refused
    assert _writes(anthropic_standin) == 0


def test_offboard_shows_the_plan_then_does_it(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    _, _, ws = ids(anthropic_standin)
    person = anthropic_standin.add_user("leaver@example.com", role="developer")
    anthropic_standin.add_member(ws, person["id"])
    add_key(anthropic_standin, "leaver-ci", owner=person["id"], workspace=ws, created=kdeps.clock())
    anthropic_standin.reset_requests()
    confirm = command(http, kbot, slack_standin, "offboard leaver@example.com moved on", user="U0ADMIN")["reply"]
    shown = rendered(confirm["blocks"])
    assert "leaver-ci" in shown and "default-ws" in shown and "removed from the Anthropic organization" in shown
    assert _writes(anthropic_standin) == 0  # nothing before the confirm
    (button,) = buttons(confirm["blocks"], Action.OFFBOARD_CONFIRM)
    assert button["confirm"]["text"]["type"] == "plain_text"
    done = click(http, kbot, slack_standin, action_id=Action.OFFBOARD_CONFIRM, value=button["value"], user="U0ADMIN")
    assert done["text"].startswith("Offboarded leaver@example.com")
    assert kdeps.admin.find_user_by_email("leaver@example.com") is None
    assert {k.status for k in kdeps.admin.list_api_keys(created_by_user_id=person["id"])} == {"inactive"}
    again = click(http, kbot, slack_standin, action_id=Action.OFFBOARD_CONFIRM, value=button["value"], user="U0ADMIN")
    assert "Nothing was left to do" in again["text"]
    nothing = command(http, kbot, slack_standin, "offboard nobody@example.com", user="U0ADMIN")["reply"]["text"]
    assert "nothing to offboard" in nothing


def test_offboard_is_for_admins(kbot: str, http: httpx.Client, slack_standin, anthropic_standin) -> None:
    answer = command(http, kbot, slack_standin, "offboard admin@example.com", user="U0DEV")["reply"]["text"]
    assert "Only admins can offboard" in answer
    mine = command(http, kbot, slack_standin, "offboard admin@example.com", user="U0ADMIN")["reply"]["text"]
    assert "can't offboard yourself" in mine
