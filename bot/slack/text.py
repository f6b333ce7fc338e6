"""Safe mrkdwn: user text can never form mentions, links or channel pings."""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape the three control characters Slack decodes (`&`, `<`, `>`), ampersand first."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A bare "@channel" is not a mention in bot messages, but a zero-width joiner makes sure of it.
    for word in ("@channel", "@here", "@everyone"):
        escaped = escaped.replace(word, "@\u200d" + word[1:])
    return escaped


def clip(text: str, limit: int) -> str:
    """Cut text to Slack's field limits, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
