"""Intent rows around Admin API writes: direct invites and budget mirroring (revokes: tests/keys/
test_revoke_intents.py; spend-limit decisions: tests/spend/test_spend_decisions.py). A write that may have
happened is never reported as "nothing changed", and the reconciling jobs check it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from bot.access import intake
from bot.access import writes as access_writes
from bot.anthropic_admin import Unavailable
from bot.deps import Deps
from bot.registry import run_job
from bot.spend import budgets
from bot.spend import writes as spend_writes
from bot.writes import Intent, Outcome, explain, note, unit_of_work
from handlers.answers import compute as _compute
from storage.db import session_scope
from storage.models import AdminWrite, AdminWriteState, AuditEvent, Budget
from tests.conftest import Clock, DepsFactory

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def wdeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    return make_deps(clock=clock)


def _writes(deps: Deps) -> list[AdminWrite]:
    with session_scope(deps.engine) as session:
        return list(session.exec(select(AdminWrite).order_by(col(AdminWrite.id))))


def _actions(deps: Deps) -> list[str]:
    with session_scope(deps.engine) as session:
        return [a.action for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]


def _admin_lines(slack: Any) -> list[str]:
    return [m.text or "" for m in slack.messages("C0ADMIN") if "Checked a change" in (m.text or "")]


def _database_gone(**kwargs: Any) -> None:
    raise OperationalError("INSERT INTO audit_event", {}, Exception("server closed the connection"))


def _answer(deps: Deps, work: Any) -> str:
    reply = _compute(deps, work)
    assert reply is not None
    return reply.text


def test_a_direct_invite_is_an_intent_then_done(wdeps: Deps) -> None:
    invited = intake.invite(wdeps, slack_user_id="U0ADMIN", args=["pat@example.com", "billing"])
    assert getattr(invited, "email", None) == "pat@example.com"
    (write,) = _writes(wdeps)
    assert (write.kind, write.target, write.state) == ("invite.create", "pat@example.com", AdminWriteState.DONE)
    assert _actions(wdeps) == ["invite.created"]


def test_a_direct_invite_not_recorded_is_said_and_recorded_by_invite_sync(
    wdeps: Deps, clock: Clock, slack_standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_writes.repo, "append_audit", _database_gone)
    text = _answer(wdeps, lambda d: intake.invite(d, slack_user_id="U0ADMIN", args=["pat@example.com"]) and None)
    monkeypatch.undo()
    assert "nothing was changed" not in text and "Anthropic made the change" in text and "pat@example.com" in text
    assert _writes(wdeps)[0].state == AdminWriteState.PENDING and _actions(wdeps) == []
    clock.advance(minutes=6)
    run_job("invite-sync", wdeps, out=lambda _: None)
    (write,) = _writes(wdeps)
    assert write.state == AdminWriteState.RECONCILED
    assert _actions(wdeps) == ["invite.created"]
    (line,) = _admin_lines(slack_standin)
    assert "pat@example.com" in line and "was sent" in line


def test_a_direct_invite_without_an_answer_that_never_happened(
    wdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    anthropic_standin.inject("POST", r"/invites$", status=503, times=5, headers={"x-should-retry": "false"})
    text = _answer(wdeps, lambda d: intake.invite(d, slack_user_id="U0ADMIN", args=["sam@example.com"]) and None)
    assert "may have happened" in text and "nothing was changed" not in text
    anthropic_standin.clear_faults()
    clock.advance(minutes=6)
    run_job("invite-sync", wdeps, out=lambda _: None)
    assert _writes(wdeps)[0].state == AdminWriteState.RECONCILED
    (line,) = _admin_lines(slack_standin)
    assert "wasn't sent" in line and _actions(wdeps) == []


def test_a_budget_mirror_without_an_answer_that_happened_is_recorded(
    wdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    budgets.set_budget(wdeps, "U0ADMIN", Decimal(5000), None)
    anthropic_standin.inject(
        "POST", r"/spend_limits$", status=500, times=5, headers={"x-should-retry": "false"}, applied=True
    )
    with pytest.raises(Unavailable):
        budgets.mirror_budget(wdeps, "U0ADMIN", "org")
    anthropic_standin.clear_faults()
    clock.advance(minutes=6)
    run_job("spend-limit-requests", wdeps, out=lambda _: None)
    (write,) = [w for w in _writes(wdeps) if w.kind == spend_writes.MIRROR]
    assert write.state == AdminWriteState.RECONCILED and "recorded" in (write.outcome or "")
    with session_scope(wdeps.engine) as session:
        (row,) = session.exec(select(Budget))
        assert row.mirrored_limit_id
    assert _actions(wdeps)[-1] == "budget.mirrored"


def test_the_words_for_each_outcome() -> None:
    intent = Intent("key.status", "apikey_01", "deactivate key `ci`")
    with unit_of_work() as changes:
        assert explain(changes) is None
        change = note(intent, Outcome.UNKNOWN)
        assert "may have happened" in (explain(changes) or "")
        change.outcome = Outcome.UNRECORDED
        assert "couldn't record it here" in (explain(changes) or "")
        change.outcome = Outcome.RECORDED
        assert "the change stands" in (explain(changes) or "")
    with unit_of_work() as changes:
        assert changes == []  # a new unit starts empty on a reused thread


def test_the_reconciler_leaves_a_write_it_cannot_check_pending(
    wdeps: Deps, clock: Clock, anthropic_standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_writes.repo, "append_audit", _database_gone)
    with pytest.raises(OperationalError):
        intake.invite(wdeps, slack_user_id="U0ADMIN", args=["lee@example.com"])
    monkeypatch.undo()
    clock.advance(minutes=6)
    anthropic_standin.inject("GET", r"/invites", status=503, times=20, headers={"x-should-retry": "false"})
    result = run_job("invite-sync", wdeps, out=lambda _: None)
    assert result is not None and any("admin write" in e for e in result.errors)
    assert _writes(wdeps)[0].state == AdminWriteState.PENDING
    anthropic_standin.clear_faults()
    run_job("invite-sync", wdeps, out=lambda _: None)
    assert _writes(wdeps)[0].state == AdminWriteState.RECONCILED


def test_a_grant_whose_role_raise_was_not_recorded_still_restores_it_at_expiry(
    wdeps: Deps, clock: Clock, slack_standin, anthropic_standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process loses its database right after Anthropic raised `user` to `developer`: the approval stays
    `approved`, invite-sync first records what the lost write changed, then resumes the grant, so its expiry
    still puts the role back."""
    from bot.access import decide
    from bot.access.expiry import changes_of
    from storage.models import AccessRequest, RequestState

    slack_standin.add_user("U0VIEW", name="viewer", email="viewer@example.com")
    viewer = anthropic_standin.add_user("viewer@example.com", role="user")
    workspace_id = anthropic_standin.seeded["workspace"]["id"]
    wdeps.admin.add_workspace_member(workspace_id, viewer["id"], "workspace_developer")  # already a member
    filed = intake.request_from_args(wdeps, slack_user_id="U0VIEW", args=["default-ws", "for", "2d", "a", "test"])
    request_id = filed.request.id or 0
    monkeypatch.setattr(access_writes, "_role_audit", lambda *a, **k: _database_gone())
    with pytest.raises(OperationalError):
        decide.approve(wdeps, request_id=request_id, slack_user_id="U0ADMIN")
    monkeypatch.undo()
    assert wdeps.admin.get_user(viewer["id"]).role == "developer"

    clock.advance(minutes=6)
    run_job("invite-sync", wdeps, out=lambda _: None)
    with session_scope(wdeps.engine) as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None and request.state == RequestState.GRANTED
        changes = changes_of(request)
        assert changes is not None and changes.org_role_from == "user" and not changes.workspace_added
        assert request.grant_expires_at is not None
    clock.advance(days=3)
    run_job("request-nudges", wdeps, out=lambda _: None)
    assert wdeps.admin.get_user(viewer["id"]).role == "user"
