"""`/claude-key keys | revoke | check` end to end over HTTP, on SQLite and PostgreSQL."""
# ruff: noqa: F811  (the shared fixtures from tests/test_keys_support.py are imported, then requested by name)

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from bot.deps import Deps
from bot.slack.ids import Action
from bot.slack.keys_blocks import KEYS_PER_PAGE
from tests.test_keys_support import (  # noqa: F401 - fixtures
    T0,
    Clock,
    add_key,
    audit_actions,
    buttons,
    click,
    clock,
    command,
    http,
    ids,
    kbot,
    kdeps,
    rendered,
)


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
    assert "expires 2027-12-07" in text
    assert "last used 2026-10-30" in text
    assert "rotation overdue since 2026-10-23 (10 days)" in text
    assert "rotation due 2027-01-21 (in 80 days)" in text  # dev-dev-old
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


# --- revoke ---------------------------------------------------------------------------------------------------


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
    assert "trouble" in failed["text"]
    assert audit_actions(kdeps, key["id"]) == []
    assert kdeps.admin.get_api_key(key["id"]).status == "active"


# --- check ----------------------------------------------------------------------------------------------------


def _check(http: httpx.Client, url: str, slack, query: str, user: str = "U0DEV") -> str:  # type: ignore[no-untyped-def]
    reply = command(http, url, slack, f"check {query}", user=user)["reply"]
    return reply["text"] + "\n" + rendered(reply.get("blocks"))


def test_check_diagnoses_each_failure_kind(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    anthropic_standin.usage_tier_amount = None
    anthropic_standin.data_refreshed_at = T0
    healthy = add_key(anthropic_standin, "dev-dev-fine", owner=dev, workspace=ws, created=T0 - timedelta(days=5))
    assert "Nothing the Admin API can see stops this key" in _check(http, kbot, slack_standin, healthy["id"])

    off = add_key(anthropic_standin, "dev-dev-off", owner=dev, workspace=ws, created=T0)
    confirm = command(http, kbot, slack_standin, f"revoke {off['id']} leaked", user="U0ADMIN")["reply"]
    click(
        http,
        kbot,
        slack_standin,
        action_id=Action.REVOKE_CONFIRM,
        value=buttons(confirm["blocks"], Action.REVOKE_CONFIRM)[0]["value"],
        user="U0ADMIN",
    )
    text = _check(http, kbot, slack_standin, off["id"])
    assert "fails because it was deactivated by &lt;@U0ADMIN&gt;" in text or "deactivated by <@U0ADMIN>" in text
    assert "(leaked)" in text

    archived = add_key(anthropic_standin, "dev-dev-arch", owner=dev, workspace=ws, created=T0, status="archived")
    assert "fails because it is archived" in _check(http, kbot, slack_standin, archived["id"])

    expired = add_key(
        anthropic_standin,
        "dev-dev-exp",
        owner=dev,
        workspace=ws,
        created=T0 - timedelta(days=40),
        expires_at=T0 - timedelta(days=1),
    )
    assert "fails because it expired on 2026-11-01" in _check(http, kbot, slack_standin, expired["id"])

    old_ws = anthropic_standin.add_workspace("old-team", archived=True)
    orphan = add_key(anthropic_standin, "dev-dev-orphan", owner=dev, workspace=old_ws["id"], created=T0)
    assert "its workspace *old-team* was archived" in _check(http, kbot, slack_standin, orphan["id"])

    busy = add_key(anthropic_standin, "dev-dev-busy", owner=dev, workspace=ws, created=T0 - timedelta(days=3))
    minute = T0 - timedelta(hours=2)
    anthropic_standin.add_usage(
        starting_at=minute,
        ending_at=minute + timedelta(minutes=1),
        input_tokens=9000,
        requests=80,
        api_key_id=busy["id"],
        workspace_id=ws,
    )
    text = _check(http, kbot, slack_standin, busy["id"])
    assert "fails because it was probably rate-limited" in text and "80 requests" in text

    # Spend limits: the workspace's, then the organization's.
    anthropic_standin.add_spend_limit({"type": "workspace", "workspace_id": ws}, amount="10000")  # $100
    anthropic_standin.add_cost(starting_at=T0 - timedelta(days=1), ending_at=T0, amount_cents="12000", workspace_id=ws)
    text = _check(http, kbot, slack_standin, healthy["id"])
    assert "its workspace has reached its monthly spend limit ($120.00 of $100.00)" in text
    anthropic_standin.add_spend_limit({"type": "workspace", "workspace_id": ws}, amount="1000000")
    anthropic_standin.add_spend_limit("organization", amount="11000")  # $110
    text = _check(http, kbot, slack_standin, healthy["id"])
    assert "the organization has reached its monthly spend limit ($120.00 of $110.00)" in text
    assert "workspace has reached" not in text


def test_check_by_hint_and_refusals(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, admin, ws = ids(anthropic_standin)
    mine = add_key(
        anthropic_standin, "dev-dev-h", owner=dev, workspace=ws, created=T0, partial_key_hint="sk-ant-api03-Qr7x...4f2a"
    )
    theirs = add_key(
        anthropic_standin,
        "prod-admin-h",
        owner=admin,
        workspace=ws,
        created=T0,
        partial_key_hint="sk-ant-api03-Zz9y...7b7b",
    )
    assert mine["id"] in _check(http, kbot, slack_standin, "…4f2a")
    assert "No key among your keys has a hint matching" in _check(http, kbot, slack_standin, "7b7b")
    assert theirs["id"] in _check(http, kbot, slack_standin, "7b7b", user="U0ADMIN")
    assert "belongs to someone else" in _check(http, kbot, slack_standin, theirs["id"])
    secret = "sk-ant-api03-" + "A" * 40
    assert "looks like a whole secret key" in _check(http, kbot, slack_standin, secret)
    assert "at least 4 characters" in _check(http, kbot, slack_standin, "4f")


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
