"""No secret (bot token, signing secret, admin key) in logs, Slack traffic, replies or doctor output."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx
import pytest

from bot.app import SORRY, BotApp
from bot.doctor import run_doctor
from bot.logs import RedactingFilter, redact
from bot.slack.commands import Sub
from tests.botserver import SIGNING_SECRET, command_body, post_slack, signed_headers

TOKEN_PATTERN = re.compile(r"xox[abposre]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,}|sk-ant-[A-Za-z0-9_-]{6,}")


def test_redaction_filter_scrubs_tokens_and_response_urls() -> None:
    text = "token xoxb-123-456-abc and sk-ant-admin01-XYZ at https://hooks.slack.com/commands/T1/2/abc"
    assert redact(text) == "token [redacted] and [redacted] at https://[redacted]"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key=%s", ("sk-ant-admin01-SECRET",), None)
    RedactingFilter().filter(record)
    assert "SECRET" not in record.getMessage()


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers_before, level_before = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers_before
    root.setLevel(level_before)


async def _explode(*, ack: Any, **_: Any) -> None:
    await ack()
    raise RuntimeError("admin key sk-ant-admin01-standin-key leaked into an exception")


def test_nothing_secret_leaks_across_a_session(
    bot_app: BotApp,
    bot_url: str,
    deps,
    slack_standin,
    anthropic_standin,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    restore_logging: None,
) -> None:
    from bot.logs import configure_logging

    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    for handler in logging.getLogger().handlers:
        caplog.handler.filters = handler.filters  # the same redaction the real handler applies
    monkeypatch.setitem(bot_app.router.handlers, Sub.AUDIT, _explode)
    response_url = slack_standin.new_response_url()
    doctor_out: list[str] = []
    with httpx.Client(timeout=10) as client:
        replies = [
            post_slack(client, bot_url, command_body("help")).text,
            post_slack(client, bot_url, command_body("<!channel> sk-ant-admin01-fake")).text,
            post_slack(client, bot_url, command_body("audit 30", response_url=response_url)).text,
        ]
        forged = command_body("help")
        replies.append(
            client.post(f"{bot_url}/slack/events", content=forged, headers=signed_headers(forged, secret="wrong")).text
        )
    apology = slack_standin.wait_for_response()
    assert apology[0].body["text"] == SORRY
    wrong_key = deps.settings.anthropic_admin_key.__class__("sk-ant-admin01-wrong-key")
    deps.settings = deps.settings.model_copy(update={"anthropic_admin_key": wrong_key})  # doctor's own clients
    run_doctor(deps, out=doctor_out.append)
    assert any("FAIL  anthropic admin key" in line for line in doctor_out)

    secrets = [slack_standin.bot_token, SIGNING_SECRET, anthropic_standin.admin_key, "sk-ant-admin01-wrong-key"]
    slack_bodies = json.dumps([c.body for c in slack_standin.calls] + [r.body for r in slack_standin.responses])
    admin_bodies = json.dumps([r.body for r in anthropic_standin.requests], default=str)
    captured = {
        "logs": caplog.text,
        "slack traffic": slack_bodies,
        "admin traffic": admin_bodies,
        "replies": "\n".join(replies),
        "doctor": "\n".join(doctor_out),
    }
    for where, text in captured.items():
        for secret in secrets:
            assert secret not in text, f"secret found in {where}"
        assert not TOKEN_PATTERN.search(text.replace("sk-ant-admin01-fake", "")), f"token pattern in {where}"
    # The Slack token never goes to Anthropic and the admin key never goes to Slack, not even in headers.
    assert all(anthropic_standin.admin_key not in json.dumps(c.headers) for c in slack_standin.calls)
    assert all(slack_standin.bot_token not in json.dumps(r.headers) for r in anthropic_standin.requests)
