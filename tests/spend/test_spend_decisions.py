"""Spend-limit decisions whose outcome was never recorded: no clear answer from the API, a kill between the
claim and the record, a Slack timeout after the decision. Never "nothing was changed"; `spend-limit-requests`
settles claims older than a few minutes against the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from bot.anthropic_admin import Unavailable
from bot.core.errors import UserError
from bot.deps import Deps
from bot.slack.ids import Action
from bot.spend import spend_limits
from bot.writes import explain, unit_of_work
from handlers.answers import compute as _compute
from storage.db import session_scope
from storage.models import AuditEvent, SpendLimitRequestPost
from tests.conftest import Clock, DepsFactory
from tests.spend.test_spend_limits import NOW, roots, run, seed_request


@pytest.fixture(autouse=True)
def _enterprise(anthropic_standin) -> None:
    anthropic_standin.org_type = "enterprise"  # increase requests exist only in Claude Enterprise orgs


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sdeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    return make_deps(clock=clock)


def _post(deps: Deps, request_id: str) -> SpendLimitRequestPost:
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        return post


def _audit(deps: Deps, request_id: str) -> list[AuditEvent]:
    with session_scope(deps.engine) as session:
        query = select(AuditEvent).where(AuditEvent.subject_id == request_id).order_by(col(AuditEvent.id))
        return list(session.exec(query))


def _status_at_anthropic(deps: Deps, request_id: str) -> str:
    (found,) = [r for r in deps.admin.list_increase_requests(None) if r.id == request_id]
    return str(found.status)


def _answer(deps: Deps, work: Any) -> str:
    reply = _compute(deps, work)
    assert reply is not None
    return reply.text


@pytest.mark.parametrize("applied", [False, True], ids=["not-applied", "applied"])
def test_an_approval_without_a_clear_answer_is_settled_later(
    applied: bool, sdeps: Deps, anthropic_standin, slack_standin, clock: Clock
) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    anthropic_standin.inject(
        "POST", r"/approve$", status=500, times=5, headers={"x-should-retry": "false"}, applied=applied
    )
    text = _answer(sdeps, lambda d: spend_limits.approve(d, "U0ADMIN", request_id, Decimal(300)) and None)
    assert "nothing was changed" not in text and "may have happened" in text
    assert _post(sdeps, request_id).state == "approving"
    # A second click while the first is unsettled is told so, not "already handled".
    with pytest.raises(UserError, match="still being made"):
        spend_limits.approve(sdeps, "U0ADMIN", request_id, Decimal(300))
    anthropic_standin.clear_faults()
    run(sdeps)  # too early: the call may still be in flight
    assert _post(sdeps, request_id).state == "approving"

    clock.advance(minutes=6)
    result = run(sdeps)
    post = _post(sdeps, request_id)
    (root,) = roots(slack_standin)
    if applied:
        assert post.state == "approved" and post.approved_amount_usd == Decimal(300)
        assert post.decided_by_slack_id == "U0ADMIN"
        assert [a.action for a in _audit(sdeps, request_id)] == ["spend_request.approved"]
        assert Action.SPEND_REQUEST_APPROVE not in json.dumps(root.blocks)
        assert any("recorded now" in n for n in result.notes)
    else:
        assert post.state == "failed" and "didn't go through" in (post.last_error or "")
        assert Action.SPEND_REQUEST_APPROVE in json.dumps(root.blocks)
        assert _status_at_anthropic(sdeps, request_id) == "pending"
        # The buttons work again.
        assert spend_limits.approve(sdeps, "U0ADMIN", request_id, Decimal(300)).error is None
        assert _post(sdeps, request_id).state == "approved"


def test_a_claim_left_by_a_kill_is_settled_against_the_api(
    sdeps: Deps, anthropic_standin, slack_standin, clock: Clock
) -> None:
    """SIGKILL after Anthropic approved but before the bot recorded it: the claim stays `approving`."""
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    spend_limits._claim(sdeps, "U0ADMIN", request_id, spend_limits.CLAIMS["approve"], NOW, Decimal(250))
    sdeps.admin.approve_increase_request(request_id, amount_usd=Decimal(250))  # then the process died
    clock.advance(minutes=6)
    run(sdeps)
    post = _post(sdeps, request_id)
    assert (post.state, post.approved_amount_usd, post.decided_by_slack_id) == ("approved", Decimal(250), "U0ADMIN")
    (root,) = roots(slack_standin)
    assert Action.SPEND_REQUEST_APPROVE not in json.dumps(root.blocks)
    thread = [m.text for m in slack_standin.messages("C0ADMIN") if m.thread_ts == root.ts]
    assert any("<@U0ADMIN>" in (t or "") for t in thread)
    run(sdeps)  # settled once
    assert [a.action for a in _audit(sdeps, request_id)] == ["spend_request.approved"]


def test_a_deny_claim_whose_request_vanished_is_closed(
    sdeps: Deps, anthropic_standin, slack_standin, clock: Clock
) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    spend_limits._claim(sdeps, "U0ADMIN", request_id, spend_limits.CLAIMS["deny"], NOW, None)
    sdeps.admin.approve_increase_request(request_id, amount_usd=Decimal(100))  # someone used the Console
    clock.advance(minutes=6)
    run(sdeps)
    post = _post(sdeps, request_id)
    assert post.state == "resolved" and post.last_error == "approved"


def test_a_slack_timeout_after_the_decision_does_not_undo_it(
    sdeps: Deps, anthropic_standin, slack_standin, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)

    def timeout(*args: Any, **kwargs: Any) -> None:
        raise TimeoutError("The read operation timed out")

    monkeypatch.setattr(sdeps.notifier, "post", timeout)
    monkeypatch.setattr(sdeps.notifier, "update", timeout)
    decision = spend_limits.approve(sdeps, "U0ADMIN", request_id, Decimal(300))
    assert decision.error is None
    assert _post(sdeps, request_id).state == "approved"
    assert _status_at_anthropic(sdeps, request_id) == "approved"


def test_the_unit_of_work_explains_a_recorded_change_before_a_later_failure(sdeps: Deps, anthropic_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    with unit_of_work() as changes:
        spend_limits.approve(sdeps, "U0ADMIN", request_id, Decimal(300))
        text = explain(changes)
    assert text is not None and "done and recorded" in text and "the change stands" in text
    with unit_of_work() as changes:
        assert explain(changes) is None


def test_an_uncertain_failure_is_not_a_refusal(sdeps: Deps, anthropic_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    anthropic_standin.inject("POST", r"/deny$", status=503, times=5, headers={"x-should-retry": "false"})
    with pytest.raises(Unavailable):
        spend_limits.deny(sdeps, "U0ADMIN", request_id)
    assert _post(sdeps, request_id).state == "denying"


def test_a_request_in_another_currency_shows_it_everywhere(sdeps: Deps, anthropic_standin, slack_standin) -> None:
    anthropic_standin.currency = "EUR"
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    (root,) = roots(slack_standin)
    shown = json.dumps(root.blocks)
    assert "EUR" in shown and "$" not in shown
    assert _post(sdeps, request_id).currency == "EUR"
    decision = spend_limits.approve(sdeps, "U0ADMIN", request_id, Decimal(300))
    assert decision.currency == "EUR"
    from bot.spend import blocks_spend_limits

    assert "300.00 EUR" in blocks_spend_limits.decision_reply(decision).text
    payload = blocks_spend_limits.SpendRequestPayload(request_id=request_id, suggested="300", currency="EUR")
    modal = blocks_spend_limits.approve_modal(payload, channel_id=None).to_dict()
    assert "New limit in EUR" in json.dumps(modal)
