"""Offboarding a leaver (the service under `/claude-key offboard`), on SQLite and PostgreSQL against the stand-ins:
a plan that writes nothing, then keys off, workspaces and org left, invites withdrawn, open requests cancelled;
a rerun after a failure half way does only what is left; a former member's keys are still found."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from bot.anthropic_admin import AdminAPIError
from bot.deps import Deps
from bot.identity import resolve_actor
from bot.team.offboard import offboard, plan
from storage.db import session_scope
from storage.models import AuditEvent, IdentityLink
from tests.conftest import DepsFactory


@pytest.fixture
def odeps(make_deps: DepsFactory) -> Deps:
    return make_deps()


def _writes(admin: Any) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in admin.requests if r.method in ("POST", "DELETE")]


def _actions(deps: Deps) -> list[str]:
    with session_scope(deps.engine) as session:
        return [a.action for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]


def _leaver(admin: Any) -> dict[str, Any]:
    person = admin.add_user("leaver@example.com", name="Lee Ver", role="developer")
    workspace = admin.seeded["workspace"]["id"]
    other = admin.add_workspace("research")["id"]
    for ws in (workspace, other):
        admin.add_member(ws, person["id"])
    admin.add_api_key(name="lee-ci", workspace_id=workspace, created_by_user_id=person["id"])
    admin.add_api_key(name="lee-notebook", workspace_id=other, created_by_user_id=person["id"])
    admin.add_api_key(name="lee-old", workspace_id=other, created_by_user_id=person["id"], status="inactive")
    return person


def test_the_plan_names_everything_and_writes_nothing(odeps: Deps, anthropic_standin) -> None:
    _leaver(anthropic_standin)
    anthropic_standin.reset_requests()
    shown = plan(odeps, "Leaver@Example.com ")
    assert sorted(k.name for k in shown.keys) == ["lee-ci", "lee-notebook"]  # active keys only
    assert sorted(name for _, name in shown.workspaces) == ["default-ws", "research"]
    assert shown.member is not None and shown.member.email == "leaver@example.com"
    assert _writes(anthropic_standin) == []
    assert _actions(odeps) == []


def test_offboarding_does_each_step_with_an_audit_row_and_a_thread_reply(
    odeps: Deps, anthropic_standin, slack_standin
) -> None:
    person = _leaver(anthropic_standin)
    anthropic_standin.add_invite("leaver@example.com")  # a stale invite for the same address
    admin = resolve_actor(odeps, "U0ADMIN", privileged=True)
    offboard(odeps, "leaver@example.com", admin, reason="left the company")
    keys = odeps.admin.list_api_keys(created_by_user_id=person["id"])
    assert {k.status for k in keys} == {"inactive"}
    assert odeps.admin.find_user_by_email("leaver@example.com") is None
    assert odeps.admin.list_invites(email="leaver@example.com", statuses=["pending"]) == []
    assert _actions(odeps) == [
        "key.offboarded",
        "key.offboarded",
        "workspace.member_removed",
        "workspace.member_removed",
        "user.removed",
        "invite.withdrawn",
    ]
    (root,) = [m for m in slack_standin.messages("C0ADMIN") if m.thread_ts is None and "offboarding" in (m.text or "")]
    replies = [m.text for m in slack_standin.messages("C0ADMIN") if m.thread_ts == root.ts]
    assert "<@U0ADMIN>" in root.text and "left the company" in root.text
    assert any("lee-ci" in (r or "") for r in replies) and any("organization" in (r or "") for r in replies)
    assert any("withdrawn" in (r or "") for r in replies)
    assert plan(odeps, "leaver@example.com").empty


def test_a_rerun_after_a_failure_half_way_does_only_what_is_left(odeps: Deps, anthropic_standin) -> None:
    person = _leaver(anthropic_standin)
    admin = resolve_actor(odeps, "U0ADMIN", privileged=True)
    anthropic_standin.inject("DELETE", f"/users/{person['id']}$", status=403, error_type="permission_error")
    with pytest.raises(AdminAPIError):
        offboard(odeps, "leaver@example.com", admin, reason="")
    assert odeps.admin.find_user_by_email("leaver@example.com") is not None  # the org step failed
    anthropic_standin.reset_requests()
    offboard(odeps, "leaver@example.com", admin, reason="")
    writes = _writes(anthropic_standin)
    assert writes == [("DELETE", f"/v1/organizations/users/{person['id']}")]  # keys and workspaces not again
    assert _actions(odeps).count("key.offboarded") == 2


def test_a_former_member_still_loses_their_keys(odeps: Deps, anthropic_standin) -> None:
    person = _leaver(anthropic_standin)
    with session_scope(odeps.engine) as session:  # the bot knew them by email before they left
        session.add(IdentityLink(slack_user_id="U0LEE", email="leaver@example.com", anthropic_user_id=person["id"]))
    odeps.admin.remove_user(person["id"])
    shown = plan(odeps, "leaver@example.com")
    assert shown.member is None and sorted(k.name for k in shown.keys) == ["lee-ci", "lee-notebook"]
    offboard(odeps, "leaver@example.com", resolve_actor(odeps, "U0ADMIN", privileged=True), reason="")
    assert {k.status for k in odeps.admin.list_api_keys(created_by_user_id=person["id"])} == {"inactive"}
