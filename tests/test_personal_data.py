"""Personal data reaches logs and Slack only on purpose: no SQL parameters in errors, no links from names."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.text import escape

EMAIL = "alice.secret@example.com"
REASON = "medical leave, do not share"


def test_failing_statement_shows_no_parameter_values(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SQLAlchemyError) as failure, engine.connect() as connection:
        connection.execute(
            text("SELECT no_such_column FROM no_such_table WHERE a = :email AND b = :reason"),
            {
                "email": EMAIL,
                "reason": REASON,
            },
        )
    shown = str(failure.value) + repr(failure.value) + caplog.text
    assert EMAIL not in shown and REASON not in shown
    assert "no_such_table" in str(failure.value)  # the statement itself is still there to debug with


@pytest.mark.parametrize(
    "name",
    ["https://evil.example/login", "HTTP://evil.example", "see www.evil.example now", "ftp://x", "Www.Evil.example"],
)
def test_urls_in_names_are_not_auto_linked(name: str) -> None:
    shown = escape(name)
    assert "://" not in shown
    assert "www." not in shown.lower()
    assert shown.replace("\u200d", "") == name  # reads the same


def test_plain_names_are_unchanged() -> None:
    for name in ("dev-key", "team: data", "a//b", "awww.ok", "ops/2026"):
        assert escape(name) == name
