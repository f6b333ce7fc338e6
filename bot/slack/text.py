"""Safe mrkdwn: user text can never form mentions, links or channel pings, and always fits Slack's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Literal

from slack_sdk.models.blocks import PlainTextObject

from bot.core.format import day, local_datetime

ZWJ = "\u200d"
# What makes Slack turn bare text into a link: a scheme's "://" and a leading "www.". A zero-width joiner
# inside each keeps the text as it reads but stops the auto-linking (a Console-side key or workspace name such
# as "https://evil.example/login" must not become a link in a bot message).
_LINK_STARTS = re.compile(r"(:)(//)|\b(www)(\.)", re.IGNORECASE)
# The longest entity escape() writes is "&amp;": a cut within 4 characters after an "&" may split one.
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape the three control characters Slack decodes (`&`, `<`, `>`), ampersand first; unlink URLs and pings."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A bare "@channel" is not a mention in bot messages, but a zero-width joiner makes sure of it.
    for word in ("@channel", "@here", "@everyone"):
        escaped = escaped.replace(word, "@" + ZWJ + word[1:])
    return _LINK_STARTS.sub(lambda m: ZWJ.join(g for g in m.groups() if g is not None), escaped)


def clip(text: str, limit: int) -> str:
    """Cut text to Slack's field limits, marking the cut (for text that is not escaped: ids, plain_text)."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clip_escaped(escaped: str, limit: int) -> str:
    """Cut already-escaped mrkdwn to `limit` characters without splitting an `&amp;`/`&lt;`/`&gt;` entity."""
    if len(escaped) <= limit:
        return escaped
    head = escaped[: limit - 1]
    tail = _ENTITY_TAIL.search(head)
    if tail is not None and escaped.startswith(("&amp;", "&lt;", "&gt;"), tail.start()):
        head = head[: tail.start()]
    return head + ELLIPSIS


def escape_clip(text: str, limit: int) -> str:
    """User or Console text for mrkdwn: escaped first, then cut to `limit` (escaping can grow a text fivefold)."""
    return clip_escaped(escape(text), limit)


def decode(text: str) -> str:
    """Undo Slack's encoding of typed text (`&amp;`, `&lt;`, `&gt;`), once, ampersand last."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def fit_lines(lines: list[str], limit: int) -> str:
    """Lines joined by newlines, as many as fit in `limit` characters with a note of how many were left out."""
    shown: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        after = len(lines) - n - 1
        need = used + (1 if shown else 0) + len(line)
        room_for_note = len(f"\n…and {after} more") if after else 0
        if need + room_for_note > limit:
            return "\n".join([*shown, f"…and {len(lines) - n} more"])
        shown.append(line)
        used = need
    return "\n".join(shown)


def confirm_text(text: str) -> PlainTextObject:
    """A confirm dialog's text: Slack shows it unformatted whatever its type, so plain_text, not escaped, ≤ 300."""
    return PlainTextObject(text=clip(text, 300))


DateStyle = Literal["datetime", "date"]
#: Slack date tokens (Slack's mrkdwn date formatting): Slack writes the instant in
#: each reader's own time zone and locale; `{date_short_pretty}` reads "today"/"yesterday" or "Dec 1, 2026".
#: They render in mrkdwn only (section and context text, the top-level `text`); plain_text (headers, buttons,
#: options, confirm dialogs, modal titles) shows them raw, so there use `plain_when`.
DATE_TOKENS: dict[str, str] = {"datetime": "{date_short_pretty} at {time}", "date": "{date_short_pretty}"}


def when(moment: datetime | None, tz: tzinfo | None = None, style: DateStyle = "datetime") -> str:
    """A Slack date token (`<!date^1764575220^{date_short_pretty} at {time}|Dec 1, 2026 at 07:47 UTC>`) for mrkdwn.

    Every reader sees the instant in their own time zone; the fallback (shown where Slack can't format dates,
    e.g. some notifications) is written in TIMEZONE (builders without it: the instant's own zone). `date`
    shows the day only.
    """
    if moment is None:
        return "unknown"
    fallback = plain_when(moment, tz, style)
    # The fallback is ours (no user text), but "|" and ">" would end the token early: keep them out.
    fallback = fallback.replace("|", "/").replace(">", "").replace("<", "")
    return f"<!date^{int(moment.timestamp())}^{DATE_TOKENS[style]}|{fallback}>"


def plain_when(moment: datetime | None, tz: tzinfo | None = None, style: DateStyle = "datetime") -> str:
    """The same instant as plain text in TIMEZONE (`Dec 1, 2026 at 07:47 CET`), for plain_text fields."""
    if moment is None:
        return "unknown"
    tz = tz or moment.tzinfo or UTC
    return local_datetime(moment, tz) if style == "datetime" else day(moment, tz)


_DATE_TOKEN = re.compile(r"<!date\^(\d+)\^([^|>]*)(?:\^[^|>]*)?\|([^>]*)>")


def without_date_tokens(text: str) -> str:
    """Text with every date token replaced by its fallback (what a reader sees where Slack can't format it)."""
    return _DATE_TOKEN.sub(lambda m: m.group(3), text)
