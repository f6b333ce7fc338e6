"""Spend-limit increase requests: the job posts each once; Approve (amount in a modal) and Deny end to end."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import select

from bot.core.errors import UserError
from bot.deps import Deps
from bot.registry import run_job
from bot.slack.ids import Action, Callback
from bot.slack.reply import Reply
from bot.spend import blocks_spend_limits, spend_limits
from storage.db import session_scope
from storage.models import LedgerEntry, SpendLimitRequestPost
from tests.botserver import post_slack
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REQUESTS_PATH = r"/v1/organizations/spend_limit_increase_requests"


# The services return data; these render it as the listeners do (handlers/spend_limits.py).
def approve(deps: Deps, user: str, request_id: str, amount: Decimal) -> Reply:
    return blocks_spend_limits.decision_reply(spend_limits.approve(deps, user, request_id, amount))


def deny(deps: Deps, user: str, request_id: str) -> Reply:
    return blocks_spend_limits.decision_reply(spend_limits.deny(deps, user, request_id))


@pytest.fixture(autouse=True)
def _enterprise(anthropic_standin) -> None:
    anthropic_standin.org_type = "enterprise"  # increase requests exist only in Claude Enterprise orgs


def seed_request(anthropic_standin, email: str = "dev@example.com") -> str:
    user = next(
        u for u in (anthropic_standin.seeded["developer"], anthropic_standin.seeded["admin"]) if u["email"] == email
    )
    anthropic_standin.add_spend_limit({"type": "user", "user_id": user["id"]}, amount="20000")
    anthropic_standin.set_period_spend(user["id"], "19876.5")
    return str(anthropic_standin.add_increase_request(user["id"])["id"])


@pytest.fixture
def sdeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: NOW)


def run(deps: Deps):
    result = run_job("spend-limit-requests", deps, out=lambda _: None)
    assert result is not None
    return result


def roots(slack_standin) -> list:
    return [m for m in slack_standin.messages("C0ADMIN") if m.thread_ts is None]


def test_the_job_posts_each_pending_request_once(sdeps: Deps, anthropic_standin, slack_standin) -> None:
    request_id = seed_request(anthropic_standin)
    assert run(sdeps).sent == 1
    assert run(sdeps).sent == 0
    (message,) = roots(slack_standin)
    rendered = json.dumps(message.blocks)
    assert message.text == "Spend-limit increase request from <@U0DEV>: monthly limit $200.00, spent $198.77."
    assert "$200.00" in rendered and "$198.77" in rendered  # 19876.5 cents, rounded once
    assert "Requested amount" in rendered and "$300.00" in rendered  # suggested: 1.5 x the limit
    assert Action.SPEND_REQUEST_APPROVE in rendered and Action.SPEND_REQUEST_DENY in rendered
    with session_scope(sdeps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None and (post.state, post.requester_slack_id) == ("pending", "U0DEV")
        assert post.spend_usd == Decimal("198.765")


def test_on_a_console_org_it_logs_once_and_stays_quiet(
    sdeps: Deps, anthropic_standin, slack_standin, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_standin.inject("GET", REQUESTS_PATH, status=400, error_code="organization_type_not_supported", times=3)
    with caplog.at_level(logging.INFO, logger="bot.spend.spend_limits"):
        first, second = run(sdeps), run(sdeps)
    assert first.errors == second.errors == []
    assert first.sent == second.sent == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "not available" in r.getMessage()]
    assert len(warnings) == 1
    assert roots(slack_standin) == []
    with session_scope(sdeps.engine) as session:
        keys = [e.key for e in session.exec(select(LedgerEntry).where(LedgerEntry.job == "spend-limit-requests"))]
    assert keys == ["endpoint-unavailable"]


def test_decisions_are_admin_only_once_and_never_your_own(sdeps: Deps, anthropic_standin) -> None:
    mine = seed_request(anthropic_standin, "admin@example.com")
    theirs = seed_request(anthropic_standin)
    run(sdeps)
    with pytest.raises(UserError, match="Only admins"):
        approve(sdeps, "U0DEV", theirs, Decimal(300))
    with pytest.raises(UserError, match="your own"):
        approve(sdeps, "U0ADMIN", mine, Decimal(300))
    assert deny(sdeps, "U0ADMIN", theirs).text == "Denied by <@U0ADMIN>."
    with pytest.raises(UserError, match="already handled"):
        approve(sdeps, "U0ADMIN", theirs, Decimal(300))
    assert anthropic_standin.count("POST", rf"{REQUESTS_PATH}/.*/approve") == 0
    assert anthropic_standin.count("POST", rf"{REQUESTS_PATH}/.*/deny") == 1


def test_an_api_refusal_leaves_it_failed_with_the_buttons(sdeps: Deps, anthropic_standin, slack_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    anthropic_standin.inject("POST", r"/approve$", status=400, error_type="invalid_request_error")
    reply = approve(sdeps, "U0ADMIN", request_id, Decimal(300))
    assert reply.text.startswith("Couldn't approve the request")
    (root,) = roots(slack_standin)
    assert "Last attempt failed" in json.dumps(root.blocks) and Action.SPEND_REQUEST_APPROVE in json.dumps(root.blocks)
    assert approve(sdeps, "U0ADMIN", request_id, Decimal(300)).text.startswith("Approved by")
    run(sdeps)  # approved through the bot: not "resolved elsewhere"
    with session_scope(sdeps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None and post.state == "approved"


def test_requests_resolved_in_the_console_lose_their_buttons(sdeps: Deps, anthropic_standin, slack_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(sdeps)
    sdeps.admin.deny_increase_request(request_id)  # someone used the Console
    result = run(sdeps)
    assert result.notes == [f"{request_id} denied elsewhere"]
    (root,) = roots(slack_standin)
    assert Action.SPEND_REQUEST_APPROVE not in json.dumps(root.blocks)
    assert "Resolved outside the bot: denied" in json.dumps(root.blocks)


# --- over HTTP: buttons and the modal ------------------------------------------------------------------------


def _payload(kind: str, **fields) -> str:
    base = {
        "type": kind,
        "user": {"id": "U0ADMIN", "username": "admin", "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "team": {"id": "T0STANDIN", "domain": "standin"},
    }
    base.update(fields)
    return "payload=" + quote(json.dumps(base))


def _click(message, action_id: str, *, trigger_id: str, response_url: str) -> str:
    button = next(
        e for b in message.blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id
    )
    return _payload(
        "block_actions",
        trigger_id=trigger_id,
        response_url=response_url,
        channel={"id": "C0ADMIN", "name": "admins"},
        container={"type": "message", "message_ts": message.ts, "channel_id": "C0ADMIN"},
        message={"ts": message.ts, "text": message.text},
        actions=[
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": button["value"],
                "action_ts": "1700000001.000000",
            }
        ],
    )


def _submit(view: dict, amount: str) -> str:
    return _payload(
        "view_submission",
        trigger_id="1.2.3",
        view={
            "id": view["id"],
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "team_id": "T0STANDIN",
            "app_installed_team_id": "T0STANDIN",
            "state": {"values": {"amount": {"amount_input": {"type": "plain_text_input", "value": amount}}}},
        },
    )


def test_approve_with_an_edited_amount_end_to_end(bot_url: str, deps: Deps, slack_standin, anthropic_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(deps)
    (message,) = roots(slack_standin)
    with httpx.Client(timeout=10) as client:
        trigger = slack_standin.new_trigger_id(user_id="U0ADMIN")
        click = _click(
            message, Action.SPEND_REQUEST_APPROVE, trigger_id=trigger, response_url=slack_standin.new_response_url()
        )
        assert post_slack(client, bot_url, click).status_code == 200
        slack_standin.wait_for("views.open")
        view = next(v for v in slack_standin.views.values() if v["callback_id"] == Callback.SPEND_APPROVE_MODAL)
        assert json.dumps(view["blocks"]).count('"initial_value": "300"') == 1
        bad = post_slack(client, bot_url, _submit(view, "lots"))
        assert bad.json()["response_action"] == "errors" and "amount" in bad.json()["errors"]
        good = post_slack(client, bot_url, _submit(view, "1,250.50"))
        assert good.status_code == 200 and good.text == ""
    approve = anthropic_standin.wait_for("POST", rf"{REQUESTS_PATH}/{request_id}/approve")[0]
    assert approve.body["amount"] == "125050"
    slack_standin.wait_for("chat.postEphemeral")
    (note,) = slack_standin.ephemerals("C0ADMIN")
    assert note.user == "U0ADMIN" and note.text == "Approved by <@U0ADMIN>: the monthly limit is now $1,250.50."
    replies = [m.text for m in slack_standin.messages("C0ADMIN") if m.thread_ts == message.ts]
    assert replies == ["Approved by <@U0ADMIN>: the monthly limit is now $1,250.50."]
    (root,) = roots(slack_standin)
    assert Action.SPEND_REQUEST_APPROVE not in json.dumps(root.blocks)
    assert "Approved at $1,250.50 a month by <@U0ADMIN>" in json.dumps(root.blocks)
    (dm,) = slack_standin.dms_to("U0DEV")
    assert dm.text == "Your spend-limit increase was approved: your monthly limit is now $1,250.50."


def test_deny_end_to_end(bot_url: str, deps: Deps, slack_standin, anthropic_standin) -> None:
    request_id = seed_request(anthropic_standin)
    run(deps)
    (message,) = roots(slack_standin)
    url = slack_standin.new_response_url()
    with httpx.Client(timeout=10) as client:
        click = _click(message, Action.SPEND_REQUEST_DENY, trigger_id="1.2.3", response_url=url)
        assert post_slack(client, bot_url, click).status_code == 200
        answer = slack_standin.wait_for_response()[0].body
        assert answer["text"] == "Denied by <@U0ADMIN>." and answer["replace_original"] is False
        post_slack(client, bot_url, click)  # a double click
        again = slack_standin.wait_for_response(count=2)[1].body
        assert again["text"] == "That request was already handled (it is denied)."
    assert anthropic_standin.count("POST", rf"{REQUESTS_PATH}/{request_id}/deny") == 1
    (dm,) = slack_standin.dms_to("U0DEV")
    assert "denied" in (dm.text or "")
