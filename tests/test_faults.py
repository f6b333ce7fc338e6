"""Faults through the stand-ins (their inject() APIs), on SQLite and PostgreSQL: the Admin API misbehaving
(429 with a huge retry-after, 5xx, timeouts, resets, malformed JSON), Slack misbehaving (429, channel and DM
errors) and the database failing mid-change. Users get one clear sentence, requests go to `failed` with Retry,
jobs record a failure and carry on, and nothing is half-written."""
# ruff: noqa: F811  (the `flow` fixture is imported from tests/access/test_requests.py, then requested by name)

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlmodel import col, select

from bot.anthropic_admin import AdminGateway
from bot.core.errors import DB_UNAVAILABLE
from bot.registry import run_job
from bot.slack.ids import Action
from storage.db import make_engine, session_scope
from storage.models import AccessRequest, AuditEvent, RequestState
from tests.access.test_requests import Flow, flow  # noqa: F401 - fixture

S = RequestState
INVITES = "/v1/organizations/invites"
KEYS = "/v1/organizations/api_keys"
UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/none"


class Sleeps(list[float]):
    """The gateway's injected sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fast_gateway(flow: Flow, *, timeout: float = 10.0) -> Sleeps:
    """Give the bot an Admin API gateway whose retry waits are recorded, not slept (and a short timeout)."""
    sleeps = Sleeps()
    flow.deps.admin.close()
    flow.deps.admin = AdminGateway(
        api_key=SecretStr(flow.admin.admin_key), base_url=flow.admin.base_url, timeout=timeout, sleep=sleeps
    )
    return sleeps


# -- the Admin API ------------------------------------------------------------------------------------------------

ADMIN_FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "429-huge-retry-after": ({"status": 429, "headers": {"retry-after": "7200"}}, "rate-limiting the bot"),
    "500": ({"status": 500, "times": 3}, "having trouble right now"),
    "529": ({"status": 529, "error_type": "overloaded_error", "times": 3}, "having trouble right now"),
    "timeout": ({"status": None, "delay": 1.0, "times": 3}, "didn't answer in time"),
    "reset": ({"reset_connection": True, "times": 3}, "couldn't reach the Anthropic Admin API"),
    "malformed-json": ({"status": 200, "malformed_json": True}, "couldn't read"),
}


@pytest.mark.parametrize("fault", list(ADMIN_FAULTS))
def test_admin_api_fault_answers_a_command_with_one_sentence(flow: Flow, fault: str) -> None:
    sleeps = fast_gateway(flow, timeout=0.3)
    kwargs, sentence = ADMIN_FAULTS[fault]
    flow.command("keys all", user="U0ADMIN")  # resolve the admin once, so only the keys listing meets the fault
    flow.admin.inject("GET", KEYS, **kwargs)
    answer = json.loads(flow.command("keys all", user="U0ADMIN"))
    assert sentence in answer["text"], answer
    assert answer["text"].count(".") <= 2 and "Traceback" not in answer["text"]  # one sentence, no internals
    if fault == "429-huge-retry-after":
        assert sleeps == [] and "2 hours" in answer["text"]  # not slept on: the user is told when to come back
    elif fault == "malformed-json":
        assert sleeps == []  # an unreadable answer is not resent
    else:
        assert len(sleeps) == 2 and all(s <= 8 for s in sleeps)  # bounded retries, bounded waits
    assert flow.admin.count("GET", KEYS) == 1 + (1 if kwargs.get("times", 1) == 1 else 3)
    flow.admin.clear_faults()
    assert "All API keys" in flow.command("keys all", user="U0ADMIN")  # and it recovers


@pytest.mark.parametrize("fault", ["timeout", "reset", "malformed-json", "529"])
def test_approval_meeting_an_admin_api_fault_fails_with_retry(flow: Flow, fault: str) -> None:
    fast_gateway(flow, timeout=0.3)
    flow.command("request default-ws for 7d fault test", user="U0NEW")
    kwargs, sentence = ADMIN_FAULTS[fault]
    flow.admin.inject("POST", INVITES, **kwargs)
    flow.click(Action.APPROVE_REQUEST, 1)
    request = flow.wait_state(1, S.FAILED)
    assert request.last_error and sentence in request.last_error
    flow.wait_posted("That didn't work", thread=True)
    flow.slack.wait_for("chat.update", predicate=lambda c: Action.RETRY_REQUEST in json.dumps(c.body))
    flow.admin.clear_faults()
    if fault == "timeout":  # the slow attempts still land after the bot gave up: the invite exists meanwhile
        deadline = time.monotonic() + 10
        while not flow.deps.admin.list_invites(email="new@example.com"):
            assert time.monotonic() < deadline, "the slow invite never landed"
            time.sleep(0.05)
    flow.click(Action.RETRY_REQUEST, 1)
    request = flow.wait_state(1, S.INVITED)
    gateway = flow.deps.admin
    pending = gateway.list_invites(email="new@example.com")
    assert [i.id for i in pending] == [request.invite_id]  # exactly one invite, whatever the lost calls did
    with session_scope(flow.deps.engine) as session:
        actions = [a.action for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
    assert actions == ["request.created", "request.approved", "request.failed", "request.retried", "request.invited"]


def test_a_job_records_one_failure_and_continues_with_the_next_request(flow: Flow) -> None:
    fast_gateway(flow)
    ws = flow.admin.seeded["workspace"]["id"]
    now = datetime.now(UTC)
    users = [flow.admin.add_user(f"grantee{n}@example.com", role="developer")["id"] for n in (1, 2)]
    with session_scope(flow.deps.engine) as session:
        for n, user in enumerate(users, start=1):
            session.add(
                AccessRequest(
                    requester_slack_id=f"U0G{n}",
                    requester_email=f"grantee{n}@example.com",
                    anthropic_user_id=user,
                    workspace_id=ws,
                    workspace_name="default-ws",
                    state=S.GRANTED,
                    granted_at=now - timedelta(hours=1),
                )
            )
    for user in users:
        flow.admin.add_api_key(name=f"key-{user}", workspace_id=ws, created_by_user_id=user)
    flow.admin.inject("GET", KEYS, status=500, times=3)  # the first request's lookup fails every attempt
    result = run_job("key-adoption", flow.deps, out=lambda _: None)
    assert result is not None
    assert len(result.errors) == 1 and "#1" in result.errors[0] and "having trouble" in result.errors[0]
    assert flow.request(1).state == S.GRANTED and flow.request(2).state == S.FULFILLED
    flow.wait_posted(f"Key `key-{users[1]}`")
    again = run_job("key-adoption", flow.deps, out=lambda _: None)  # the next run picks the first one up
    assert again is not None and again.errors == [] and flow.request(1).state == S.FULFILLED


# -- Slack --------------------------------------------------------------------------------------------------------


def test_slack_429_is_retried_after_retry_after(flow: Flow) -> None:
    flow.command("request default-ws for 7d slow slack", user="U0NEW")
    with session_scope(flow.deps.engine) as session:
        session.execute(
            text("UPDATE access_request SET created_at = :t WHERE id = 1"),
            {"t": datetime.now(UTC) - timedelta(hours=5)},
        )
    flow.slack.reset_calls()
    flow.slack.inject("chat.postMessage", retry_after=1)
    result = run_job("request-nudges", flow.deps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent == 1
    calls = flow.slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert "Still waiting" in calls[1].body["text"]


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_admin_channel_unreachable_keeps_the_request_and_reposts_it_later(
    flow: Flow, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    flow.slack.inject("chat.postMessage", error=error)  # the request's root message
    answer = flow.command("request default-ws for 7d channel trouble", user="U0NEW")
    assert "Request #1" in answer
    request = flow.request(1)
    assert request.state == S.PENDING and request.admin_message_ts is None
    logged = [r.getMessage() for r in caplog.records if "admin channel" in r.getMessage()]
    assert any(error in m and "invite the bot to ADMIN_CHANNEL_ID" in m for m in logged), logged
    result = run_job("request-nudges", flow.deps, out=lambda _: None)  # the channel works again
    assert result is not None and result.errors == [] and result.sent == 1
    assert flow.request(1).admin_message_ts is not None
    roots = [m for m in flow.slack.messages("C0ADMIN") if m.thread_ts is None and "#1" in (m.text or "")]
    assert len(roots) == 1
    again = run_job("request-nudges", flow.deps, out=lambda _: None)
    assert again is not None and again.sent == 0


@pytest.mark.parametrize("error", ["messages_tab_disabled", "user_not_found"])
def test_undeliverable_dm_still_changes_state_and_is_logged(
    flow: Flow, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    requester = "U0NEW"
    if error == "messages_tab_disabled":
        flow.command("request default-ws for 7d no dms", user=requester)
        flow.slack.messages_tab_enabled = False
    else:  # the requester left Slack after asking
        requester = "U0GONE"
        with session_scope(flow.deps.engine) as session:
            session.add(
                AccessRequest(
                    requester_slack_id=requester,
                    requester_email="gone@example.com",
                    workspace_id=flow.admin.seeded["workspace"]["id"],
                    workspace_name="default-ws",
                    reason="left",
                )
            )
    flow.submit(
        "deny_modal",
        {"reason": {"value": {"type": "plain_text_input", "value": "no budget"}}},
        user="U0ADMIN",
        metadata='{"r": 1}',
    )
    flow.wait_state(1, S.DENIED)
    flow.wait_posted("Denied by <@U0ADMIN>: no budget")
    failed = flow.slack.wait_for(
        "conversations.open" if error == "user_not_found" else "chat.postMessage",
        predicate=lambda c: c.response and c.response.get("error") == error,
    )
    assert failed
    deadline = time.monotonic() + 5
    while not any("could not DM the requester" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.02)
    assert error in next(r.getMessage() for r in caplog.records if "could not DM the requester" in r.getMessage())
    assert "Only" not in flow.command("requests mine", user="U0ADMIN")  # the bot still answers


# -- the database -------------------------------------------------------------------------------------------------


def test_commands_answer_temporarily_unavailable_when_the_database_is_down(flow: Flow) -> None:
    flow.command("requests mine", user="U0DEV")  # warm up: the caller is resolved once with the database up
    flow.deps.engine = make_engine(UNREACHABLE_DB)
    for command in ("requests mine", "request default-ws for 7d db down", "requests pending"):
        answer = json.loads(flow.command(command, user="U0ADMIN" if "pending" in command else "U0DEV"))
        assert answer["text"] == DB_UNAVAILABLE


def test_an_approval_whose_audit_insert_fails_leaves_the_request_pending(flow: Flow) -> None:
    flow.command("request default-ws for 7d atomic", user="U0NEW")
    with session_scope(flow.deps.engine) as session:  # break the schema under the running bot
        session.execute(text("ALTER TABLE audit_event RENAME TO audit_event_broken"))
    try:
        flow.click(Action.APPROVE_REQUEST, 1)
        reply = flow.slack.wait_for_response(predicate=lambda r: "nothing was changed" in json.dumps(r.body))
        assert reply
    finally:
        with session_scope(flow.deps.engine) as session:
            session.execute(text("ALTER TABLE audit_event_broken RENAME TO audit_event"))
    request = flow.request(1)
    assert (request.state, request.decided_by_slack_id, request.decided_at) == (S.PENDING, None, None)
    assert flow.admin.count("POST", INVITES) == 0  # the Admin API was never told
    assert not any("Approved by" in (m.text or "") for m in flow.slack.messages("C0ADMIN"))
    flow.click(Action.APPROVE_REQUEST, 1)  # the schema is back: the same click works
    flow.wait_state(1, S.INVITED)
    assert flow.admin.count("POST", INVITES) == 1
