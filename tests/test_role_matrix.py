"""Who may do what (README: Commands in Slack, "who"), table-driven: every subcommand and button for Admin,
Developer, Viewer (org role `user`), Billing viewer, a non-member and the subject's own person ("self"), over
real HTTP on one bot server per module (SQLite). Each case seeds its own fresh subject (request, key, rotation,
spend request), acts, and asserts the answer (refusal sentence or not) and the side effects (Admin API writes,
state in the database).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import select

from bot.anthropic_admin import AdminGateway
from bot.app import create_app
from bot.deps import Deps, build_deps
from bot.http import create_web_app
from bot.registry import run_job
from bot.sandbox.anthropic import AnthropicStandIn
from bot.sandbox.slack import SlackStandIn, seed_default_directory
from bot.slack.ids import Action, Callback
from bot.spend import budgets
from bot.spend.blocks_spend_limits import AMOUNT_BLOCK, AMOUNT_INPUT
from bot.spend.budget_form import AMOUNT_BLOCK as BUDGET_AMOUNT_BLOCK
from bot.spend.budget_form import AMOUNT_INPUT as BUDGET_AMOUNT_INPUT
from storage import repositories as repo
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import (
    AccessRequest,
    AuditEvent,
    Budget,
    KeyRotation,
    LeaverCase,
    RequestState,
    RotationState,
    SpendLimitRequestPost,
)
from tests.botserver import BotServer, command_body, post_slack
from tests.conftest import make_settings

# role → (Slack id, email, Anthropic org role or None for a non-member)
PEOPLE = {
    "admin": ("U0ADMIN", "admin@example.com", "admin"),
    "developer": ("U0DEV", "dev@example.com", "developer"),
    "viewer": ("U0VIEW", "view@example.com", "user"),
    "billing": ("U0BILL", "bill@example.com", "billing"),
    "non_member": ("U0NEW", "new@example.com", None),
    "owner": ("U0OWNER", "owner@example.com", "developer"),  # owns the subject when someone else acts
    "admin2": ("U0ADMIN2", "admin2@example.com", "admin"),  # "self" for decisions only admins make
}
ROLES = ["admin", "developer", "viewer", "billing", "non_member", "self"]
WRITE_METHODS = {"POST", "DELETE", "PUT", "PATCH"}


class CountingExecutor(ThreadPoolExecutor):
    """The bot's worker pool, counting work in flight so a case can wait until the bot is idle."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="ckb-matrix")
        self.inflight = 0
        self.lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.inflight += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.inflight -= 1

        return super().submit(run)

    def wait_idle(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        quiet_since = None
        while True:
            if self.inflight == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 0.05:  # idle, and nothing new was handed over meanwhile
                    return
            else:
                quiet_since = None
            assert time.monotonic() < deadline, "the bot stayed busy"
            time.sleep(0.01)


@dataclass
class World:
    url: str
    deps: Deps
    slack: SlackStandIn
    admin: AnthropicStandIn
    http: httpx.Client
    executor: CountingExecutor
    users: dict[str, str]  # role → Anthropic user id
    workspace: str

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.admin.requests if r.method in WRITE_METHODS]

    def command(self, text: str, user: str) -> str:
        response_url = self.slack.new_response_url()
        ack = post_slack(self.http, self.url, command_body(text, user_id=user, response_url=response_url))
        assert ack.status_code == 200, ack.text
        if "Working on it" not in ack.text:
            return ack.text
        reply = self.slack.wait_for_response(predicate=lambda r: response_url.endswith(r.url_id), timeout=15)
        return json.dumps(reply[0].body, ensure_ascii=False)

    def _post_payload(self, payload: dict[str, Any]) -> None:
        response = post_slack(self.http, self.url, "payload=" + quote(json.dumps(payload)))
        assert response.status_code == 200, response.text

    def click(self, action: str, value: str, user: str, *, message: dict[str, Any] | None = None) -> str:
        """Click; return what the clicker was told (through response_url), "" when nothing."""
        response_url = self.slack.new_response_url()
        message = message or {"ts": "1700000000.000100", "text": "x", "blocks": []}
        self._post_payload(
            {
                "type": "block_actions",
                "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
                "api_app_id": "A0BOT",
                "token": "x",
                "trigger_id": self.slack.new_trigger_id(user_id=user),
                "response_url": response_url,
                "team": {"id": "T0STANDIN", "domain": "standin"},
                "channel": {"id": "C0ADMIN", "name": "admins"},
                "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0ADMIN"},
                "message": message,
                "actions": [
                    {
                        "type": "button",
                        "action_id": action,
                        "block_id": "b",
                        "value": value,
                        "action_ts": "1700000001.000000",
                    }
                ],
            }
        )
        return self.settle(
            lambda: " ".join(
                json.dumps(r.body, ensure_ascii=False) for r in self.slack.responses if response_url.endswith(r.url_id)
            )
        )

    def choose(self, action: str, value: str, user: str) -> str:
        """Pick an option of an overflow menu; return what the chooser was told."""
        response_url = self.slack.new_response_url()
        self._post_payload(
            {
                "type": "block_actions",
                "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
                "api_app_id": "A0BOT",
                "token": "x",
                "trigger_id": self.slack.new_trigger_id(user_id=user),
                "response_url": response_url,
                "team": {"id": "T0STANDIN", "domain": "standin"},
                "channel": {"id": "C0ADMIN", "name": "admins"},
                "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ADMIN"},
                "actions": [
                    {
                        "type": "overflow",
                        "action_id": action,
                        "block_id": "b",
                        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
                        "action_ts": "1700000001.000000",
                    }
                ],
            }
        )
        return self.settle(
            lambda: " ".join(
                json.dumps(r.body, ensure_ascii=False) for r in self.slack.responses if response_url.endswith(r.url_id)
            )
        )

    def submit(self, callback: str, values: dict[str, Any], metadata: str, user: str) -> str:
        """Submit a modal; return what the submitter was told (ephemeral or DM), "" when nothing."""
        before = len(self.slack.calls)
        self._post_payload(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": "T0STANDIN"},
                "api_app_id": "A0BOT",
                "team": {"id": "T0STANDIN"},
                "trigger_id": "1.2.3",
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "callback_id": callback,
                    "private_metadata": metadata,
                    "state": {"values": values},
                    "team_id": "T0STANDIN",
                    "app_installed_team_id": "T0STANDIN",
                },
            }
        )

        def told() -> str:
            dm = self.slack.dm_channel_id(user)
            calls = [
                c
                for c in self.slack.calls[before:]
                if (c.method == "chat.postEphemeral" and c.body.get("user") == user)
                or (c.method == "chat.postMessage" and c.body.get("channel") in (user, dm))
            ]
            return " ".join(json.dumps(c.body, ensure_ascii=False) for c in calls)

        return self.settle(told)

    def settle(self, told: Callable[[], str], quiet: float = 1.0) -> str:
        """Wait until the clicker was told something, or the bot stayed idle for `quiet` seconds (an action
        that succeeds silently, like Approve, answers in the thread instead)."""
        deadline = time.monotonic() + 15
        idle_since = None
        while time.monotonic() < deadline:
            if told():
                self.executor.wait_idle()
                return told()
            if self.executor.inflight == 0:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > quiet:
                    return ""
            else:
                idle_since = None
            time.sleep(0.01)
        raise AssertionError("the bot neither answered nor went idle")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'bot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with SlackStandIn() as slack, AnthropicStandIn() as admin:
        seed_default_directory(slack)
        seeded = admin.seed_basic()
        users = {"admin": seeded["admin"]["id"], "developer": seeded["developer"]["id"]}
        for role, (slack_id, email, org_role) in PEOPLE.items():
            if role not in ("admin", "developer"):
                slack.add_user(slack_id, name=role, email=email)
                if org_role is not None:
                    users[role] = admin.add_user(email, role=org_role)["id"]
        settings = make_settings(slack, admin, url)
        deps = build_deps(settings)
        executor = CountingExecutor()
        deps.executor = executor
        server = BotServer(create_web_app(create_app(settings, deps), deps)).start()
        with httpx.Client(timeout=20) as http:
            yield World(server.url, deps, slack, admin, http, executor, users, seeded["workspace"]["id"])
        server.stop()
        deps.close()


# --- subjects ----------------------------------------------------------------------------------------------------

# "self" there is an admin: a requesting admin, or an admin acting on their own role or membership
SELF_IS_ADMIN = {
    "approve",
    "deny",
    "retry",
    "spend approve",
    "spend deny",
    "role",
    "role confirm",
    "offboard",
    "offboard confirm",
    # leaver-sweep: "self" is an admin clicking their own proposal
    "leaver offboard",
    "leaver not-a-leaver",
}


def owner_of(action: str, role: str) -> str:
    """Whose subject the case acts on: the actor's own for "self", else someone else's."""
    if role == "self":
        return "admin2" if action in SELF_IS_ADMIN else "owner"
    return "owner"


def actor_of(action: str, role: str) -> str:
    return PEOPLE[owner_of(action, role) if role == "self" else role][0]


def new_request(w: World, owner: str, state: str = RequestState.PENDING) -> int:
    slack_id, email, _ = PEOPLE[owner]
    with session_scope(w.deps.engine) as session:
        row = AccessRequest(
            requester_slack_id=slack_id,
            requester_email=email,
            anthropic_user_id=w.users.get(owner),
            workspace_id=w.workspace,
            workspace_name="default-ws",
            reason="role matrix",
            state=state,
            last_error="boom" if state == RequestState.FAILED else None,
        )
        session.add(row)
        session.flush()
        return row.id or 0


def request_state(w: World, request_id: int) -> str:
    with session_scope(w.deps.engine) as session:
        row = session.get(AccessRequest, request_id)
        assert row is not None
        return row.state


_serial = iter(range(1, 10_000))


def new_key(w: World, owner: str) -> str:
    key = w.admin.add_api_key(
        name=f"matrix-key-{next(_serial)}", workspace_id=w.workspace, created_by_user_id=w.users[owner]
    )
    return str(key["id"])


def key_status(w: World, key_id: str) -> str:
    return w.deps.admin.get_api_key(key_id).status


def new_rotation(w: World, owner: str) -> int:
    old = new_key(w, owner)
    with session_scope(w.deps.engine) as session:
        row = KeyRotation(
            old_key_id=old,
            old_key_name="x",
            workspace_id=w.workspace,
            owner_anthropic_id=w.users[owner],
            owner_slack_id=PEOPLE[owner][0],
            started_by_slack_id=PEOPLE[owner][0],
            state=RotationState.REPLACED,
            open_key_id=old,
            new_key_id=new_key(w, owner),
            new_key_name="y",
        )
        session.add(row)
        session.flush()
        return row.id or 0


def new_spend_request(w: World, owner: str) -> str:
    request_id = str(w.admin.add_increase_request(w.users[owner])["id"])
    result = run_job("spend-limit-requests", w.deps, out=lambda _: None)
    assert result is not None and not result.errors, result
    return request_id


def spend_state(w: World, request_id: str) -> str:
    with session_scope(w.deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        return post.state


def org_budget(w: World) -> tuple[Any, Any]:
    with session_scope(w.deps.engine) as session:
        row = session.exec(select(Budget).where(Budget.scope_key == budgets.ORG_SCOPE)).first()
        return (row.amount_usd, row.thresholds) if row else (None, None)


# --- the cases ---------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    answer: str
    changed: bool  # the action's own state change happened


def _cmd(text: str) -> Callable[[World, str, str], Outcome]:
    def act(w: World, actor: str, owner: str) -> Outcome:
        return Outcome(w.command(text.format(owner_slack=PEOPLE[owner][0]), actor), changed=False)

    return act


def _key_cmd(verb: str) -> Callable[[World, str, str], Outcome]:
    def act(w: World, actor: str, owner: str) -> Outcome:
        key = new_key(w, owner)
        answer = w.command(f"{verb} {key}", actor)
        with session_scope(w.deps.engine) as session:
            rotating = session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).first() is not None
        return Outcome(answer, changed=rotating or key_status(w, key) != "active")

    return act


def _home_key_click(action: str) -> Callable[[World, str, str], Outcome]:
    """A key button of the App Home tab (Rotate, Revoke, Check), clicked on someone's key."""

    def act(w: World, actor: str, owner: str) -> Outcome:
        key = new_key(w, owner)
        answer = w.click(action, json.dumps({"k": key}), actor)
        with session_scope(w.deps.engine) as session:
            rotating = session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).first() is not None
        return Outcome(answer, changed=rotating or key_status(w, key) != "active")

    return act


def act_request(w: World, actor: str, owner: str) -> Outcome:
    answer = w.command("request default-ws for 7d role matrix", actor)
    with session_scope(w.deps.engine) as session:
        mine = session.exec(
            select(AccessRequest).where(AccessRequest.requester_slack_id == actor, AccessRequest.kind == "access")
        ).all()
    return Outcome(answer, changed=bool(mine))


def act_invite(w: World, actor: str, owner: str) -> Outcome:
    email = f"invitee-{actor.lower()}-{next(_serial)}@example.com"
    answer = w.command(f"invite {email}", actor)
    with session_scope(w.deps.engine) as session:
        filed = session.exec(select(AccessRequest).where(AccessRequest.invitee_email == email)).first()
    return Outcome(answer, changed=filed is not None or any("/invites" in x for x in w.writes()))


def act_budget_set(w: World, actor: str, owner: str) -> Outcome:
    amount = 1000 + next(_serial)
    answer = w.command(f"budget set {amount}", actor)
    return Outcome(answer, changed=org_budget(w)[0] == Decimal(amount))


def act_budget_thresholds(w: World, actor: str, owner: str) -> Outcome:
    mark = 10 + next(_serial) % 80
    answer = w.command(f"budget thresholds {mark},95", actor)
    return Outcome(answer, changed=org_budget(w)[1] is not None and str(mark) in str(org_budget(w)[1]))


def act_audit(w: World, actor: str, owner: str) -> Outcome:
    before = len(w.slack.uploads)
    answer = w.command("audit 7", actor)
    return Outcome(answer, changed=len(w.slack.uploads) > before)


def _request_click(action: str, state: str, done: Callable[[str], bool]) -> Callable[[World, str, str], Outcome]:
    def act(w: World, actor: str, owner: str) -> Outcome:
        request_id = new_request(w, owner, state)
        answer = w.click(action, json.dumps({"r": request_id}), actor)
        return Outcome(answer, changed=done(request_state(w, request_id)))

    return act


def act_deny(w: World, actor: str, owner: str) -> Outcome:
    request_id = new_request(w, owner)
    values = {"reason": {"value": {"type": "plain_text_input", "value": "not now"}}}
    answer = w.submit(Callback.DENY_MODAL, values, json.dumps({"r": request_id}), actor)
    return Outcome(answer, changed=request_state(w, request_id) == RequestState.DENIED)


def act_revoke_confirm(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.REVOKE_CONFIRM, json.dumps({"k": key, "r": "matrix"}), actor)
    return Outcome(answer, changed=key_status(w, key) == "inactive")


def act_stale_deactivate(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.STALE_DEACTIVATE, json.dumps({"k": key}), actor)
    return Outcome(answer, changed=key_status(w, key) == "inactive")


def act_rotation_deactivate(w: World, actor: str, owner: str) -> Outcome:
    rotation_id = new_rotation(w, owner)
    answer = w.click(Action.ROTATION_DEACTIVATE_OLD, json.dumps({"r": rotation_id}), actor)
    with session_scope(w.deps.engine) as session:
        row = session.get(KeyRotation, rotation_id)
        assert row is not None
        return Outcome(answer, changed=key_status(w, row.old_key_id) == "inactive")


def new_person(w: World, owner: str) -> tuple[str, str]:
    """(email, org role) of a fresh org member to act on, or the owner themselves for "self" (an admin)."""
    if owner == "admin2":
        return PEOPLE["admin2"][1], "admin"
    email = f"matrix-person-{next(_serial)}@example.com"
    w.admin.add_user(email, role="developer")
    return email, "developer"


def org_role(w: World, email: str) -> str | None:
    member = w.deps.admin.find_user_by_email(email)
    return member.role if member is not None else None


def act_role(w: World, actor: str, owner: str) -> Outcome:
    email, _ = new_person(w, owner)
    return Outcome(w.command(f"role {email} billing", actor), changed=False)


def act_role_confirm(w: World, actor: str, owner: str) -> Outcome:
    email, old = new_person(w, owner)
    answer = w.click(Action.ROLE_CONFIRM, json.dumps({"e": email, "o": old, "n": "billing"}), actor)
    return Outcome(answer, changed=org_role(w, email) == "billing")


def act_offboard(w: World, actor: str, owner: str) -> Outcome:
    email, _ = new_person(w, owner)
    return Outcome(w.command(f"offboard {email} left", actor), changed=False)


def act_offboard_confirm(w: World, actor: str, owner: str) -> Outcome:
    email, _ = new_person(w, owner)
    answer = w.click(Action.OFFBOARD_CONFIRM, json.dumps({"e": email, "r": "matrix"}), actor)
    return Outcome(answer, changed=org_role(w, email) is None)


# -- members and invites (`/claude-key members`) -------------------------------------------------------------------


def new_invite(w: World) -> dict[str, Any]:
    return dict(w.admin.add_invite(f"matrix-invite-{next(_serial)}@example.com", role="user"))


def pending_invites(w: World, email: str) -> set[str]:
    return {i.id for i in w.deps.admin.list_invites(email=email, statuses=["pending"])}


def act_invite_withdraw(w: World, actor: str, owner: str) -> Outcome:
    invite = new_invite(w)
    answer = w.click(Action.INVITE_WITHDRAW, json.dumps({"i": invite["id"], "e": invite["email"]}), actor)
    return Outcome(answer, changed=not pending_invites(w, invite["email"]))


def act_invite_reinvite(w: World, actor: str, owner: str) -> Outcome:
    invite = new_invite(w)
    answer = w.click(Action.INVITE_REINVITE, json.dumps({"i": invite["id"], "e": invite["email"]}), actor)
    now = pending_invites(w, invite["email"])
    return Outcome(answer, changed=bool(now) and invite["id"] not in now)


# --- leaver-sweep proposals ---


def new_leaver_case(w: World, owner: str) -> tuple[int, str]:
    """A proposed leaver case about a fresh member (or the owner themselves for "self"): (case id, email)."""
    email, _ = new_person(w, owner)
    slack_id = PEOPLE["admin2"][0] if owner == "admin2" else f"U0LV{next(_serial)}"
    with session_scope(w.deps.engine) as session:
        for old in session.exec(select(LeaverCase).where(LeaverCase.open_key == slack_id)):
            old.open_key = None  # an earlier case's deactivation is over
        row = LeaverCase(
            slack_user_id=slack_id, email=email, open_key=slack_id, state="proposed", channel="C0ADMIN", ts="1.2"
        )
        session.add(row)
        session.flush()
        return row.id or 0, email


def leaver_state(w: World, case_id: int) -> str:
    with session_scope(w.deps.engine) as session:
        row = session.get(LeaverCase, case_id)
        assert row is not None
        return row.state


def act_leaver_offboard(w: World, actor: str, owner: str) -> Outcome:
    case_id, email = new_leaver_case(w, owner)
    answer = w.click(Action.LEAVER_OFFBOARD, json.dumps({"c": case_id}), actor)
    return Outcome(answer, changed=org_role(w, email) is None)


def act_leaver_not_a_leaver(w: World, actor: str, owner: str) -> Outcome:
    case_id, _ = new_leaver_case(w, owner)
    answer = w.click(Action.LEAVER_NOT_A_LEAVER, json.dumps({"c": case_id}), actor)
    return Outcome(answer, changed=leaver_state(w, case_id) == "silenced")


# rate limits
def act_limits_workspace(w: World, actor: str, owner: str) -> Outcome:
    """`limits workspace <name>` for a fresh workspace the owner belongs to (and nobody else)."""
    name = f"matrix-limits-{next(_serial)}"
    workspace = w.admin.add_workspace(name)["id"]
    w.admin.add_member(workspace, w.users[owner])
    return Outcome(w.command(f"limits workspace {name}", actor), changed=False)


def act_mirror(w: World, actor: str, owner: str) -> Outcome:
    budgets.set_budget(w.deps, "U0ADMIN", Decimal(500))
    w.admin.reset_requests()
    answer = w.click(Action.BUDGET_MIRROR, json.dumps({"scope_key": budgets.ORG_SCOPE}), actor)
    return Outcome(answer, changed=any("spend_limits" in x for x in w.writes()))


# -- spend alerts that explain themselves --------------------------------------------------------------------------


def act_spike_planned(w: World, actor: str, owner: str) -> Outcome:
    budgets.set_budget(w.deps, "U0ADMIN", Decimal(500))
    day = w.deps.clock().date() - timedelta(days=1 + next(_serial) % 50)  # a fresh day per case
    answer = w.click(Action.SPIKE_PLANNED, json.dumps({"s": budgets.ORG_SCOPE, "d": day.isoformat()}), actor)
    with session_scope(w.deps.engine) as session:
        marked = repo.ledger_has(session=session, job="budget-alerts", key=f"planned:org:{day.isoformat()}")
    return Outcome(answer, changed=marked)


def act_spend_approve(w: World, actor: str, owner: str) -> Outcome:
    request_id = new_spend_request(w, owner)
    w.admin.reset_requests()
    values = {AMOUNT_BLOCK: {AMOUNT_INPUT: {"type": "plain_text_input", "value": "300"}}}
    meta = json.dumps({"request_id": request_id, "channel_id": "C0ADMIN"})
    answer = w.submit(Callback.SPEND_APPROVE_MODAL, values, meta, actor)
    return Outcome(answer, changed=spend_state(w, request_id) == "approved")


def act_spend_deny(w: World, actor: str, owner: str) -> Outcome:
    request_id = new_spend_request(w, owner)
    w.admin.reset_requests()
    answer = w.click(Action.SPEND_REQUEST_DENY, json.dumps({"request_id": request_id, "suggested": "300"}), actor)
    return Outcome(answer, changed=spend_state(w, request_id) == "denied")


# -- a budget alert's Change budget: the button (the modal shows the form or the refusal) and the submission -----


def act_budget_change_click(w: World, actor: str, owner: str) -> Outcome:
    before = len([c for c in w.slack.calls if c.method == "views.update"])
    told = w.click(Action.BUDGET_CHANGE, json.dumps({"s": budgets.ORG_SCOPE}), actor)
    updated = w.slack.wait_for("views.update", count=before + 1)[before]
    modal = w.slack.views[updated.body["view_id"]]
    return Outcome(f"{told} {json.dumps(modal, ensure_ascii=False)}", changed=False)


def act_budget_change_submit(w: World, actor: str, owner: str) -> Outcome:
    amount = str(3000 + next(_serial))
    values = {BUDGET_AMOUNT_BLOCK: {BUDGET_AMOUNT_INPUT: {"type": "plain_text_input", "value": amount}}}
    meta = json.dumps({"s": budgets.ORG_SCOPE, "c": "C0ADMIN"})
    answer = w.submit(Callback.BUDGET_MODAL, values, meta, actor)
    return Outcome(answer, changed=org_budget(w)[0] == Decimal(amount))


OK, NO = "ok", "refused"
A = {"admin"}
MEMBERS = {"admin", "developer", "viewer", "billing", "self"}
EVERYONE = MEMBERS | {"non_member"}


# --- a button at every next step ----------------------------------------------------------------------


def audited(w: World, subject_id: str, action: str) -> bool:
    with session_scope(w.deps.engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.subject_id == subject_id, AuditEvent.action == action))
        return rows.first() is not None


def act_reminder_rotate(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.REMINDER_ROTATE, json.dumps({"k": key}), actor)
    with session_scope(w.deps.engine) as session:
        rotating = session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).first() is not None
    return Outcome(answer, changed=rotating)


def act_reminder_snooze(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.REMINDER_SNOOZE, json.dumps({"k": key}), actor)
    return Outcome(answer, changed=audited(w, key, "key.reminders_snoozed"))


def act_stale_deactivate_mine(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.STALE_DEACTIVATE_MINE, json.dumps({"k": key, "r": "matrix"}), actor)
    return Outcome(answer, changed=key_status(w, key) == "inactive")


def act_stale_in_use(w: World, actor: str, owner: str) -> Outcome:
    key = new_key(w, owner)
    answer = w.click(Action.STALE_IN_USE, json.dumps({"k": key, "w": "2026-W45"}), actor)
    return Outcome(answer, changed=audited(w, key, "key.still_in_use"))


def _menu(choice: str) -> Callable[[World, str, str], Outcome]:
    def act(w: World, actor: str, owner: str) -> Outcome:
        key = new_key(w, owner)
        answer = w.choose(Action.KEY_MENU, json.dumps({"a": choice, "k": key}), actor)
        with session_scope(w.deps.engine) as session:
            rotating = session.exec(select(KeyRotation).where(KeyRotation.old_key_id == key)).first() is not None
        return Outcome(answer, changed=rotating or key_status(w, key) != "active")

    return act


@dataclass(frozen=True)
class Spec:
    act: Callable[[World, str, str], Outcome]
    allowed: frozenset[str]
    refusal: str  # regex of the refusal sentence (for every role not allowed)
    writes: bool  # the permitted action changes state (checked through `changed`)


S = RequestState
MEMBERS_REFUSAL = r"Only admins and billing viewers can see the member list"
SPECS: dict[str, Spec] = {
    "request": Spec(act_request, frozenset(EVERYONE - {"self"}), r"^$", True),
    "invite": Spec(act_invite, frozenset(EVERYONE - {"self"}), r"^$", True),  # non-admins: filed for approval
    "usage me": Spec(_cmd("usage me"), frozenset(MEMBERS - {"self"}), r"aren't a member", False),
    "usage org": Spec(_cmd("usage org"), frozenset({"admin", "billing"}), r"Only admins and billing viewers", False),
    "usage @user": Spec(
        _cmd("usage <@{owner_slack}>"), frozenset({"admin", "billing"}), r"Only admins and billing viewers", False
    ),
    "keys mine": Spec(_cmd("keys mine"), frozenset(MEMBERS - {"self"}), r"member|request", False),
    "keys all": Spec(_cmd("keys all"), frozenset(A), r"Only admins can list everyone's keys", False),
    "keys @user": Spec(_cmd("keys <@{owner_slack}>"), frozenset(A), r"Only admins can list other people's keys", False),
    "rotate": Spec(_key_cmd("rotate"), frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    "revoke": Spec(_key_cmd("revoke"), frozenset({"admin", "self"}), r"belongs to someone else|member", False),
    "check": Spec(_key_cmd("check"), frozenset({"admin", "self"}), r"belongs to someone else|member", False),
    "requests mine": Spec(_cmd("requests mine"), frozenset(EVERYONE - {"self"}), r"^$", False),
    "requests pending": Spec(_cmd("requests pending"), frozenset(A), r"Only admins can list everyone's pending", False),
    "budget show": Spec(_cmd("budget show"), frozenset(EVERYONE - {"self"}), r"^$", False),
    "budget set": Spec(act_budget_set, frozenset(A), r"Only admins can change budgets", True),
    "budget thresholds": Spec(act_budget_thresholds, frozenset(A), r"Only admins can change budgets", True),
    "audit": Spec(act_audit, frozenset(A), r"Only admins can export the audit log", True),
    "approve": Spec(
        _request_click(Action.APPROVE_REQUEST, S.PENDING, lambda s: s != S.PENDING),
        frozenset(A),
        r"Only admins can approve|can't approve your own",
        True,
    ),
    "deny": Spec(act_deny, frozenset(A), r"Only admins can deny|can't deny your own", True),
    "retry": Spec(
        _request_click(Action.RETRY_REQUEST, S.FAILED, lambda s: s != S.FAILED),
        frozenset(A),
        r"Only admins can retry|can't retry your own",
        True,
    ),
    "cancel": Spec(
        _request_click(Action.CANCEL_REQUEST, S.PENDING, lambda s: s == S.CANCELLED),
        frozenset({"self"}),
        r"Only the person who asked can cancel",
        True,
    ),
    "revoke confirm": Spec(act_revoke_confirm, frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    "stale deactivate": Spec(act_stale_deactivate, frozenset(A), r"Only admins can deactivate keys", True),
    "rotation deactivate-old": Spec(
        act_rotation_deactivate, frozenset({"admin", "self"}), r"Only the key's owner or an admin", True
    ),
    "role": Spec(act_role, frozenset(A), r"Only admins can change org roles|your own org role", False),
    "role confirm": Spec(act_role_confirm, frozenset(A), r"Only admins can change org roles|your own org role", True),
    "offboard": Spec(act_offboard, frozenset(A), r"Only admins can offboard|offboard yourself", False),
    "offboard confirm": Spec(act_offboard_confirm, frozenset(A), r"Only admins can offboard|offboard yourself", True),
    # members and invites
    "members": Spec(_cmd("members"), frozenset({"admin", "billing"}), MEMBERS_REFUSAL, False),
    "members invites": Spec(_cmd("members invites"), frozenset({"admin", "billing"}), MEMBERS_REFUSAL, False),
    "invite withdraw": Spec(act_invite_withdraw, frozenset(A), r"Only admins can withdraw or re-send invites", True),
    "invite reinvite": Spec(act_invite_reinvite, frozenset(A), r"Only admins can withdraw or re-send invites", True),
    "leaver offboard": Spec(act_leaver_offboard, frozenset(A), r"Only admins can offboard|offboard yourself", True),
    "leaver not-a-leaver": Spec(
        act_leaver_not_a_leaver, frozenset(A), r"Only admins can decide who is a leaver|your own leaver", True
    ),
    "budget mirror": Spec(act_mirror, frozenset(A), r"Only admins can change budgets", True),
    "spend approve": Spec(act_spend_approve, frozenset(A), r"Only admins can approve or deny|your own", True),
    "spend deny": Spec(act_spend_deny, frozenset(A), r"Only admins can approve or deny|your own", True),
    # spend alerts that explain themselves
    "spike planned": Spec(act_spike_planned, frozenset(A), r"Only admins can mark a spend spike as planned", True),
    # Claude Code analytics: others asking for the org or a person are shown their own, and told so
    "claude-code me": Spec(_cmd("claude-code me"), frozenset(MEMBERS - {"self"}), r"aren't a member", False),
    "cc org": Spec(
        _cmd("cc org 30d"), frozenset({"admin", "billing"}), r"Only admins and billing viewers|aren't a member", False
    ),
    "claude-code @user": Spec(
        _cmd("claude-code <@{owner_slack}>"),
        frozenset({"admin", "billing", "self"}),
        r"Only admins and billing viewers|aren't a member",
        False,
    ),
    # the App Home tab's key buttons
    "home rotate": Spec(
        _home_key_click(Action.HOME_KEY_ROTATE), frozenset({"admin", "self"}), r"belongs to someone else|member", True
    ),
    "home revoke": Spec(
        _home_key_click(Action.HOME_KEY_REVOKE), frozenset({"admin", "self"}), r"belongs to someone else|member", True
    ),
    "home check": Spec(
        _home_key_click(Action.HOME_KEY_CHECK), frozenset({"admin", "self"}), r"belongs to someone else|member", False
    ),
    # rate limits
    "limits org": Spec(_cmd("limits"), frozenset({"admin", "billing"}), r"Only admins and billing viewers see", False),
    "limits workspace": Spec(
        act_limits_workspace, frozenset({"admin", "billing", "self"}), r"workspaces you belong to only", False
    ),
    # a button at every next step
    "reminder rotate": Spec(act_reminder_rotate, frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    "reminder snooze": Spec(act_reminder_snooze, frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    "key menu rotate": Spec(_menu("rotate"), frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    "key menu revoke": Spec(_menu("revoke"), frozenset({"admin", "self"}), r"belongs to someone else|member", False),
    "key menu check": Spec(_menu("check"), frozenset({"admin", "self"}), r"belongs to someone else|member", False),
    "stale deactivate mine": Spec(
        act_stale_deactivate_mine, frozenset({"admin", "self"}), r"belongs to someone else|member", True
    ),
    "budget view usage": Spec(
        lambda w, actor, owner: Outcome(w.click(Action.BUDGET_VIEW_USAGE, json.dumps({"w": None}), actor), False),
        frozenset({"admin", "billing"}),
        r"Only admins and billing viewers",
        False,
    ),
    "stale still in use": Spec(act_stale_in_use, frozenset({"admin", "self"}), r"belongs to someone else|member", True),
    # a budget alert's Change budget
    "budget change": Spec(act_budget_change_click, frozenset(A), r"Only admins can change budgets", False),
    "budget change submit": Spec(act_budget_change_submit, frozenset(A), r"Only admins can change budgets", True),
}
COMMANDS_WITHOUT_A_SUBJECT = {
    "request",
    "invite",
    "usage me",
    "usage org",
    "keys mine",
    "keys all",
    "requests mine",
    "requests pending",
    "budget show",
    "budget set",
    "budget thresholds",
    "audit",
    "members",
    "members invites",
    "spike planned",  # a budget's spike day: nobody's own
    "budget view usage",  # the org budget's alert: nobody's own
    "budget change",
    "budget change submit",
    "claude-code me",
    "cc org",
    "limits org",
}
CASES = [
    (action, role)
    for action in SPECS
    for role in ROLES
    if not (role == "self" and action in COMMANDS_WITHOUT_A_SUBJECT)
]


@pytest.fixture
def org_kind(world: World, action: str) -> Iterator[None]:
    """Increase requests exist only in Claude Enterprise orgs: the spend actions run against one, told so."""
    if not action.startswith("spend"):
        yield
        return
    console = world.deps.admin
    settings = world.deps.settings
    assert settings.anthropic_admin_key is not None
    world.admin.org_type = "enterprise"
    world.deps.admin = AdminGateway(
        api_key=settings.anthropic_admin_key, base_url=settings.anthropic_base_url, org_type="enterprise"
    )
    try:
        yield
    finally:
        world.deps.admin.close()
        world.deps.admin, world.admin.org_type = console, "console"


@pytest.mark.parametrize(("action", "role"), CASES)
@pytest.mark.usefixtures("org_kind")
def test_role_matrix(world: World, action: str, role: str) -> None:
    spec = SPECS[action]
    expected = OK if role in spec.allowed else NO
    owner = owner_of(action, role)
    actor = actor_of(action, role)
    world.executor.wait_idle()
    world.admin.reset_requests()
    outcome = spec.act(world, actor, owner)
    world.executor.wait_idle()
    refused = spec.refusal != r"^$" and re.search(spec.refusal, outcome.answer) is not None
    if expected == NO:
        assert refused, f"{role} should be refused {action}; was told {outcome.answer[:300]!r}"
        assert not outcome.changed, f"{action} by {role} changed state"
        assert world.writes() == [], f"{action} by {role} wrote to the Admin API: {world.writes()}"
    else:
        assert not refused, f"{role} may {action}; was told {outcome.answer[:300]!r}"
        assert "Something went wrong" not in outcome.answer, outcome.answer[:300]
        if spec.writes:
            assert outcome.changed, f"{action} by {role} did not happen; told {outcome.answer[:300]!r}"
