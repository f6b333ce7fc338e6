"""Privileged actions use a role at most a minute old and fail closed (bot/identity.py, the guard family), on
SQLite and PostgreSQL: an admin demoted in the Console is refused every privileged action once a minute has
passed, and while the Admin API's users list fails every privileged action is refused with one sentence, while
`/claude-key usage` (own data) still answers from the cached link. Also: a rotation without a recorded owner
is deactivated by nobody but an admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.access import audit, decide, intake
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import LINK_MAX_AGE, BotRole, RoleUnconfirmed, resolve_actor
from bot.keys import listing, revoke, rotation, stale
from bot.registry import run_job
from bot.spend import budgets, planned, spend_limits, usage
from storage.db import session_scope
from storage.models import AccessRequest, KeyRotation, RequestState, RotationState
from tests.conftest import Clock, DepsFactory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WRITES = {"POST", "DELETE", "PUT", "PATCH"}
EX_ADMIN = ("U0EXADM", "exadmin@example.com")
UNCONFIRMED = r"can't confirm your current role right now"


@dataclass
class World:
    deps: Deps
    clock: Clock
    slack: Any
    admin: Any
    dev_id: str
    workspace: str

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.admin.requests if r.method in WRITES]


@pytest.fixture
def world(make_deps: DepsFactory, slack_standin: Any, anthropic_standin: Any) -> World:
    clock = Clock(T0, anthropic_standin)
    slack_standin.add_user(EX_ADMIN[0], name="exadmin", email=EX_ADMIN[1])
    anthropic_standin.add_user(EX_ADMIN[1], role="admin")
    seeded = anthropic_standin.seeded
    return World(
        make_deps(clock=clock),
        clock,
        slack_standin,
        anthropic_standin,
        seeded["developer"]["id"],
        seeded["workspace"]["id"],
    )


def _request(w: World, state: str = RequestState.PENDING) -> int:
    with session_scope(w.deps.engine) as session:
        row = AccessRequest(
            requester_slack_id="U0DEV",
            requester_email="dev@example.com",
            anthropic_user_id=w.dev_id,
            workspace_id=w.workspace,
            workspace_name="default-ws",
            reason="privilege",
            state=state,
            last_error="boom" if state == RequestState.FAILED else None,
        )
        session.add(row)
        session.flush()
        return row.id or 0


def _key(w: World) -> str:
    return str(w.admin.add_api_key(name="dev-key", workspace_id=w.workspace, created_by_user_id=w.dev_id)["id"])


def _rotation(w: World, owner_anthropic_id: str | None) -> int:
    old = _key(w)
    with session_scope(w.deps.engine) as session:
        row = KeyRotation(
            old_key_id=old,
            old_key_name="dev-key",
            workspace_id=w.workspace,
            owner_anthropic_id=owner_anthropic_id,
            owner_slack_id=None,
            started_by_slack_id="U0ADMIN",
            state=RotationState.REPLACED,
            open_key_id=old,
            new_key_id=_key(w),
            new_key_name="dev-key-2",
        )
        session.add(row)
        session.flush()
        return row.id or 0


def _spend_request(w: World) -> str:
    request_id = str(w.admin.add_increase_request(w.dev_id)["id"])
    result = run_job("spend-limit-requests", w.deps, out=lambda _: None)
    assert result is not None and not result.errors, result
    return request_id


Act = Callable[[], object]


def prep_approve(w: World, who: str) -> Act:
    rid = _request(w)
    return lambda: decide.approve(w.deps, request_id=rid, slack_user_id=who)


def prep_deny(w: World, who: str) -> Act:
    rid = _request(w)
    return lambda: decide.deny(w.deps, request_id=rid, slack_user_id=who, reason="no")


def prep_retry(w: World, who: str) -> Act:
    rid = _request(w, RequestState.FAILED)
    return lambda: decide.retry(w.deps, request_id=rid, slack_user_id=who)


def prep_invite(w: World, who: str) -> Act:
    return lambda: intake.invite(w.deps, slack_user_id=who, args=["attacker@evil.example"])


def prep_budget_set(w: World, who: str) -> Act:
    return lambda: budgets.set_budget(w.deps, who, Decimal(1))


def prep_thresholds(w: World, who: str) -> Act:
    return lambda: budgets.set_thresholds(w.deps, who, (50,))


def prep_mirror(w: World, who: str) -> Act:
    budgets.set_budget(w.deps, "U0ADMIN", Decimal(500))
    return lambda: budgets.mirror_budget(w.deps, who, budgets.ORG_SCOPE)


def prep_spike_planned(w: World, who: str) -> Act:
    budgets.set_budget(w.deps, "U0ADMIN", Decimal(500))
    day = w.clock().date() - timedelta(days=1)
    return lambda: planned.mark_planned(w.deps, slack_user_id=who, scope_key=budgets.ORG_SCOPE, day=day)


def prep_spend_approve(w: World, who: str) -> Act:
    rid = _spend_request(w)
    return lambda: spend_limits.approve(w.deps, who, rid, Decimal(300))


def prep_spend_deny(w: World, who: str) -> Act:
    rid = _spend_request(w)
    return lambda: spend_limits.deny(w.deps, who, rid)


def prep_revoke(w: World, who: str) -> Act:
    key = _key(w)
    return lambda: revoke.revoke(w.deps, slack_user_id=who, key_id=key, reason="x")


def prep_audit(w: World, who: str) -> Act:
    return lambda: audit.export_audit(w.deps, slack_user_id=who, days=7)


def prep_stale(w: World, who: str) -> Act:
    key = _key(w)
    return lambda: stale.deactivate_from_report(w.deps, slack_user_id=who, key_id=key, channel=None, ts=None, blocks=[])


def prep_rotation(w: World, who: str) -> Act:
    rid = _rotation(w, w.dev_id)
    return lambda: rotation.deactivate_old_key(w.deps, slack_user_id=who, rotation_id=rid)


def prep_pending(w: World, who: str) -> Act:
    return lambda: intake.list_requests(w.deps, slack_user_id=who, which="pending")


def prep_keys_all(w: World, who: str) -> Act:
    return lambda: listing.list_keys(w.deps, slack_user_id=who, scope="all")


def prep_usage_org(w: World, who: str) -> Act:
    return lambda: usage.usage_report(w.deps, who, usage.parse_usage(["org"]))


# action → (prepare, the refusal a demoted admin gets)
ACTIONS: dict[str, tuple[Callable[[World, str], Act], str]] = {
    "approve": (prep_approve, "Only admins can approve"),
    "deny": (prep_deny, "Only admins can deny"),
    "retry": (prep_retry, "Only admins can retry"),
    "invite": (prep_invite, ""),  # a non-admin's invite is filed for approval instead
    "budget set": (prep_budget_set, "Only admins can change budgets"),
    "budget thresholds": (prep_thresholds, "Only admins can change budgets"),
    "budget mirror": (prep_mirror, "Only admins can change budgets"),
    "spend approve": (prep_spend_approve, "Only admins can approve or deny"),
    "spend deny": (prep_spend_deny, "Only admins can approve or deny"),
    "revoke someone else's key": (prep_revoke, "belongs to someone else"),
    "audit export": (prep_audit, "Only admins can export the audit log"),
    "stale deactivate": (prep_stale, "Only admins can deactivate keys"),
    "rotation deactivate-old (not the owner)": (prep_rotation, "Only the key's owner or an admin"),
    "requests pending": (prep_pending, "Only admins can list everyone's pending"),
    "keys all": (prep_keys_all, "Only admins can list everyone's keys"),
    "usage org": (prep_usage_org, "Only admins and billing viewers"),
    "spike planned": (prep_spike_planned, "Only admins can mark a spend spike as planned"),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_demoted_admin_is_refused_once_a_minute_has_passed(world: World, action: str) -> None:
    prepare, refusal = ACTIONS[action]
    act = prepare(world, EX_ADMIN[0])
    actor = resolve_actor(world.deps, EX_ADMIN[0])  # the link is cached: an admin
    assert actor.role is BotRole.ADMIN and actor.anthropic_user_id is not None
    world.deps.admin.update_user_role(actor.anthropic_user_id, "user")  # demoted in the Console
    world.clock.advance(seconds=61)
    world.admin.reset_requests()
    if not refusal:  # invite: filed as a request, never sent
        filed = act()
        assert isinstance(filed, intake.Filed), filed
    else:
        with pytest.raises(UserError, match=refusal):
            act()
    assert world.writes() == [], f"{action} by a demoted admin wrote to the Admin API"


@pytest.mark.parametrize("action", list(ACTIONS))
def test_privileged_actions_fail_closed_when_the_role_cant_be_confirmed(world: World, action: str) -> None:
    prepare, _ = ACTIONS[action]
    act = prepare(world, "U0ADMIN")
    assert resolve_actor(world.deps, "U0ADMIN").role is BotRole.ADMIN  # cached
    world.clock.advance(seconds=61)
    world.admin.inject("GET", r"/v1/organizations/users$", status=503, headers={"retry-after": "0"}, times=100)
    world.admin.reset_requests()
    with pytest.raises(RoleUnconfirmed, match=UNCONFIRMED):
        act()
    assert world.writes() == [], f"{action} wrote to the Admin API with an unconfirmed role"


def test_own_usage_still_answers_from_the_cache_when_the_users_list_fails(world: World) -> None:
    assert resolve_actor(world.deps, "U0ADMIN").role is BotRole.ADMIN
    assert resolve_actor(world.deps, "U0DEV").role is BotRole.DEVELOPER
    world.clock.advance(seconds=int(LINK_MAX_AGE.total_seconds()) + 61)  # even the read cache is due
    world.admin.inject("GET", r"/v1/organizations/users$", status=503, headers={"retry-after": "0"}, times=100)
    for who in ("U0ADMIN", "U0DEV"):
        report = usage.usage_report(world.deps, who, usage.parse_usage([]))
        assert report is not None
    with pytest.raises(RoleUnconfirmed, match=UNCONFIRMED):
        budgets.set_budget(world.deps, "U0ADMIN", Decimal(1))


def test_a_role_checked_within_the_minute_is_not_looked_up_again(world: World) -> None:
    resolve_actor(world.deps, "U0ADMIN")
    world.clock.advance(seconds=30)
    calls = world.admin.count("GET", "/v1/organizations/users")
    budgets.set_thresholds(world.deps, "U0ADMIN", (50, 90))
    assert world.admin.count("GET", "/v1/organizations/users") == calls


def test_a_rotation_without_a_recorded_owner_is_deactivated_only_by_an_admin(world: World, slack_standin: Any) -> None:
    slack_standin.add_user("U0NEW", name="newbie", email="newbie@example.com")  # no org user: no anthropic id
    rid = _rotation(world, None)
    with pytest.raises(UserError, match="Only the key's owner or an admin"):
        rotation.deactivate_old_key(world.deps, slack_user_id="U0NEW", rotation_id=rid)
    with session_scope(world.deps.engine) as session:
        row = session.get(KeyRotation, rid)
        assert row is not None and row.state == RotationState.REPLACED
        old = row.old_key_id
    assert world.deps.admin.get_api_key(old).status == "active"
    done = rotation.deactivate_old_key(world.deps, slack_user_id="U0ADMIN", rotation_id=rid)
    assert done.by == "U0ADMIN"
    assert world.deps.admin.get_api_key(old).status == "inactive"
