"""The command grammar and the help message (pure functions)."""

from __future__ import annotations

from bot.slack.blocks import build_help, help_text
from bot.slack.commands import USAGE, Sub, parse
from bot.slack.text import escape


def test_empty_text_is_help() -> None:
    assert parse("").sub is Sub.HELP
    assert parse(None).sub is Sub.HELP
    assert parse("   ").sub is Sub.HELP


def test_subcommand_and_arguments() -> None:
    parsed = parse("  Request  ml-platform for 7d  need it ")
    assert parsed.sub is Sub.REQUEST
    assert parsed.args == ("ml-platform", "for", "7d", "need", "it")


def test_unknown_subcommand_keeps_the_word() -> None:
    parsed = parse("frobnicate now")
    assert parsed.sub is None
    assert parsed.word == "frobnicate"


def test_help_lists_every_subcommand() -> None:
    text = help_text()
    rendered = str([block.to_dict() for block in build_help()])
    for sub in Sub:
        assert f"/claude-key {sub.value}" in text
        assert f"/claude-key {escape(USAGE[sub][0])}" in rendered


def test_unknown_word_is_escaped_in_help() -> None:
    rendered = str([block.to_dict() for block in build_help(unknown="<!channel>")])
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_escape_neutralises_mentions_and_links() -> None:
    hostile = "<!here> <@U123> <https://evil.example|click> & @channel"
    escaped = escape(hostile)
    assert "<" not in escaped and ">" not in escaped
    assert "&amp;" in escaped
    assert "@channel" not in escaped
