"""Property-based fuzzing (hypothesis) of slash-command text and modal inputs, over real HTTP on one bot server
per module (the role matrix's `world`, SQLite): every input is acked with 200 and answered, and user text never
reaches Slack unescaped (no channel pings, no links or mentions smuggled in from the input).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.commands import Sub
from bot.slack.ids import Callback
from bot.spend.blocks_spend_limits import AMOUNT_BLOCK, AMOUNT_INPUT
from tests.botserver import command_body, post_slack
from tests.test_role_matrix import World, new_request, new_spend_request, world  # noqa: F401 - fixture

# Hostile fragments: pings, mentions, links and markup a user might try to get the bot to repeat.
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@UEVIL1>",
    "<@UEVIL2|boss>",
    "<https://evil.example|y>",
    "<https://evil.example>",
    "<#C0EVIL>",
    "<!subteam^S0EVIL>",
    "```",
    "`",
    "*",
    "_",
    "~",
    "&",
    "&lt;",
    ":rocket:",
    "🔥",
    "\u202e",
    "\x00",
    "\x1b[31m",
    "\n",
    "\t",
    "@channel",
    "@here",
    "default-ws",
    "7d",
    "for",
    "apikey_01X",
    "-1",
    "1e9",
    "NaN",
    "x" * 300,
]
# What must never appear in a message the bot sends, anywhere (the bot itself never writes these).
FORBIDDEN = ["<!channel", "<!here", "<!everyone", "<https://evil", "<#C0EVIL", "<!subteam"]
# Mentions of the hostile ids may appear in an ephemeral answer to the person who typed them (the bot names the
# user they asked about), never in a message others see.
FORBIDDEN_IN_PUBLIC = ["<@UEVIL"]
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}

words = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
hostile_text = st.one_of(
    st.lists(words, max_size=12).map(" ".join),
    st.text(max_size=3000),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=3000, max_size=4000),
)
prefixes = st.sampled_from(
    [s.value for s in Sub]
    + [
        "usage me",
        "usage org",
        "usage workspace",
        "keys mine",
        "keys all",
        "requests mine",
        "requests pending",
        "budget show",
        "budget set",
        "budget thresholds",
        "request default-ws",
        "request default-ws for 7d",
        "members invites",
        "members workspace",
        "limits workspace",  # rate limits
        "",
    ]
)
actors = st.sampled_from(["U0DEV", "U0ADMIN", "U0NEW"])
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def _scan(w: World, calls_before: int, responses_before: int) -> None:
    for call in w.slack.calls[calls_before:]:
        if call.method in MESSAGE_METHODS or call.method.startswith("views."):
            text = json.dumps(call.body, ensure_ascii=False)
            for bad in FORBIDDEN:
                assert bad not in text, f"{bad} reached Slack in {call.method}: {text[:400]}"
            if call.method != "chat.postEphemeral":
                for bad in FORBIDDEN_IN_PUBLIC:
                    assert bad not in text, f"{bad} reached Slack in {call.method}: {text[:400]}"
    for response in w.slack.responses[responses_before:]:
        text = json.dumps(response.body, ensure_ascii=False)
        for bad in FORBIDDEN:
            assert bad not in text, f"{bad} reached a response_url: {text[:400]}"


@FUZZ
@given(prefix=prefixes, rest=hostile_text, actor=actors)
def test_any_command_text_is_acked_answered_and_escaped(
    world: World,  # noqa: F811
    prefix: str,
    rest: str,
    actor: str,
) -> None:
    w = world
    w.executor.wait_idle()
    calls, responses = len(w.slack.calls), len(w.slack.responses)
    response_url = w.slack.new_response_url()
    ack = post_slack(w.http, w.url, command_body(f"{prefix} {rest}", user_id=actor, response_url=response_url))
    assert ack.status_code == 200, ack.text[:300]
    body = json.loads(ack.text) if ack.text.startswith("{") else {"text": ack.text}
    assert body.get("text") or body.get("blocks") or ack.text == "", ack.text[:300]
    if "Working on it" in ack.text:
        answer = w.slack.wait_for_response(predicate=lambda r: response_url.endswith(r.url_id), timeout=15)
        assert answer[0].body.get("text"), answer[0].body
    elif ack.text == "":  # `request` with no arguments opens the form instead
        assert prefix == "request" and not rest.strip(), (prefix, rest)
    for bad in FORBIDDEN:
        assert bad not in ack.text, f"{bad} in the ack: {ack.text[:400]}"
    w.executor.wait_idle()
    _scan(w, calls, responses)


def _submit(w: World, callback: str, values: dict[str, Any], metadata: str, user: str) -> Any:
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
    response = post_slack(w.http, w.url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text[:300]
    if response.text:
        ack = json.loads(response.text)
        assert ack["response_action"] == "errors" and ack["errors"], ack
    return response


def _told(w: World, calls_before: int, user: str) -> bool:
    dm = w.slack.dm_channel_id(user)
    return any(
        (c.method == "chat.postEphemeral" and c.body.get("user") == user)
        or (c.method == "chat.postMessage" and c.body.get("channel") in (user, dm))
        for c in w.slack.calls[calls_before:]
    )


MODAL = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@MODAL
@given(
    workspace=st.one_of(st.none(), st.sampled_from(["WS", ""]), words),
    reason=hostile_text,
    role=st.one_of(st.none(), words),
    days=st.one_of(st.none(), st.sampled_from(["7", "0", "x", "-3"])),
)
def test_request_form_inputs(
    world: World,  # noqa: F811
    workspace: str | None,
    reason: str,
    role: str | None,
    days: str | None,
) -> None:
    w = world
    w.executor.wait_idle()
    calls, responses = len(w.slack.calls), len(w.slack.responses)
    if workspace == "WS":
        workspace = w.workspace

    def option(value: str | None) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value} if value is not None else None}

    values = {
        "workspace": {"value": option(workspace)},
        "role": {"value": option(role)},
        "duration": {"value": option(days)},
        "reason": {"value": {"type": "plain_text_input", "value": reason}},
    }
    response = _submit(w, Callback.REQUEST_MODAL, values, json.dumps({"channel": "C0ADMIN"}), "U0OWNER")
    if not response.text:  # accepted: the requester is told (receipt, refusal or "couldn't")
        assert w.settle(lambda: "told" if _told(w, calls, "U0OWNER") else ""), "the requester was told nothing"
    _scan(w, calls, responses)


@MODAL
@given(reason=hostile_text)
def test_deny_form_inputs(world: World, reason: str) -> None:  # noqa: F811
    w = world
    w.executor.wait_idle()
    request_id = new_request(w, "owner")
    calls, responses = len(w.slack.calls), len(w.slack.responses)
    values = {"reason": {"value": {"type": "plain_text_input", "value": reason}}}
    response = _submit(w, Callback.DENY_MODAL, values, json.dumps({"r": request_id}), "U0ADMIN")
    assert bool(response.text) == (not reason.strip())  # a blank reason is asked for again
    w.settle(lambda: "", quiet=0.2)
    _scan(w, calls, responses)


@MODAL
@given(
    amount=st.one_of(
        hostile_text,
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(["300", "1,500.00", "$250", "0", "-5", "1e400", "9" * 40]),
    )
)
def test_spend_approve_amount_inputs(world: World, amount: str) -> None:  # noqa: F811
    w = world
    w.executor.wait_idle()
    request_id = new_spend_request(w, "owner")
    calls, responses = len(w.slack.calls), len(w.slack.responses)
    values = {AMOUNT_BLOCK: {AMOUNT_INPUT: {"type": "plain_text_input", "value": amount}}}
    response = _submit(
        w,
        Callback.SPEND_APPROVE_MODAL,
        values,
        json.dumps({"request_id": request_id, "channel_id": "C0ADMIN"}),
        "U0ADMIN",
    )
    if not response.text:
        assert w.settle(lambda: "told" if _told(w, calls, "U0ADMIN") else ""), f"approving {amount!r} answered nothing"
    _scan(w, calls, responses)
