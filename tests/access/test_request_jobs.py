"""request-nudges and invite reminders over a simulated week (injected clock), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.access import decide, intake
from bot.access.blocks import replies
from bot.deps import Deps
from bot.registry import run_job
from storage.db import session_scope
from storage.models import AccessRequest, RequestState
from tests.conftest import Clock, DepsFactory

S = RequestState
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def clocked(make_deps: DepsFactory) -> tuple[Deps, Clock]:
    clock = Clock(T0)
    return make_deps(clock=clock), clock


def _state(deps: Deps, request_id: int) -> str:
    with session_scope(deps.engine) as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None
        return request.state


def _run(deps: Deps, name: str, *, dry_run: bool = False) -> tuple[int, list[str]]:
    printed: list[str] = []
    result = run_job(name, deps, dry_run=dry_run, out=printed.append)
    assert result is not None and not result.errors, result
    return result.sent, printed


def _texts(slack, channel: str) -> list[str]:
    return [m.text for m in slack.messages(channel)]


def test_pending_request_is_nudged_escalated_then_expired_once_each(
    clocked: tuple[Deps, Clock],
    slack_standin,
) -> None:
    deps, clock = clocked
    intake.request_from_args(deps, slack_user_id="U0DEV", args=["default-ws", "for", "7d", "need", "it"])
    assert _run(deps, "request-nudges")[0] == 0
    clock.now = T0 + timedelta(hours=5)
    assert _run(deps, "request-nudges")[0] == 1
    assert _run(deps, "request-nudges")[0] == 0  # rerun sends nothing new
    clock.now = T0 + timedelta(days=1, hours=1)
    sent, printed = _run(deps, "request-nudges", dry_run=True)
    assert sent == 1 and printed == ["would escalate request #1 (requester dev@example.com, workspace default-ws)"]
    assert _run(deps, "request-nudges")[0] == 1
    assert _run(deps, "request-nudges")[0] == 0
    texts = _texts(slack_standin, "C0ADMIN")
    assert sum("Still waiting for an admin" in t for t in texts) == 1
    assert sum("has waited over a day" in t for t in texts) == 1
    clock.now = T0 + timedelta(days=7, minutes=1)
    assert _run(deps, "request-nudges")[0] == 1
    assert _state(deps, 1) == S.EXPIRED
    assert any("Expired after 7 days" in m.text for m in slack_standin.dms_to("U0DEV"))
    assert _run(deps, "request-nudges")[0] == 0


def test_time_bound_grant_warns_a_day_before_then_removes_membership(
    clocked: tuple[Deps, Clock],
    slack_standin,
    anthropic_standin,
) -> None:
    deps, clock = clocked
    intake.request_from_args(deps, slack_user_id="U0DEV", args=["default-ws", "for", "2d", "short", "test"])
    decide.approve(deps, request_id=1, slack_user_id="U0ADMIN")
    assert _state(deps, 1) == S.GRANTED
    workspace = anthropic_standin.seeded["workspace"]["id"]
    developer = anthropic_standin.seeded["developer"]["id"]
    assert deps.admin.get_workspace_member(workspace, developer) is not None
    clock.now = T0 + timedelta(days=1, hours=1)
    assert _run(deps, "request-nudges")[0] == 1
    assert _run(deps, "request-nudges")[0] == 0
    assert sum("ends" in m.text for m in slack_standin.dms_to("U0DEV")) == 1
    clock.now = T0 + timedelta(days=2, minutes=1)
    assert _run(deps, "request-nudges")[0] == 1
    assert _state(deps, 1) == S.REVOKED
    assert deps.admin.get_workspace_member(workspace, developer) is None
    assert any("has ended" in m.text for m in slack_standin.dms_to("U0DEV"))


def test_unposted_request_is_posted_by_the_next_run(
    clocked: tuple[Deps, Clock],
    slack_standin,
) -> None:
    deps, _ = clocked
    slack_standin.inject("chat.postMessage", error="not_in_channel")
    receipt = replies.filed(intake.request_from_args(deps, slack_user_id="U0DEV", args=["default-ws", "need", "it"]))
    assert "couldn't post it to the admin channel yet" in receipt.text
    assert _run(deps, "request-nudges")[0] == 1
    with session_scope(deps.engine) as session:
        request = session.get(AccessRequest, 1)
        assert request is not None and request.admin_message_ts is not None


def test_invitee_is_reminded_at_three_days_and_flagged_at_seven(
    clocked: tuple[Deps, Clock],
    slack_standin,
    anthropic_standin,
) -> None:
    deps, clock = clocked
    slack_standin.add_user("U0NEW", name="newbie", email="new@example.com")
    intake.request_from_args(deps, slack_user_id="U0NEW", args=["default-ws", "please"])
    decide.approve(deps, request_id=1, slack_user_id="U0ADMIN")
    assert _state(deps, 1) == S.INVITED
    clock.now = T0 + timedelta(days=3, hours=1)
    assert _run(deps, "invite-sync")[0] == 1
    assert _run(deps, "invite-sync")[0] == 0
    clock.now = T0 + timedelta(days=7, hours=1)
    assert _run(deps, "invite-sync")[0] == 1
    assert any("Reminder: accept the Anthropic invite" in m.text for m in slack_standin.dms_to("U0NEW"))
    assert any("still not accepted after 7 days" in t for t in _texts(slack_standin, "C0ADMIN"))
