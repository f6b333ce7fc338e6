"""Safe mrkdwn: user text can never form mentions, links or channel pings, and always fits Slack's limits."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import PlainTextObject

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
