"""Forged, unsigned and replayed button clicks and Events API bodies get 401 and run nothing.

tests/test_http_e2e.py covers slash commands; here the same tampering is applied to an Approve click (an
access request is pending, so a listener that ran would call the Admin API) and to an `app_home_opened` event
(a listener that ran would call views.publish).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from bot.slack.ids import Action
from storage.db import session_scope
from storage.models import AccessRequest, RequestState
from tests.botserver import event_body, signed_headers

TAMPERING = ["wrong-secret", "stale", "future", "no-signature", "no-timestamp", "body-changed"]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _tampered(body: str, tamper: str, content_type: str) -> tuple[str, dict[str, str]]:
    now = int(time.time())
    if tamper == "wrong-secret":
        return body, signed_headers(body, secret="not-the-secret", content_type=content_type)
    if tamper == "stale":  # a replay of a genuine request, 5 min 1 s later
        return body, signed_headers(body, timestamp=now - 301, content_type=content_type)
    if tamper == "future":
        return body, signed_headers(body, timestamp=now + 400, content_type=content_type)
    if tamper == "no-signature":
        return body, {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(now)}
    if tamper == "no-timestamp":
        headers = signed_headers(body, content_type=content_type)
        del headers["X-Slack-Request-Timestamp"]
        return body, headers
    headers = signed_headers(body, content_type=content_type)
    return body.replace("U0", "U1", 1), headers  # signed, then changed in flight


def _pending_request(deps) -> int:
    with session_scope(deps.engine) as session:
        row = AccessRequest(
            requester_slack_id="U0DEV",
            requester_email="dev@example.com",
            workspace_id="wrkspc_x",
            workspace_name="default-ws",
            reason="abuse test",
        )
        session.add(row)
        session.flush()
        return row.id or 0


def _approve_click(request_id: int, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ADMIN", "username": "admin", "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "C0ADMIN", "name": "admins"},
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0ADMIN"},
        "actions": [
            {
                "type": "button",
                "action_id": Action.APPROVE_REQUEST,
                "block_id": "b",
                "value": json.dumps({"r": request_id}),
                "action_ts": "1.2",
            }
        ],
    }
    return "payload=" + quote(json.dumps(payload))


@pytest.mark.parametrize("tamper", TAMPERING)
def test_tampered_button_click_gets_401_and_runs_nothing(
    bot_url: str, client: httpx.Client, slack_standin, anthropic_standin, deps, tamper: str
) -> None:
    request_id = _pending_request(deps)
    response_url = slack_standin.new_response_url()
    body, headers = _tampered(_approve_click(request_id, response_url), tamper, "application/x-www-form-urlencoded")
    slack_standin.reset_calls()
    anthropic_standin.reset_requests()
    response = client.post(f"{bot_url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    with session_scope(deps.engine) as session:
        assert session.get(AccessRequest, request_id).state == RequestState.PENDING  # type: ignore[union-attr]
    assert slack_standin.calls == [] and slack_standin.responses == []
    assert anthropic_standin.requests == []
    # The same click, signed properly, does run (so the stand-ins above would have seen a listener's work).
    genuine = _approve_click(request_id, response_url)
    ok = client.post(f"{bot_url}/slack/events", content=genuine, headers=signed_headers(genuine))
    assert ok.status_code == 200
    anthropic_standin.wait_for(timeout=10)  # the listener does run for a signed click


@pytest.mark.parametrize("tamper", TAMPERING)
def test_tampered_event_gets_401_and_runs_nothing(
    bot_url: str, client: httpx.Client, slack_standin, anthropic_standin, tamper: str
) -> None:
    event = {
        "type": "app_home_opened",
        "user": "U0DEV",
        "channel": "D0DEV",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    body, headers = _tampered(event_body(event, event_id=f"EvAbuse{tamper}"), tamper, "application/json")
    slack_standin.reset_calls()
    anthropic_standin.reset_requests()
    response = client.post(f"{bot_url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    # A genuine event afterwards is published; the forged one never was.
    genuine = event_body(event, event_id="EvAbuseGenuine")
    assert (
        client.post(
            f"{bot_url}/slack/events", content=genuine, headers=signed_headers(genuine, content_type="application/json")
        ).status_code
        == 200
    )
    published = slack_standin.wait_for("views.publish", timeout=10)
    assert [call.body["user_id"] for call in published] == ["U0DEV"]
    assert len(slack_standin.calls_to("views.publish")) == 1


def test_url_verification_with_a_forged_signature_is_refused(bot_url: str, client: httpx.Client) -> None:
    body = json.dumps({"token": "x", "challenge": "forged-challenge", "type": "url_verification"})
    response = client.post(
        f"{bot_url}/slack/events",
        content=body,
        headers=signed_headers(body, secret="nope", content_type="application/json"),
    )
    assert response.status_code == 401
    assert "forged-challenge" not in response.text
