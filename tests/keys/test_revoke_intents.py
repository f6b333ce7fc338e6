"""A revoke whose outcome the bot could not record is never reported as "nothing changed", and `key-adoption`
checks it against the API afterwards (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.deps import Deps
from bot.registry import run_job
from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import AdminWrite, AdminWriteState
from tests.conftest import Clock
from tests.keys.support import T0, add_key, audit_actions, buttons, click, command, ids


def _writes(deps: Deps) -> list[AdminWrite]:
    with session_scope(deps.engine) as session:
        return list(session.exec(select(AdminWrite).order_by(AdminWrite.id)))  # type: ignore[arg-type]


def _confirm(http: httpx.Client, kbot: str, slack: Any, key_id: str, reason: str = "leaked") -> str:
    confirm = command(http, kbot, slack, f"revoke {key_id} {reason}")["reply"]
    (button,) = buttons(confirm["blocks"], Action.REVOKE_CONFIRM)
    return str(button["value"])


def _admin_lines(slack: Any) -> list[str]:
    return [m.text or "" for m in slack.messages("C0ADMIN") if "Checked a change" in (m.text or "")]


def test_a_revoke_recorded_fully_leaves_a_done_intent(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-ok", owner=dev, workspace=ws, created=T0)
    value = _confirm(http, kbot, slack_standin, key["id"])
    assert "Deactivated" in click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=value)["text"]
    (write,) = _writes(kdeps)
    assert (write.kind, write.target, write.state) == ("key.status", key["id"], AdminWriteState.DONE)
    assert write.actor_slack_id == "U0DEV"


def test_a_refused_revoke_is_a_failed_intent_and_says_nothing_changed(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-refused", owner=dev, workspace=ws, created=T0)
    value = _confirm(http, kbot, slack_standin, key["id"])
    anthropic_standin.inject("POST", f"/api_keys/{key['id']}$", status=403, error_type="permission_error")
    answer = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=value)["text"]
    assert "isn't allowed" in answer and "may have happened" not in answer
    (write,) = _writes(kdeps)
    assert write.state == AdminWriteState.FAILED
    assert kdeps.admin.get_api_key(key["id"]).status == "active"


def test_a_revoke_made_but_not_recorded_is_said_and_then_recorded(
    kbot: str,
    http: httpx.Client,
    slack_standin,
    anthropic_standin,
    kdeps: Deps,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-unrecorded", owner=dev, workspace=ws, created=T0)
    value = _confirm(http, kbot, slack_standin, key["id"])
    import bot.keys.writes as writes

    real_audit = writes.repo.append_audit

    def database_gone(**kwargs: Any) -> None:
        raise OperationalError("INSERT INTO audit_event", {}, Exception("server closed the connection"))

    monkeypatch.setattr(writes.repo, "append_audit", database_gone)
    answer = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=value)["text"]
    monkeypatch.setattr(writes.repo, "append_audit", real_audit)

    assert "nothing was changed" not in answer
    assert "Anthropic made the change" in answer and "dev-dev-unrecorded" in answer
    assert kdeps.admin.get_api_key(key["id"]).status == "inactive"
    assert audit_actions(kdeps, key["id"]) == []
    (write,) = _writes(kdeps)
    assert write.state == AdminWriteState.PENDING

    # Too early: the write may still be in flight.
    run_job("key-adoption", kdeps, out=lambda _: None)
    assert _writes(kdeps)[0].state == AdminWriteState.PENDING
    clock.advance(minutes=6)
    run_job("key-adoption", kdeps, out=lambda _: None)
    (write,) = _writes(kdeps)
    assert write.state == AdminWriteState.RECONCILED and "recorded" in (write.outcome or "")
    assert audit_actions(kdeps, key["id"]) == ["key.revoked"]
    (line,) = _admin_lines(slack_standin)
    assert "dev-dev-unrecorded" in line and "inactive" in line and "<@U0DEV>" in line
    run_job("key-adoption", kdeps, out=lambda _: None)  # a rerun repeats nothing
    assert audit_actions(kdeps, key["id"]) == ["key.revoked"] and len(_admin_lines(slack_standin)) == 1


@pytest.mark.parametrize("applied", [False, True], ids=["not-applied", "applied"])
def test_a_revoke_without_a_clear_answer_is_checked(
    applied: bool, kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps, clock: Clock
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-unclear", owner=dev, workspace=ws, created=T0)
    value = _confirm(http, kbot, slack_standin, key["id"])
    anthropic_standin.inject(
        "POST", f"/api_keys/{key['id']}$", status=500, times=5, headers={"x-should-retry": "false"}, applied=applied
    )
    answer = click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=value)["text"]
    assert "nothing was changed" not in answer and "may have happened" in answer
    assert kdeps.admin.get_api_key(key["id"]).status == ("inactive" if applied else "active")
    clock.advance(minutes=6)
    run_job("key-adoption", kdeps, out=lambda _: None)
    (write,) = _writes(kdeps)
    assert write.state == AdminWriteState.RECONCILED
    (line,) = _admin_lines(slack_standin)
    if applied:
        assert audit_actions(kdeps, key["id"]) == ["key.revoked"] and "recorded" in line
    else:
        assert audit_actions(kdeps, key["id"]) == [] and "didn't happen" in line


def test_a_nul_byte_in_the_reason_is_recorded_without_it(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    key = add_key(anthropic_standin, "dev-dev-nul", owner=dev, workspace=ws, created=T0)
    value = _confirm(http, kbot, slack_standin, key["id"], reason="pasted\x00it")
    assert "Deactivated" in click(http, kbot, slack_standin, action_id=Action.REVOKE_CONFIRM, value=value)["text"]
    assert audit_actions(kdeps, key["id"]) == ["key.revoked"]
    assert _writes(kdeps)[0].state == AdminWriteState.DONE
