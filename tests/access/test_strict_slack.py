"""Requests through a Slack stand-in as strict as Slack (Block Kit checked, command text entity-encoded):
hostile reasons, refused blocks, and typed text decoded once. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.ids import Callback
from storage.models import RequestState
from tests.access.test_requests import Flow, _root

S = RequestState


@pytest.fixture(autouse=True)
def tiers_on(flow: Flow) -> None:
    """Slack's rate-limit tiers too, a minute lasting 0.6 s: these flows must stay within them."""
    flow.slack.tiers, flow.slack.time_scale = True, 0.01


AMPERSANDS = "&" * 1000  # the request form's maximum (REASON_LIMIT), each "&" five characters once escaped


def _form(flow: Flow, reason: str) -> dict[str, Any]:
    workspaces = {w.name: w.id for w in flow.deps.admin.list_workspaces()}
    return {
        "workspace": {"value": {"type": "static_select", "selected_option": {"value": workspaces["default-ws"]}}},
        "role": {"value": {"type": "static_select", "selected_option": {"value": "workspace_developer"}}},
        "duration": {"value": {"type": "static_select", "selected_option": {"value": "30"}}},
        "reason": {"value": {"type": "plain_text_input", "value": reason}},
    }


def _longest_text(blocks: list[dict[str, Any]]) -> int:
    return max(len(b["text"]["text"]) for b in blocks if b.get("type") == "section" and "text" in b)


def test_a_reason_of_a_thousand_ampersands_reaches_the_admins(flow: Flow) -> None:
    ok = flow.submit(Callback.REQUEST_MODAL, _form(flow, AMPERSANDS), user="U0NEW", metadata='{"channel": "C0ADMIN"}')
    assert ok.status_code == 200
    flow.wait_state(1, S.PENDING)
    flow.slack.wait_for("chat.postEphemeral")  # the receipt comes after the admin post
    assert flow.request(1).admin_message_ts is not None, "the admin message was never posted"
    blocks = _root(flow, 1).blocks
    assert "&amp;&amp;" in json.dumps(blocks) and _longest_text(blocks) <= 3000
    receipt = flow.slack.calls_to("chat.postEphemeral")[-1].body["text"]
    assert "Request #1 sent" in receipt and "nothing was changed" not in receipt
    assert all(c.status == 200 and c.response["ok"] for c in flow.slack.calls_to("chat.postMessage"))
    flow.job("request-nudges")  # nothing left to post, nothing failing
    assert not [c for c in flow.slack.calls if c.status == 429]


def test_a_committed_request_whose_post_failed_is_posted_by_request_nudges(flow: Flow) -> None:
    flow.slack.inject("chat.postMessage", error="not_in_channel")
    ok = flow.submit(Callback.REQUEST_MODAL, _form(flow, AMPERSANDS), user="U0NEW", metadata='{"channel": "C0ADMIN"}')
    assert ok.status_code == 200
    receipt = flow.slack.wait_for("chat.postEphemeral")[-1].body["text"]
    assert "Request #1 sent" in receipt and "couldn't post it to the admin channel yet" in receipt
    assert flow.request(1).admin_message_ts is None
    flow.job("request-nudges")
    assert flow.request(1).admin_message_ts is not None
    assert "&amp;" in json.dumps(_root(flow, 1).blocks)


def test_refused_blocks_still_reach_the_admins_as_text(flow: Flow) -> None:
    flow.slack.inject("chat.postMessage", error="invalid_blocks")
    assert "Request #1 sent" in flow.command("request default-ws evaluating Claude", user="U0NEW")
    root = _root(flow, 1)
    assert root.blocks is None and "Request #1" in root.text
    assert flow.request(1).admin_message_ts == root.ts


def test_an_answer_whose_blocks_are_refused_is_sent_as_text(flow: Flow) -> None:
    flow.slack.inject("response", error="invalid_blocks")  # response_url answers HTTP 400 invalid_blocks
    answer = json.loads(flow.command("requests mine", user="U0NEW"))
    assert answer["text"] and "blocks" not in answer and "Working on it" not in answer["text"]
    refused, accepted = flow.slack.responses[-2:]
    assert (refused.status, refused.body.get("blocks") is not None) == (400, True)
    assert accepted.status == 200


def test_typed_text_is_decoded_once_and_escaped_once(flow: Flow) -> None:
    flow.admin.add_workspace("R&D")
    answer = flow.command("request R&D for 3d <b>tests</b> & more", user="U0NEW")
    assert "Request #1 sent" in answer, answer
    request = flow.request(1)
    assert (request.workspace_name, request.duration_days, request.reason) == ("R&D", 3, "<b>tests</b> & more")
    root = json.dumps(_root(flow, 1).blocks)
    assert "*R&amp;D*" in root and "&amp;amp;" not in root and "&lt;b&gt;tests&lt;/b&gt; &amp; more" in root


def test_for_starts_a_duration_only_when_one_follows(flow: Flow) -> None:
    answer = flow.command("request default-ws for a side project", user="U0NEW")
    assert "Request #1 sent" in answer, answer
    request = flow.request(1)
    assert (request.duration_days, request.reason) == (None, "for a side project")
    refused = flow.command("request default-ws for 7weeks of tests", user="U0NEW")
    assert "I can't read the duration `7weeks`" in refused
