"""Access requests end to end over HTTP, on SQLite and PostgreSQL: signed commands and clicks in,
assertions on what the Slack and Admin API stand-ins received and on the request rows."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import col, select

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
from bot.http import create_web_app
from bot.registry import run_job
from bot.slack.ids import Action, Callback
from storage.db import session_scope
from storage.models import AccessRequest, AuditEvent, RequestState
from tests.botserver import BotServer, command_body, post_slack
from tests.conftest import DepsFactory

S = RequestState


@dataclass
class Flow:
    url: str
    deps: Deps
    slack: Any
    admin: Any
    http: httpx.Client

    def command(self, text: str, *, user: str = "U0DEV") -> str:
        """Send `/claude-key <text>`; return the final answer's text (after the 'Working on it…' ack)."""
        response_url = self.slack.new_response_url()
        before = len(self.slack.responses)
        ack = post_slack(self.http, self.url, command_body(text, user_id=user, response_url=response_url))
        assert ack.status_code == 200, ack.text
        if "Working on it" not in ack.text:
            return ack.text
        replies = self.slack.wait_for_response(count=before + 1)
        return json.dumps(replies[-1].body)

    def click(self, action: str, request_id: int, *, user: str = "U0ADMIN", wait: bool = True) -> dict[str, Any]:
        """Click a request button as `user`; return the ephemeral answer (if any) to the clicker."""
        response_url = self.slack.new_response_url()
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
            "api_app_id": "A0BOT",
            "token": "x",
            "trigger_id": self.slack.new_trigger_id(user_id=user),
            "response_url": response_url,
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "channel": {"id": "C0ADMIN", "name": "admins"},
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0ADMIN"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action,
                    "block_id": f"request_{request_id}",
                    "value": json.dumps({"r": request_id}),
                    "action_ts": "1.2",
                }
            ],
        }
        response = post_slack(self.http, self.url, "payload=" + quote(json.dumps(payload)))
        assert response.status_code == 200
        return {"response_url": response_url}

    def submit(self, callback: str, values: dict[str, Any], *, user: str, metadata: str = "") -> httpx.Response:
        payload = {
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
        return post_slack(self.http, self.url, "payload=" + quote(json.dumps(payload)))

    def request(self, request_id: int) -> AccessRequest:
        with session_scope(self.deps.engine) as session:
            found = session.get(AccessRequest, request_id)
            assert found is not None
            return found

    def wait_state(self, request_id: int, state: str, timeout: float = 10.0) -> AccessRequest:
        import time

        deadline = time.monotonic() + timeout
        while True:
            with session_scope(self.deps.engine) as session:
                request = session.get(AccessRequest, request_id)
            if request is not None and request.state == state:
                return request
            seen = request.state if request else "missing"
            assert time.monotonic() < deadline, f"request #{request_id} is {seen}, wanted {state}"
            time.sleep(0.02)

    def wait_posted(self, text: str, *, channel: str | None = None, thread: bool | None = None) -> None:
        """Wait until the bot posted a message containing `text` (optionally to a channel/user, in a thread)."""

        def match(call: Any) -> bool:
            body = call.body
            return (
                text in str(body.get("text", ""))
                and (channel is None or body.get("channel") in (channel, self.slack.dm_channel_id(channel)))
                and (thread is None or bool(body.get("thread_ts")) == thread)
            )

        self.slack.wait_for("chat.postMessage", predicate=match)

    def job(self, name: str) -> None:
        result = run_job(name, self.deps, out=lambda _: None)
        assert result is not None and not result.errors, result


@pytest.fixture
def flow(settings: Settings, make_deps: DepsFactory, slack_standin, anthropic_standin) -> Iterator[Flow]:
    deps = make_deps()
    slack_standin.add_user("U0NEW", name="newbie", email="new@example.com")
    server = BotServer(create_web_app(create_app(settings, deps), deps)).start()
    with httpx.Client(timeout=15) as client:
        yield Flow(server.url, deps, slack_standin, anthropic_standin, client)
    server.stop()


def _root(flow: Flow, request_id: int) -> Any:
    messages = [m for m in flow.slack.messages("C0ADMIN") if m.thread_ts is None and f"#{request_id}" in m.text]
    assert messages, "no root message"
    return messages[-1]


def _card(flow: Flow, user: str) -> Any:
    """The requester's one status card (asserting there is exactly one top-level DM)."""
    top = [m for m in flow.slack.dms_to(user) if m.thread_ts is None]
    assert len(top) == 1, [m.text for m in top]
    return top[0]


def _wait_card(flow: Flow, user: str, *, edits: int, timeout: float = 10.0) -> Any:
    """The requester's card once it has been edited `edits` times (the edit follows the thread reply)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        top = [m for m in flow.slack.dms_to(user) if m.thread_ts is None]
        if top and len(top[0].edits) >= edits:
            return _card(flow, user)
        assert time.monotonic() < deadline, f"the card of {user} has {len(top[0].edits) if top else 'no'} edits"
        time.sleep(0.02)


def _card_replies(flow: Flow, user: str) -> list[str]:
    card = _card(flow, user)
    return [m.text or "" for m in flow.slack.dms_to(user) if m.thread_ts == card.ts]


def _thread(flow: Flow, request_id: int) -> list[str]:
    root = flow.request(request_id).admin_message_ts
    return [m.text for m in flow.slack.messages("C0ADMIN") if m.thread_ts == root]


def test_non_member_journey_from_request_to_key(flow: Flow) -> None:
    answer = flow.command("request default-ws for 7d evaluating Claude for search", user="U0NEW")
    assert "Request #1 sent" in answer
    request = flow.request(1)
    assert (request.state, request.duration_days, request.requester_email) == (S.PENDING, 7, "new@example.com")
    root = json.dumps(_root(flow, 1).blocks)
    assert "Approve" in root and "Deny" in root and "evaluating Claude for search" in root
    assert "Not yet a member" in root
    assert root.count("#1") == 1  # said once, in the header
    # The receipt and one status card; no link to the admin channel, which U0NEW is not in.
    assert "DM" in answer and "admin channel" not in answer and "/archives/" not in answer
    card = _card(flow, "U0NEW")
    assert "Request #1" in (card.text or "") and "waiting for one of them" in json.dumps(card.blocks)
    assert "/archives/" not in json.dumps(card.blocks) and Action.CANCEL_REQUEST in json.dumps(card.blocks)
    assert (card.edits, _card_replies(flow, "U0NEW")) == ([], [])

    flow.click(Action.APPROVE_REQUEST, 1)
    request = flow.wait_state(1, S.INVITED)
    invites = [r for r in flow.admin.requests if r.method == "POST" and r.path == "/v1/organizations/invites"]
    assert len(invites) == 1 and invites[0].body == {"email": "new@example.com", "role": "developer"}
    flow.wait_posted("Approved by <@U0ADMIN>", thread=True)
    flow.wait_posted("Invite sent to new@example.com", thread=True)
    flow.wait_posted("accept the invitation", channel="U0NEW", thread=True)
    root = json.dumps(_root(flow, 1).blocks)
    assert "Approve" not in root  # buttons gone once decided
    assert "Not yet a member" in root and "When they asked" in root and "evaluating Claude" in root
    assert "approved by <@U0ADMIN>" in root
    card = _card(flow, "U0NEW")
    assert len(card.edits) == 2 and "accept the invitation" in json.dumps(card.blocks)  # approved, then invited
    assert "request_cancel" not in json.dumps(card.blocks) and "✓ Approved → ○ Invite accepted" in json.dumps(
        card.blocks, ensure_ascii=False
    )

    flow.job("invite-sync")  # not accepted yet: nothing moves
    assert flow.request(1).state == S.INVITED
    user = flow.admin.accept_invite(request.invite_id)
    flow.job("invite-sync")
    request = flow.request(1)
    assert request.state == S.GRANTED and request.anthropic_user_id == user["id"]
    assert request.grant_expires_at is not None
    members = [r for r in flow.admin.requests if r.method == "POST" and r.path.endswith("/members")]
    assert members[-1].body == {"user_id": user["id"], "workspace_role": "workspace_developer"}
    replies = _card_replies(flow, "U0NEW")
    assert len(replies) == 2 and "accept the invitation" in replies[0]
    assert "create your API key" in replies[1] and "dev-newbie-" in replies[1]
    assert len(_card(flow, "U0NEW").edits) == 3

    flow.job("key-adoption")
    assert flow.request(1).state == S.GRANTED
    workspace_id = request.workspace_id
    flow.admin.add_api_key(
        name="dev-newbie-search", workspace_id=workspace_id, created_by_user_id=user["id"], partial_key_hint="4f2a"
    )
    flow.job("key-adoption")
    flow.job("key-adoption")  # idempotent
    assert flow.request(1).state == S.FULFILLED
    assert sum("Key `dev-newbie-search` …4f2a created" in t for t in _thread(flow, 1)) == 1
    # One DM for the whole journey: the card, edited at each step (approved, invited, granted, fulfilled), and a
    # reply in its thread for each step the requester had to act on (accept the invite, create the key).
    card = _card(flow, "U0NEW")
    assert len(card.edits) == 4 and "You're all set" in json.dumps(card.blocks)
    assert "✓ Key created" in json.dumps(card.blocks, ensure_ascii=False)
    assert len(_card_replies(flow, "U0NEW")) == 2
    assert len(flow.slack.dms_to("U0NEW")) == 3
    thread = " ".join(_thread(flow, 1))
    assert "as developer" in thread and "workspace_developer" not in thread

    with session_scope(flow.deps.engine) as session:
        actions = [a.action for a in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
    assert actions == ["request.created", "request.approved", "request.invited", "request.granted", "request.fulfilled"]


def test_existing_member_with_user_role_is_raised_and_added(flow: Flow) -> None:
    from datetime import UTC, datetime, timedelta

    member = flow.admin.add_user("viewer@example.com", role="user")
    flow.slack.add_user("U0VIEW", name="viewer", email="viewer@example.com")
    workspace = flow.admin.seeded["workspace"]["id"]
    key = flow.admin.add_api_key(
        name="prod-viewer-old", workspace_id=workspace, created_by_user_id=member["id"], partial_key_hint="9z9z"
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = max(now - timedelta(hours=1), now.replace(day=1, hour=0))
    flow.admin.add_cost(
        starting_at=start, ending_at=start + timedelta(hours=1), amount_cents="1234.5", api_key_id=key["id"]
    )
    flow.command("request default-ws need keys for the batch pipeline", user="U0VIEW")
    root = json.dumps(_root(flow, 1).blocks, ensure_ascii=False)
    assert "Org role: *user*" in root and "Keys (1): `prod-viewer-old` …9z9z" in root
    assert "Spend this month: $12.35" in root, root
    flow.click(Action.APPROVE_REQUEST, 1)
    request = flow.wait_state(1, S.GRANTED)
    assert request.grant_expires_at is None  # permanent
    updates = [
        r for r in flow.admin.requests if r.method == "POST" and r.path == f"/v1/organizations/users/{member['id']}"
    ]
    assert [u.body for u in updates] == [{"role": "developer"}]
    assert not [r for r in flow.admin.requests if r.path == "/v1/organizations/invites" and r.method == "POST"]
    flow.wait_posted("Org role raised from user to developer", thread=True)


def test_deny_with_a_reason_tells_the_requester(flow: Flow) -> None:
    flow.command("request default-ws for 1d trying it", user="U0NEW")
    flow.click(Action.DENY_REQUEST, 1)
    opened = flow.slack.wait_for("views.open")
    assert opened[-1].body["view"]["callback_id"] == Callback.DENY_MODAL
    empty = flow.submit(
        Callback.DENY_MODAL,
        {"reason": {"value": {"type": "plain_text_input", "value": " "}}},
        user="U0ADMIN",
        metadata='{"r": 1}',
    )
    assert empty.json()["response_action"] == "errors"
    assert flow.request(1).state == S.PENDING
    flow.submit(
        Callback.DENY_MODAL,
        {"reason": {"value": {"type": "plain_text_input", "value": "use the sandbox"}}},
        user="U0ADMIN",
        metadata='{"r": 1}',
    )
    flow.wait_state(1, S.DENIED)
    flow.wait_posted("Denied by <@U0ADMIN>: use the sandbox", thread=True)
    flow.wait_posted("use the sandbox", channel="U0NEW", thread=True)
    card = _card(flow, "U0NEW")  # the same card, edited; the decision also in its thread (Slack notifies)
    assert len(card.edits) == 1 and "<@U0ADMIN> denied this request: use the sandbox" in json.dumps(card.blocks)
    assert "request_cancel" not in json.dumps(card.blocks)
    assert _card_replies(flow, "U0NEW") == ["<@U0ADMIN> denied this request: use the sandbox"]
    root = json.dumps(_root(flow, 1).blocks)
    assert "trying it" in root and "Not yet a member" in root and "denied by <@U0ADMIN>" in root


def test_requester_cancels_from_their_list(flow: Flow) -> None:
    flow.command("request default-ws for 30d long project", user="U0NEW")
    listing = flow.command("requests mine", user="U0NEW")
    assert "Request #1" in listing and Action.CANCEL_REQUEST in listing
    flow.click(Action.CANCEL_REQUEST, 1, user="U0DEV")  # not theirs
    reply = flow.slack.wait_for_response(predicate=lambda r: "Only the person who asked" in json.dumps(r.body))
    assert reply and flow.request(1).state == S.PENDING
    flow.click(Action.CANCEL_REQUEST, 1, user="U0NEW")
    flow.wait_state(1, S.CANCELLED)
    flow.wait_posted("Cancelled by the requester", thread=True)
    card = _wait_card(flow, "U0NEW", edits=1)
    assert len(card.edits) == 1 and "You cancelled this request" in json.dumps(card.blocks)
    assert "request_cancel" not in json.dumps(card.blocks) and _card_replies(flow, "U0NEW") == []


def test_duplicate_open_request_links_to_the_first(flow: Flow) -> None:
    flow.command("request default-ws first ask", user="U0NEW")
    answer = flow.command("request DEFAULT-WS second ask", user="U0NEW")
    assert "already have an open request #1" in answer and "/archives/" not in answer  # not in the admin channel
    with session_scope(flow.deps.engine) as session:
        assert len(session.exec(select(AccessRequest)).all()) == 1
    flow.slack.add_user("U0ADM2", name="admin2", email="admin2@example.com")
    flow.slack.add_channel("C0ADMIN", name="claude-key-admins", is_private=True, members=["U0ADMIN", "U0ADM2"])
    flow.deps.cache.clear()  # the members were cached by the first request
    flow.command("request default-ws admin2 asks", user="U0ADM2")
    answer = flow.command("request default-ws admin2 asks again", user="U0ADM2")
    assert "already have an open request #2" in answer and "/archives/C0ADMIN/p" in answer


def test_self_approval_and_non_admins_are_refused(flow: Flow) -> None:
    flow.slack.add_user("U0ADM2", name="admin2", email="admin2@example.com")
    flow.admin.add_user("admin2@example.com", role="admin")
    flow.command("request default-ws for 7d admin needs a key", user="U0ADM2")
    flow.click(Action.APPROVE_REQUEST, 1, user="U0ADM2")
    flow.slack.wait_for_response(predicate=lambda r: "can't approve your own request" in json.dumps(r.body))
    flow.click(Action.APPROVE_REQUEST, 1, user="U0DEV")
    flow.slack.wait_for_response(predicate=lambda r: "Only admins can approve" in json.dumps(r.body))
    assert flow.request(1).state == S.PENDING
    assert not [r for r in flow.admin.requests if r.method == "POST"]


def test_hundred_concurrent_approvals_make_one_invite_and_one_reply(flow: Flow) -> None:
    flow.command("request default-ws for 7d concurrency test", user="U0NEW")
    barrier = threading.Barrier(20)

    def clicker() -> None:
        with httpx.Client(timeout=30) as client:
            mine = Flow(flow.url, flow.deps, flow.slack, flow.admin, client)
            barrier.wait()
            for _ in range(5):
                mine.click(Action.APPROVE_REQUEST, 1)

    threads = [threading.Thread(target=clicker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flow.wait_state(1, S.INVITED, timeout=30)
    flow.slack.wait_for_response(count=99, predicate=lambda r: "already" in json.dumps(r.body), timeout=30)
    invites = [r for r in flow.admin.requests if r.method == "POST" and r.path == "/v1/organizations/invites"]
    assert len(invites) == 1
    assert sum("Approved by" in t for t in _thread(flow, 1)) == 1
    losers = [r for r in flow.slack.responses if "already" in json.dumps(r.body)]
    assert len(losers) == 99 and "by <@U0ADMIN>" in json.dumps(losers[0].body)


@pytest.mark.parametrize("fault", [429, 503])
def test_api_failure_fails_with_retry_then_retry_succeeds(flow: Flow, fault: int) -> None:
    flow.command("request default-ws for 7d resilience", user="U0NEW")
    headers = {"retry-after": "120"} if fault == 429 else None
    flow.admin.inject("POST", r"/v1/organizations/invites", status=fault, headers=headers, times=5)
    flow.click(Action.APPROVE_REQUEST, 1)
    request = flow.wait_state(1, S.FAILED)
    assert request.last_error and "Anthropic" in request.last_error
    flow.wait_posted("didn't work", thread=True)
    flow.slack.wait_for("chat.update", predicate=lambda c: "request_retry" in json.dumps(c.body))
    flow.admin.clear_faults()
    flow.click(Action.RETRY_REQUEST, 1)
    flow.wait_state(1, S.INVITED)
    invites = [r for r in flow.admin.requests if r.method == "POST" and r.path == "/v1/organizations/invites"]
    assert invites[-1].body["email"] == "new@example.com"


def test_interrupted_approval_is_resumed_by_invite_sync(flow: Flow) -> None:
    from datetime import timedelta

    flow.command("request default-ws for 7d crash test", user="U0NEW")
    with session_scope(flow.deps.engine) as session:  # as if the process died right after the approval commit
        request = session.get(AccessRequest, 1)
        assert request is not None
        request.state = S.APPROVED
        request.updated_at = request.updated_at - timedelta(minutes=10)
        session.add(request)
    flow.job("invite-sync")
    assert flow.request(1).state == S.INVITED
    assert any("Resuming this approval" in t for t in _thread(flow, 1))


def test_hostile_reason_is_escaped_and_truncated(flow: Flow) -> None:
    reason = "<!channel> <@U123> <https://evil.example|click> :tada: " + "x" * 4000
    flow.command(f"request default-ws {reason}", user="U0NEW")
    root = json.dumps(_root(flow, 1).blocks)
    assert "<!channel>" not in root and "<@U123>" not in root and "<https://evil" not in root
    assert "&lt;!channel&gt;" in root and ":tada:" in root
    assert "x" * 1200 not in root


def test_invite_command_for_admins_and_requests_for_others(flow: Flow) -> None:
    answer = flow.command("invite <mailto:Pat@Example.com|Pat@Example.com> billing", user="U0ADMIN")
    assert "Invited pat@example.com as billing" in answer
    answer = flow.command("invite sam@example.com", user="U0DEV")
    assert "Request #1 sent" in answer and "invite for sam@example.com" in answer
    flow.click(Action.APPROVE_REQUEST, 1)
    flow.wait_state(1, S.INVITED)
    for bad, expected in [
        ("invite someone", "not an email"),
        ("invite x@example.com admin", "cannot make anyone an"),
        ("invite x@example.com owner", "not a role"),
    ]:
        assert expected in flow.command(bad, user="U0ADMIN")
    flow.admin.add_user("taken@example.com")
    assert "already" in flow.command("invite taken@example.com", user="U0ADMIN").lower()


def test_bad_request_input_is_answered_not_stored(flow: Flow) -> None:
    assert "don't know the workspace" in flow.command("request nope-ws because", user="U0NEW")
    assert "add a reason" in flow.command("request default-ws", user="U0NEW")
    assert "1 to 90 days" in flow.command("request default-ws for 400d reason", user="U0NEW")
    with session_scope(flow.deps.engine) as session:
        assert session.exec(select(AccessRequest)).all() == []


def test_request_form_loads_live_workspaces_and_validates_in_the_modal(flow: Flow) -> None:
    flow.admin.add_workspace("ml-platform")
    response_url = flow.slack.new_response_url()
    trigger = flow.slack.new_trigger_id(user_id="U0NEW")
    body = command_body("request", user_id="U0NEW", response_url=response_url, trigger_id=trigger)
    assert post_slack(flow.http, flow.url, body).status_code == 200
    opened = flow.slack.wait_for("views.open")[-1]
    assert "Loading" in json.dumps(opened.body["view"])
    updated = flow.slack.wait_for("views.update")[-1]
    view = updated.body["view"]
    rendered = json.dumps(view)
    assert "default-ws" in rendered and "ml-platform" in rendered and view["submit"]["text"] == "Send request"
    workspaces = {w.name: w.id for w in flow.deps.admin.list_workspaces()}

    def values(reason: str) -> dict[str, Any]:
        return {
            "workspace": {"value": {"type": "static_select", "selected_option": {"value": workspaces["ml-platform"]}}},
            "role": {"value": {"type": "static_select", "selected_option": {"value": "workspace_developer"}}},
            "duration": {"value": {"type": "static_select", "selected_option": {"value": "30"}}},
            "reason": {"value": {"type": "plain_text_input", "value": reason}},
        }

    invalid = flow.submit(Callback.REQUEST_MODAL, values("   "), user="U0NEW", metadata='{"channel": "C0ADMIN"}')
    assert invalid.json() == {"response_action": "errors", "errors": {"reason": "Tell the admins why you need access."}}
    ok = flow.submit(
        Callback.REQUEST_MODAL, values("training a classifier"), user="U0NEW", metadata='{"channel": "C0ADMIN"}'
    )
    assert ok.status_code == 200 and ok.text == ""
    request = flow.wait_state(1, S.PENDING)
    assert (request.workspace_name, request.duration_days, request.reason) == (
        "ml-platform",
        30,
        "training a classifier",
    )
    receipt = flow.slack.wait_for("chat.postEphemeral")[-1]
    assert receipt.body["user"] == "U0NEW" and "Request #1 sent" in receipt.body["text"]


def test_open_requests_per_person_are_capped(flow: Flow) -> None:
    from bot.access.model import MAX_OPEN_REQUESTS

    for n in range(1, MAX_OPEN_REQUESTS + 1):
        assert f"Request #{n} sent" in flow.command(f"invite friend{n}@example.com", user="U0NEW")
    answer = flow.command("invite friend99@example.com", user="U0NEW")
    assert f"You already have {MAX_OPEN_REQUESTS} open requests" in answer, answer
    assert "#1 (invite friend1@example.com, pending)" in answer and "/claude-key requests mine" in answer
    roots = [m for m in flow.slack.messages("C0ADMIN") if m.thread_ts is None]
    assert len(roots) == MAX_OPEN_REQUESTS  # no admin post for the refused one
    with session_scope(flow.deps.engine) as session:
        assert len(session.exec(select(AccessRequest)).all()) == MAX_OPEN_REQUESTS
    flow.click(Action.CANCEL_REQUEST, 1, user="U0NEW")
    flow.wait_state(1, S.CANCELLED)
    flow.slack.wait_for_response(predicate=lambda r: "Request #1 cancelled" in json.dumps(r.body))
    assert "Request #4 sent" in flow.command("request default-ws for 7d one more", user="U0NEW")


def test_past_a_hundred_workspaces_the_picker_loads_matches_as_people_type(flow: Flow) -> None:
    for n in range(150):
        flow.admin.add_workspace(f"team-{n:03d}")
    trigger = flow.slack.new_trigger_id(user_id="U0NEW")
    body = command_body("request", user_id="U0NEW", response_url=flow.slack.new_response_url(), trigger_id=trigger)
    assert post_slack(flow.http, flow.url, body).status_code == 200
    view = flow.slack.wait_for("views.update")[-1].body["view"]
    (picker,) = [b["element"] for b in view["blocks"] if b.get("block_id") == "workspace"]
    assert picker["type"] == "external_select" and "options" not in picker
    suggestion = {
        "type": "block_suggestion",
        "user": {"id": "U0NEW", "team_id": "T0STANDIN"},
        "team": {"id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "action_id": "value",
        "block_id": "workspace",
        "value": "TEAM-14",
        "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "modal", "callback_id": Callback.REQUEST_MODAL, "private_metadata": ""},
    }
    answer = post_slack(flow.http, flow.url, f"payload={quote(json.dumps(suggestion))}")
    assert answer.status_code == 200
    names = [o["text"]["text"] for o in answer.json()["options"]]
    assert names == [f"team-14{n}" for n in range(10)]  # any case, in name order
    everything = post_slack(flow.http, flow.url, f"payload={quote(json.dumps(suggestion | {'value': ''}))}").json()[
        "options"
    ]
    assert len(everything) == 100  # Slack shows at most 100
    workspaces = {w.name: w.id for w in flow.deps.admin.list_workspaces()}
    values = {
        "workspace": {"value": {"type": "external_select", "selected_option": {"value": workspaces["team-149"]}}},
        "role": {"value": {"type": "static_select", "selected_option": {"value": "workspace_developer"}}},
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "0"}}},
        "reason": {"value": {"type": "plain_text_input", "value": "the 150th team"}},
    }
    assert flow.submit(Callback.REQUEST_MODAL, values, user="U0NEW").status_code == 200
    assert flow.wait_state(1, S.PENDING).workspace_name == "team-149"


def test_the_card_links_the_admin_thread_only_for_people_in_the_admin_channel(flow: Flow) -> None:
    flow.slack.add_channel("C0ADMIN", name="claude-key-admins", is_private=True, members=["U0ADMIN", "U0NEW"])
    answer = flow.command("request default-ws for 7d a member of the admin channel", user="U0NEW")
    assert "/archives/C0ADMIN/p" in answer  # the receipt
    card = _card(flow, "U0NEW")
    assert "/archives/C0ADMIN/p" in json.dumps(card.blocks)
    answer = flow.command("request default-ws for 7d not a member", user="U0DEV")
    assert "/archives/" not in answer and "/archives/" not in json.dumps(_card(flow, "U0DEV").blocks)
    members = [c for c in flow.slack.calls if c.method == "conversations.members"]
    assert len(members) == 1  # read once, then cached


def test_a_member_granted_at_once_gets_one_card_and_one_reply(flow: Flow) -> None:
    flow.command("request default-ws for 7d batch jobs", user="U0DEV")
    flow.click(Action.APPROVE_REQUEST, 1)
    flow.wait_state(1, S.GRANTED)
    flow.wait_posted("create your API key", channel="U0DEV", thread=True)
    card = _card(flow, "U0DEV")
    assert len(card.edits) == 2  # approved, granted
    blocks = json.dumps(card.blocks, ensure_ascii=False)
    assert "✓ Access granted → ○ Key created" in blocks and "Invite accepted" not in blocks
    replies = _card_replies(flow, "U0DEV")
    assert len(replies) == 1 and "create your API key" in replies[0]


def test_hostile_workspace_name_fits_the_cards(flow: Flow) -> None:
    name = ("<!channel> *bold* `x` & <@U0EVIL|boss> 🔥" * 20)[:200]
    flow.admin.add_workspace(name)
    workspace_id = next(w.id for w in flow.deps.admin.list_workspaces() if w.name == name)
    values = {
        "workspace": {"value": {"type": "static_select", "selected_option": {"value": workspace_id}}},
        "role": {"value": {"type": "static_select", "selected_option": {"value": "workspace_developer"}}},
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "7"}}},
        "reason": {"value": {"type": "plain_text_input", "value": "&" * 1000}},
    }
    flow.slack.add_channel("C0GEN", name="general", members=["U0NEW"])
    submitted = flow.submit(Callback.REQUEST_MODAL, values, user="U0NEW", metadata='{"channel": "C0GEN"}')
    assert submitted.status_code == 200
    flow.wait_state(1, S.PENDING)
    flow.click(Action.APPROVE_REQUEST, 1)
    flow.wait_state(1, S.INVITED)
    for blocks in (_wait_card(flow, "U0NEW", edits=2).blocks, _root(flow, 1).blocks):
        assert blocks, "the blocks were refused (only the fallback text went out)"
        rendered = json.dumps(blocks)
        assert "<!channel>" not in rendered and "<@U0EVIL" not in rendered and "&lt;!channel&gt;" in rendered
