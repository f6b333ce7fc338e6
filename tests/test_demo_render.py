"""The demo's renderer (bot/sandbox/render.py): Block Kit and mrkdwn as a person sees them in Slack, and never an
exception, whatever it is given."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sandbox import render
from bot.slack.text import escape


class Directory:
    """A small stand-in directory."""

    users = {"U0ADMIN": "Ada Admin", "U0NEW": "newbie"}
    channels = {"C0ADMIN": "claude-key-admins"}

    def user_display_name(self, user_id: str) -> str | None:
        return self.users.get(user_id)

    def channel_name(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)


class Broken:
    """A directory that fails: the renderer falls back to labels and ids."""

    def user_display_name(self, user_id: str) -> str | None:
        raise RuntimeError("down")

    def channel_name(self, channel_id: str) -> str | None:
        raise RuntimeError("down")


NAMES = Directory()
# What is left of a raw token: a user or channel id, a ping or date, a link's label markup, an id a label
# replaces (a stray `<` next to a rendered token may stay: "<<!here>>" reads "<@here>", as in Slack).
TOKEN = re.compile(r"<[@#][UWC][A-Z0-9]|<!|\|y>|\|a@b\.c>|UEVIL|C0EVIL")
# Fragments a hostile or odd message is made of (no escaped entities: decoding those rightly shows `<`).
FRAGMENTS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0ADMIN>",
    "<@UEVIL|boss>",
    "<@>",
    "<#C0ADMIN>",
    "<#C0EVIL|x>",
    "<!subteam^S0EVIL>",
    "<!subteam^S1|@admins>",
    "<!date^1700000000^{date_short}|Nov 14>",
    "<!date^x^y>",
    "<https://evil.example|y>",
    "<https://evil.example>",
    "<mailto:a@b.c|a@b.c>",
    "<",
    ">",
    "|",
    "^",
    "```",
    "`",
    "*",
    "_",
    "~",
    "&",
    "&amp;",
    ":gear:",
    "🔥",
    "\n",
    " ",
    "> ",
    "word",
    "\u200d",
    "\ue000",
    "\ue0010\ue001",
]
KEYS = [
    "type",
    "text",
    "blocks",
    "elements",
    "fields",
    "accessory",
    "options",
    "option_groups",
    "label",
    "element",
    "placeholder",
    "initial_option",
    "alt_text",
    "title",
    "url",
    "user_id",
    "channel_id",
    "name",
    "attachments",
    "fallback",
    "hint",
    "timestamp",
    "range",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(FRAGMENTS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=30,
)
TYPES = [
    "header",
    "section",
    "context",
    "actions",
    "divider",
    "image",
    "input",
    "rich_text",
    "video",
    "file",
    "button",
    "overflow",
    "static_select",
    "datepicker",
    "checkboxes",
    "plain_text",
    "mrkdwn",
    "text",
    "link",
    "user",
    "channel",
    "emoji",
    "rich_text_section",
    "rich_text_list",
    "rich_text_quote",
]


def typed(value: Any, kinds: list[str]) -> Any:
    """Give every dict a block, element or text type, so the fuzz reaches each branch."""
    if isinstance(value, list):
        return [typed(v, kinds) for v in value]
    if isinstance(value, dict):
        out = {k: typed(v, kinds) for k, v in value.items()}
        out["type"] = kinds[len(out) % len(kinds)] if "type" not in value else value["type"]
        return out
    return value


@settings(max_examples=300, deadline=None)
@given(fragments=st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_hostile_mrkdwn_never_raises_and_leaves_no_token(fragments: list[str]) -> None:
    shown = render.mrkdwn("".join(fragments), NAMES)
    assert isinstance(shown, str)
    assert not TOKEN.search(shown), shown
    assert "\u200d" not in shown and "\ue000" not in shown


@settings(max_examples=300, deadline=None)
@given(body=JSON, kinds=st.permutations(TYPES))
def test_any_json_renders_to_lines(body: Any, kinds: list[str]) -> None:
    for candidate in (body, typed(body, list(kinds)), {"blocks": typed(body, list(kinds))}):
        for names in (NAMES, Broken()):
            lines = render.message(candidate, names)
            assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)
            assert all(isinstance(line, str) for line in render.blocks(candidate, names))


WORD = st.from_regex(r"[a-z0-9][a-z0-9.,:]{0,8}", fullmatch=True)
WRAPS = ["{}", "*{}*", "_{}_", "~{}~", "*_{}_*", "_*{}*_", "~*{}*~", "*{}*:"]


@given(words=st.lists(st.tuples(WORD, st.sampled_from(WRAPS)), min_size=1, max_size=8))
def test_formatting_markers_are_removed(words: list[tuple[str, str]]) -> None:
    text = " ".join(wrap.format(word) for word, wrap in words)
    shown = render.mrkdwn(text)
    assert not set("*_~") & set(shown), shown
    assert shown == " ".join(wrap.format(word).strip("*_~").replace("*", "") for word, wrap in words)


def test_mrkdwn_as_a_person_reads_it() -> None:
    text = (
        "*Why:* _soon_ ~old~ `code *stays*` <@U0ADMIN> <@U0NEW|ignored> <@UGONE> <@UGONE|gone> <#C0ADMIN> "
        "<#C0X|general> <!here> <!subteam^S1|@admins> <!date^1700000000^{date_short}|Nov 14, 2023> "
        "<https://example.com/a_b_|the *docs*> <https://example.com> <mailto:a@b.c|a@b.c> :gear: Q&amp;A &lt;x&gt;"
    )
    assert render.mrkdwn(text, NAMES) == (
        "Why: soon old code *stays* @Ada Admin @newbie @UGONE @gone #claude-key-admins #general @here @admins "
        "Nov 14, 2023 the docs (https://example.com/a_b_) https://example.com a@b.c :gear: Q&A <x>"
    )
    assert render.mrkdwn("```\nline *1*\n```\n&gt; quoted") == "line *1*\n▎ quoted"
    assert render.mrkdwn("<!date^1700000000^{date}>") == "2023-11-14 22:13 UTC"  # no fallback: the time in UTC


def test_escaped_user_text_reads_as_typed() -> None:
    """What the bot escapes (bot/slack/text.py) a person reads back as typed: no token, no zero-width joiner."""
    typed_in = "<@U0ADMIN> & <!channel> *bold* https://evil.example/login @here"
    assert render.mrkdwn(escape(typed_in), NAMES) == "<@U0ADMIN> & <!channel> bold https://evil.example/login @here"


def test_blocks_are_laid_out() -> None:
    def plain(text: str) -> dict[str, str]:
        return {"type": "plain_text", "text": text}

    overflow = {
        "type": "overflow",
        "action_id": "k",
        "options": [{"text": plain(t), "value": t} for t in ("Rotate", "Revoke")],
    }
    select = {
        "type": "static_select",
        "placeholder": plain("Snooze"),
        "options": [{"text": plain("7 days"), "value": "7"}],
    }
    body = {
        "text": "fallback only",
        "blocks": [
            {"type": "header", "text": plain("Your keys :key:")},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*dev-key* `…4f2a`\nline two"},
                "accessory": overflow,
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{n}:* v{n}"} for n in ("A", "B", "C")]},
            {"type": "divider"},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "as of <!date^0^{date}|Jan 1>"},
                    {"type": "image", "image_url": "x", "alt_text": "i"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain("Start rotation"), "action_id": "a"},
                    select,
                    {"type": "users_select", "action_id": "u"},
                ],
            },
            {"type": "image", "image_url": "x", "alt_text": "a chart"},
        ],
    }
    assert render.message(body, NAMES) == [
        "Your keys :key:",
        "dev-key …4f2a   [⋯ ▾ Rotate · Revoke]",
        "line two",
        "A: vA                           B: vB",
        "C: vC",
        render.DIVIDER,
        "as of Jan 1",
        "[Start rotation]  [Snooze ▾]  [Choose ▾]",
        "[image: a chart]",
    ]
    assert render.message({"text": "*only* text"}) == ["only text"]
    assert render.message({"text": "x", "attachments": [{"text": "<@U0NEW> in an attachment"}]}, NAMES) == [
        "x",
        "┃ @newbie in an attachment",
    ]
