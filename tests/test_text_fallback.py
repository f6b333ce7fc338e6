"""A message whose blocks are refused, by slack_sdk before sending or by Slack after, still goes out as its text:
the notifier (posts, edits, ephemerals) and the response_url answer, against the strict Slack stand-in."""

from __future__ import annotations

import logging

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from bot.sandbox.slack import SlackStandIn
from bot.slack.notifier import Notifier
from bot.slack.reply import Reply
from handlers.answers import _post_to_response_url

TOO_LONG_FOR_THE_SDK: list[Block] = [HeaderBlock(text="h" * 151)]  # slack_sdk raises before sending
TOO_LONG_FOR_SLACK: list[Block] = [SectionBlock(fields=["f" * 2001])]  # slack_sdk sends it; Slack refuses


@pytest.fixture
def notifier(slack_standin: SlackStandIn) -> Notifier:
    return Notifier(WebClient(token=slack_standin.bot_token, base_url=slack_standin.base_url))


@pytest.mark.parametrize("blocks", [TOO_LONG_FOR_THE_SDK, TOO_LONG_FOR_SLACK], ids=["sdk", "slack"])
def test_refused_blocks_are_posted_as_text(
    notifier: Notifier, slack_standin: SlackStandIn, blocks: list[Block], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        posted = notifier.post("C0ADMIN", "the fallback text", blocks)
    (message,) = slack_standin.messages("C0ADMIN")
    assert (message.ts, message.text, message.blocks) == (posted.ts, "the fallback text", None)
    assert "sending its text alone" in caplog.text
    refused_by_slack = [c for c in slack_standin.calls_to("chat.postMessage") if c.response.get("ok") is False]
    assert len(refused_by_slack) == (0 if blocks is TOO_LONG_FOR_THE_SDK else 1)

    notifier.update(posted, "edited", [SectionBlock(text="fine")])
    notifier.update(posted, "edited again", blocks)
    (message,) = slack_standin.messages("C0ADMIN")
    assert (message.text, message.blocks) == ("edited again", None)  # the old blocks are not left standing

    notifier.ephemeral("C0ADMIN", "U0ADMIN", "just for you", blocks)
    (ephemeral,) = slack_standin.ephemerals("C0ADMIN")
    assert (ephemeral.text, ephemeral.blocks) == ("just for you", None)


def test_other_failures_are_not_retried(notifier: Notifier, slack_standin: SlackStandIn) -> None:
    slack_standin.inject("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError):
        notifier.post("C0ADMIN", "text", [SectionBlock(text="fine")])
    assert len(slack_standin.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("blocks", [TOO_LONG_FOR_THE_SDK, TOO_LONG_FOR_SLACK], ids=["sdk", "slack"])
def test_a_refused_answer_goes_to_the_response_url_as_text(slack_standin: SlackStandIn, blocks: list[Block]) -> None:
    url = slack_standin.new_response_url()
    _post_to_response_url(url, Reply("your answer", blocks), replace_original=True)
    accepted = slack_standin.wait_for_response()[-1]
    assert accepted.body["text"] == "your answer" and "blocks" not in accepted.body
