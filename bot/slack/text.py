"""Safe mrkdwn: user text can never form mentions, links or channel pings."""

from __future__ import annotations

import re

ZWJ = "\u200d"
# What makes Slack turn bare text into a link: a scheme's "://" and a leading "www.". A zero-width joiner
# inside each keeps the text as it reads but stops the auto-linking (a Console-side key or workspace name such
# as "https://evil.example/login" must not become a link in a bot message).
_LINK_STARTS = re.compile(r"(:)(//)|\b(www)(\.)", re.IGNORECASE)


def escape(text: str) -> str:
    """Escape the three control characters Slack decodes (`&`, `<`, `>`), ampersand first; unlink URLs and pings."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A bare "@channel" is not a mention in bot messages, but a zero-width joiner makes sure of it.
    for word in ("@channel", "@here", "@everyone"):
        escaped = escaped.replace(word, "@" + ZWJ + word[1:])
    return _LINK_STARTS.sub(lambda m: ZWJ.join(g for g in m.groups() if g is not None), escaped)


def clip(text: str, limit: int) -> str:
    """Cut text to Slack's field limits, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
