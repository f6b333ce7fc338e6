"""`/claude-key members invites` end to end over HTTP, on SQLite and PostgreSQL: pending and expired invites with
their age and expiry; Withdraw and Re-invite (delete + create) behind confirm dialogs, refused for non-admins,
each through an intent row with an audit row and an admin-channel line; a request waiting on the invite is
cancelled or follows the new one; an interrupted withdrawal is settled by the reconciler."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.deps import Deps
from bot.registry import run_job
from bot.slack.ids import Action
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, AdminWrite, AdminWriteState, RequestKind, RequestState
from tests.conftest import Clock
from tests.keys.support import audit_actions, buttons, click, command, rendered


@pytest.fixture
def clock(anthropic_standin) -> Clock:
    """The real time: the stand-in decides invite expiry by it."""
    return Clock(datetime.now(UTC).replace(microsecond=0), anthropic_standin)


def _invites(admin: Any, clock: Clock) -> tuple[dict[str, Any], dict[str, Any]]:
    now = clock.now
    pending = admin.add_invite(
        "pat@example.com", role="user", invited_at=now - timedelta(days=2), expires_at=now + timedelta(days=5, hours=1)
    )
    expired = admin.add_invite(
        "old@example.com", role="developer", invited_at=now - timedelta(days=30), expires_at=now - timedelta(days=9)
    )
    admin.add_invite("joined@example.com", status="accepted")
    return pending, expired


def _writes(admin: Any) -> list[str]:
    return [f"{r.method} {r.path}" for r in admin.requests if r.method in ("POST", "DELETE")]


def _row(reply: dict[str, Any], email: str) -> tuple[str, list[dict[str, Any]]]:
    """The section naming `email` and the buttons in the actions block after it."""
    blocks = reply["blocks"]
    for n, block in enumerate(blocks):
        if block["type"] == "section" and email in block["text"]["text"]:
            after = blocks[n + 1] if n + 1 < len(blocks) and blocks[n + 1]["type"] == "actions" else {}
            return block["text"]["text"], list(after.get("elements") or [])
    raise AssertionError(f"no row for {email}")


def test_the_list_shows_pending_and_expired_with_their_buttons(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, clock: Clock
) -> None:
    _invites(anthropic_standin, clock)
    anthropic_standin.reset_requests()
    reply = command(http, kbot, slack_standin, "members invites", user="U0ADMIN")["reply"]
    assert "1 pending · 1 expired" in rendered(reply["blocks"])
    assert "joined@example.com" not in rendered(reply["blocks"])
    pending, pending_buttons = _row(reply, "pat@example.com")
    assert " · user · " in pending and "(2 days ago)" in pending and "expires in 5 days" in pending
    assert [b["action_id"] for b in pending_buttons] == [Action.INVITE_WITHDRAW, Action.INVITE_REINVITE]
    assert all(b["confirm"]["text"]["type"] == "plain_text" for b in pending_buttons)
    expired, expired_buttons = _row(reply, "old@example.com")
    assert "expired 9 days ago" in expired
    assert [b["action_id"] for b in expired_buttons] == [Action.INVITE_REINVITE]  # nothing left to withdraw
    assert _writes(anthropic_standin) == []


def test_billing_sees_invites_without_buttons(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, clock: Clock
) -> None:
    _invites(anthropic_standin, clock)
    anthropic_standin.add_user("bill@example.com", role="billing")
    slack_standin.add_user("U0BILL", name="bill", email="bill@example.com")
    reply = command(http, kbot, slack_standin, "members invites", user="U0BILL")["reply"]
    assert "pat@example.com" in rendered(reply["blocks"])
    assert not buttons(reply["blocks"], Action.INVITE_WITHDRAW) and not buttons(reply["blocks"], Action.INVITE_REINVITE)
    assert "only admins can withdraw" in rendered(reply["blocks"])


def test_withdraw_is_confirmed_admin_only_audited_and_told(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    pending, _ = _invites(anthropic_standin, clock)
    with session_scope(kdeps.engine) as session:
        request = AccessRequest(
            kind=RequestKind.INVITE,
            state=RequestState.INVITED,
            requester_slack_id="U0DEV",
            invitee_email="pat@example.com",
            invite_id=pending["id"],
            role="user",
        )
        session.add(request)
        session.flush()
        request_id = request.id
    reply = command(http, kbot, slack_standin, "members invites", user="U0ADMIN")["reply"]
    _, (withdraw, _) = _row(reply, "pat@example.com")
    anthropic_standin.reset_requests()
    refused = click(http, kbot, slack_standin, action_id=Action.INVITE_WITHDRAW, value=withdraw["value"], user="U0DEV")
    assert "Only admins can withdraw or re-send invites" in refused["text"] and _writes(anthropic_standin) == []

    done = click(http, kbot, slack_standin, action_id=Action.INVITE_WITHDRAW, value=withdraw["value"], user="U0ADMIN")
    assert done["text"].startswith("Withdrawn: the invite for pat@example.com")
    assert f"Request #{request_id} was waiting on it and is cancelled" in done["text"]
    assert _writes(anthropic_standin) == [f"DELETE /v1/organizations/invites/{pending['id']}"]
    assert not kdeps.admin.list_invites(email="pat@example.com", statuses=["pending"])
    assert audit_actions(kdeps, pending["id"]) == ["invite.withdrawn"]
    assert any("withdrew the invite for pat@example.com" in (m.text or "") for m in slack_standin.messages("C0ADMIN"))
    with session_scope(kdeps.engine) as session:
        assert session.get(AccessRequest, request_id).state == RequestState.CANCELLED  # type: ignore[union-attr]
        (write,) = session.exec(select(AdminWrite).where(col(AdminWrite.kind) == "invite.delete"))
        assert write.state == AdminWriteState.DONE and write.target == pending["id"]

    again = click(http, kbot, slack_standin, action_id=Action.INVITE_WITHDRAW, value=withdraw["value"], user="U0ADMIN")
    assert "no longer there" in again["text"]


def test_reinvite_withdraws_then_sends_a_new_invite_and_the_request_follows_it(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    pending, expired = _invites(anthropic_standin, clock)
    with session_scope(kdeps.engine) as session:
        request = AccessRequest(
            kind=RequestKind.INVITE,
            state=RequestState.INVITED,
            requester_slack_id="U0DEV",
            invitee_email="pat@example.com",
            invite_id=pending["id"],
            role="user",
        )
        session.add(request)
        session.flush()
        request_id = request.id
    reply = command(http, kbot, slack_standin, "members invites", user="U0ADMIN")["reply"]
    _, (_, again) = _row(reply, "pat@example.com")
    anthropic_standin.reset_requests()
    refused = click(http, kbot, slack_standin, action_id=Action.INVITE_REINVITE, value=again["value"], user="U0DEV")
    assert "Only admins can withdraw or re-send invites" in refused["text"] and _writes(anthropic_standin) == []

    done = click(http, kbot, slack_standin, action_id=Action.INVITE_REINVITE, value=again["value"], user="U0ADMIN")
    assert done["text"].startswith("Re-invited pat@example.com as user: the old invite was withdrawn")
    assert _writes(anthropic_standin) == [
        f"DELETE /v1/organizations/invites/{pending['id']}",
        "POST /v1/organizations/invites",
    ]
    (fresh,) = kdeps.admin.list_invites(email="pat@example.com", statuses=["pending"])
    assert fresh.id != pending["id"] and fresh.role == "user"
    assert audit_actions(kdeps, pending["id"]) == ["invite.withdrawn"]
    assert audit_actions(kdeps, fresh.id) == ["invite.created"]
    assert any("re-sent the invite for pat@example.com" in (m.text or "") for m in slack_standin.messages("C0ADMIN"))
    with session_scope(kdeps.engine) as session:
        row = session.get(AccessRequest, request_id)
        assert row is not None and row.invite_id == fresh.id and row.state == RequestState.INVITED

    # an expired invite can't be deleted: Re-invite only sends a new one
    _, (old,) = _row(command(http, kbot, slack_standin, "members invites", user="U0ADMIN")["reply"], "old@example.com")
    anthropic_standin.reset_requests()
    sent = click(http, kbot, slack_standin, action_id=Action.INVITE_REINVITE, value=old["value"], user="U0ADMIN")
    assert sent["text"].startswith("Re-invited old@example.com as developer: a new invite")
    assert _writes(anthropic_standin) == ["POST /v1/organizations/invites"]
    assert expired["id"] not in {i.id for i in kdeps.admin.list_invites(statuses=["pending"])}


def test_an_admin_invite_is_not_offered_again(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, clock: Clock
) -> None:
    invite = anthropic_standin.add_invite("boss@example.com", role="admin")
    reply = command(http, kbot, slack_standin, "members invites", user="U0ADMIN")["reply"]
    _, row = _row(reply, "boss@example.com")
    assert [b["action_id"] for b in row] == [Action.INVITE_WITHDRAW]
    anthropic_standin.reset_requests()
    value = json.dumps({"i": invite["id"], "e": "boss@example.com"})
    told = click(http, kbot, slack_standin, action_id=Action.INVITE_REINVITE, value=value, user="U0ADMIN")
    assert "re-send it in the Claude Console" in told["text"] and _writes(anthropic_standin) == []


def test_an_interrupted_withdrawal_is_settled_by_the_reconciler(
    anthropic_standin, kdeps: Deps, clock: Clock, slack_standin
) -> None:
    pending, _ = _invites(anthropic_standin, clock)
    payload = {"invite_id": pending["id"], "email": "pat@example.com", "role": "user", "actor_slack_id": "U0ADMIN"}
    with session_scope(kdeps.engine) as session:
        repo.begin_write(
            session=session,
            kind="invite.delete",
            target=pending["id"],
            payload=json.dumps(payload),
            actor_slack_id="U0ADMIN",
            at=clock.now - timedelta(minutes=10),
        )
    kdeps.admin.delete_invite(pending["id"])  # the call went through; recording it didn't
    result = run_job("invite-sync", kdeps, out=lambda _: None)
    assert result is not None and not result.errors
    with session_scope(kdeps.engine) as session:
        (write,) = session.exec(select(AdminWrite).where(col(AdminWrite.kind) == "invite.delete"))
        assert write.state == AdminWriteState.RECONCILED and "withdrawn" in (write.outcome or "")
    assert audit_actions(kdeps, pending["id"]) == ["invite.withdrawn"]
