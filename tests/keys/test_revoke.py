"""`/claude-key revoke` end to end over HTTP, on SQLite and PostgreSQL: confirm, cancel, permissions, and a failed
deactivation."""

from __future__ import annotations

import time

import httpx

from bot.deps import Deps
from bot.slack.ids import Action
from handlers.middleware import STALE_BUTTON
from tests.keys.support import T0, add_key, audit_actions, buttons, click, command, ids, rendered


def test_owner_revokes_own_key_after_confirming(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-leaky", owner=dev, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {key['id']} pasted it in a <!channel> thread")["reply"]
    shown = confirm["blocks"][0]["text"]["text"]  # the button value carries the raw reason; only text is shown
    assert "dev-dev-leaky" in shown and key["id"] in shown and "&lt;!channel&gt;" in shown and "<!" not in shown
    assert anthropic_standin.count("POST", f"/v1/organizations/api_keys/{key['id']}") == 0  # nothing yet
    (button,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    done = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=button["value"])
    assert "Deactivated" in done["text"]
    assert kdeps.admin.get_api_key(key["id"]).status == "inactive"
    assert audit_actions(kdeps, key["id"]) == ["key.revoked"]
    (notice,) = [m for m in slack_standin.messages("C0ADMIN") if key["id"] in (m.text or "")]
    assert "<@U0DEV>" in notice.text and "pasted it in a &lt;!channel&gt; thread" in rendered(notice.blocks)


def test_cancel_changes_nothing(kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-keep", owner=dev, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {key['id']}")["reply"]
    (cancel,) = buttons(confirm["blocks"], Action.REVOKE_CANCEL)
    answer = click(http, kbot, slack_standin, action_id=Action.REVOKE_CANCEL, value=cancel["value"])
    assert answer["text"].startswith("Cancelled") and answer["replace_original"] is True
    assert kdeps.admin.get_api_key(key["id"]).status == "active"
    assert audit_actions(kdeps, key["id"]) == []


def test_revoke_permission_rules(kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps) -> None:
    dev, admin, ws = ids(anthropic_standin)
    admins = add_key(anthropic_standin, "prod-admin-billing", owner=admin, workspace=ws, created=T0)
    devs = add_key(anthropic_standin, "dev-dev-x", owner=dev, workspace=ws, created=T0)
    inactive = add_key(anthropic_standin, "dev-dev-off", owner=dev, workspace=ws, created=T0, status="inactive")
    archived = add_key(anthropic_standin, "dev-dev-gone", owner=dev, workspace=ws, created=T0, status="archived")
    slack_standin.add_user("U0STRANGER", name="stranger", email="stranger@example.com")

    def reply(text: str, user: str = "U0DEV") -> str:
        return str(command(http, kbot, slack_standin, text, user=user)["reply"]["text"])

    assert reply(f"revoke {admins['id']}") == (
        f"Key `{admins['id']}` belongs to someone else: only its owner or an admin can revoke it."
    )
    assert reply("revoke apikey_01DOESNOTEXIST") == (
        "There is no key `apikey_01DOESNOTEXIST` in the Anthropic organization."
    )
    assert reply(f"revoke {inactive['id']}") == (
        f"Key `{inactive['id']}` is already inactive; there is nothing to revoke."
    )
    assert reply(f"revoke {archived['id']}") == (
        f"Key `{archived['id']}` is archived: it can't be used or changed any more."
    )
    assert reply(f"revoke {devs['id']}", user="U0STRANGER").startswith(
        "You aren't a member of the Anthropic organization yet"
    )
    # An admin may revoke anyone's key; the click re-checks the state.
    confirm = command(http, kbot, slack_standin, f"revoke {devs['id']} offboarding", user="U0ADMIN")["reply"]
    (button,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    done = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=button["value"], user="U0ADMIN")
    assert "Deactivated" in done["text"]
    again = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=button["value"], user="U0ADMIN")
    assert again["text"] == f"Key `{devs['id']}` is already inactive; there is nothing to revoke."
    assert audit_actions(kdeps, devs["id"]) == ["key.revoked"]
    # A confirm button of the owner, clicked by someone else, is refused.
    mine = add_key(anthropic_standin, "prod-admin-two", owner=admin, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {mine['id']}", user="U0ADMIN")["reply"]
    (button,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    forged = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=button["value"], user="U0DEV")
    assert "belongs to someone else" in forged["text"]
    assert kdeps.admin.get_api_key(mine["id"]).status == "active"


def test_a_failed_deactivation_leaves_no_audit_row(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-y", owner=dev, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {key['id']}")["reply"]
    (button,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    anthropic_standin.inject(
        "POST", f"/api_keys/{key['id']}$", status=500, times=5, headers={"x-should-retry": "false"}
    )
    failed = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=button["value"])
    assert "may have happened" in failed["text"] and "nothing was changed" not in failed["text"]
    assert audit_actions(kdeps, key["id"]) == []
    assert kdeps.admin.get_api_key(key["id"]).status == "active"


def test_a_stale_button_is_answered_once(kbot: str, http: httpx.Client, slack_standin) -> None:
    before = len(slack_standin.responses)
    answer = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value="not a payload")
    assert answer["text"] == STALE_BUTTON and answer["replace_original"] is False
    time.sleep(0.5)  # a second answer (the catch-all listener's) would have arrived by now
    assert len(slack_standin.responses) == before + 1
