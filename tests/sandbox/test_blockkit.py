"""The stand-in's Block Kit checks (bot/sandbox/slack/blockkit.py): Slack's limits in Slack's words, and what
the stand-in answers on each surface (chat.*, views.*, response_url)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.sandbox.slack import SlackStandIn
from bot.sandbox.slack.blockkit import message_problems, view_problems


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": "go", **fields}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def modal(blocks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Request"), "blocks": blocks, **fields}


def overflow(opts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "overflow", "action_id": "menu", "options": opts}


def options(n: int, *, text: str = "o", value: str = "v") -> list[dict[str, Any]]:
    return [{"text": plain(f"{text}{i}"), "value": f"{value}{i}"} for i in range(n)]


def test_section_text_over_3000_is_refused_in_slacks_words() -> None:
    assert message_problems([section("x" * 3000)]) == []
    assert message_problems([section("x" * 3001)]) == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([{"type": "section", "fields": [mrkdwn("f")] * 11}], "/blocks/0/fields"),
        ([{"type": "section", "fields": [mrkdwn("f" * 2001)]}], "/blocks/0/fields/0/text"),
        ([{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text"),
        ([{"type": "header", "text": mrkdwn("h")}], "/blocks/0/text/type"),
        ([{"type": "context", "elements": [mrkdwn("c")] * 11}], "/blocks/0/elements"),
        ([actions(button(text=plain("b" * 76)))], "/blocks/0/elements/0/text/text"),
        ([actions(button(value="v" * 2001))], "/blocks/0/elements/0/value"),
        ([actions(button(url="https://x/" + "u" * 2991))], "/blocks/0/elements/0/url"),
        ([actions(button(action_id="a" * 256))], "/blocks/0/elements/0/action_id"),
        ([{**section("s"), "block_id": "b" * 256}], "/blocks/0/block_id"),
        ([actions(*[button()] * 26)], "/blocks/0/elements"),
        ([section("s")] * 51, "/blocks"),
        ([{"type": "sparkles"}], "/blocks/0/type"),
        (
            [actions({"type": "static_select", "action_id": "s", "options": options(101)})],
            "/blocks/0/elements/0/options",
        ),
        (
            [actions({"type": "static_select", "action_id": "s", "options": options(1, text="t" * 75)})],
            "/blocks/0/elements/0/options/0/text/text",
        ),
        (
            [actions({"type": "static_select", "action_id": "s", "options": options(1, value="v" * 150)})],
            "/blocks/0/elements/0/options/0/value",
        ),
        # overflow menus: 2 to 5 options, plain-text labels, values up to 150
        ([{**section("s"), "accessory": overflow(options(1))}], "/blocks/0/accessory/options"),
        ([{**section("s"), "accessory": overflow(options(6))}], "/blocks/0/accessory/options"),
        (
            [{**section("s"), "accessory": overflow([{"text": mrkdwn("*o*"), "value": "v"}, *options(1)])}],
            "/blocks/0/accessory/options/0/text/type",
        ),
        ([actions(overflow(options(2, value="v" * 150)))], "/blocks/0/elements/0/options/1/value"),
    ],
)
def test_each_limit_is_refused_with_its_pointer(blocks: list[dict[str, Any]], pointer: str) -> None:
    problems = message_problems(blocks)
    assert problems and all(p.startswith("[ERROR] ") for p in problems)
    assert any(p.endswith(f"[json-pointer:{pointer}]") for p in problems), problems


def test_an_overflow_menu_of_two_to_five_options_is_accepted() -> None:
    for n in (2, 5):
        assert message_problems([{**section("s"), "accessory": overflow(options(n, value="v" * 140))}]) == []
    radio = {"type": "radio_buttons", "action_id": "r", "options": [{"text": mrkdwn("*o*"), "value": "v"}]}
    assert message_problems([actions(radio)]) == []  # radio buttons and checkboxes may use mrkdwn


def test_confirm_dialogs_take_plain_text_within_their_limits() -> None:
    confirm = {"title": plain("Sure?"), "text": mrkdwn("t" * 300), "confirm": plain("Yes"), "deny": plain("No")}
    assert message_problems([actions(button(confirm=confirm))]) == []
    too_long = {**confirm, "title": plain("t" * 101), "text": mrkdwn("t" * 301), "deny": plain("n" * 31)}
    pointers = {p.rsplit("json-pointer:", 1)[1] for p in message_problems([actions(button(confirm=too_long))])}
    assert pointers == {
        "/blocks/0/elements/0/confirm/title/text]",
        "/blocks/0/elements/0/confirm/text/text]",
        "/blocks/0/elements/0/confirm/deny/text]",
    }
    assert message_problems([actions(button(confirm={**confirm, "confirm": mrkdwn("Yes")}))])


def test_views_have_their_own_limits() -> None:
    field = {"type": "input", "label": plain("Why"), "element": {"type": "plain_text_input", "action_id": "v"}}
    assert view_problems(modal([section("s")] * 100)) == []
    assert view_problems(modal([field], submit=plain("Send"))) == []
    problems = view_problems(
        modal(
            [{**field, "label": plain("l" * 2001)}],
            title=plain("t" * 25),
            close=plain("c" * 25),
            private_metadata="m" * 3001,
            callback_id="c" * 256,
        )
    )
    pointers = {p.rsplit("json-pointer:", 1)[1].rstrip("]") for p in problems}
    assert pointers == {
        "/view/blocks/0/label/text",
        "/view/title/text",
        "/view/close/text",
        "/view/private_metadata",
        "/view/callback_id",
        "/view/submit",  # an input block needs a submit button
    }
    assert view_problems(modal([section("s")] * 101))
    assert view_problems({"type": "home", "blocks": [{"type": "input", "label": plain("l")}]})


def test_chat_methods_answer_invalid_blocks(slack_standin: SlackStandIn) -> None:
    client = WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0ADMIN", text="fallback", blocks=[section("&" * 3001)])
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    posted = client.chat_postMessage(channel="C0ADMIN", text="fallback", blocks=[section("ok")])
    for call in (
        lambda: client.chat_update(channel="C0ADMIN", ts=posted["ts"], text="t", blocks=[{"type": "nope"}]),
        lambda: client.chat_postEphemeral(channel="C0ADMIN", user="U0ADMIN", text="t", blocks=[{"type": "nope"}]),
    ):
        with pytest.raises(SlackApiError) as raised:
            call()
        assert raised.value.response["error"] == "invalid_blocks"
    assert [m.text for m in slack_standin.messages("C0ADMIN")] == ["fallback"]


def test_views_answer_invalid_arguments(slack_standin: SlackStandIn) -> None:
    client = WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url)
    trigger = slack_standin.new_trigger_id(user_id="U0DEV")
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id=trigger, view=modal([], title=plain("A title far over 24 chars")))
    assert raised.value.response["error"] == "invalid_arguments"
    assert raised.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id="U0DEV", view={"type": "home", "blocks": [section("x" * 3001)]})
    assert raised.value.response["error"] == "invalid_arguments"


def test_response_urls_answer_400_to_invalid_blocks(slack_standin: SlackStandIn) -> None:
    url = slack_standin.new_response_url()
    refused = WebhookClient(url).send(text="fallback", blocks=[section("x" * 3001)])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    accepted = WebhookClient(url).send(text="fallback")
    assert (accepted.status_code, accepted.body) == (200, "ok")
