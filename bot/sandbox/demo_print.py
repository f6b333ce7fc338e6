"""The demo's printout: each message Slack received, as a person sees it (bot/sandbox/render.py), and the
README's sample messages made from them (`make readme-sample` writes them, tests/test_demo.py checks them)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox import render
from bot.sandbox.slack import SlackStandIn

SHOWN_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open")


# --- printing what Slack received -------------------------------------------------------------------------------


@dataclass
class Shown:
    """One message as printed: where it went (and how), and its lines as a person sees them."""

    header: str
    lines: list[str]
    channel: str | None = None


class Printer:
    """Prints each new Slack Web API post and response_url answer once, in order, as a person sees it."""

    def __init__(self, slack: SlackStandIn, out: Callable[[str], None]) -> None:
        self.slack = slack
        self.out = out
        self.calls_seen = 0
        self.responses_seen = 0

    def who(self, user_id: str) -> str:
        """``@Name`` for a person in the stand-in's directory."""
        return "@" + (self.slack.user_display_name(user_id) or user_id)

    def where(self, channel: str | None) -> str:
        """A readable name for a channel id: ``#name``, a person's DM, or the id."""
        if channel is None:
            return "?"
        name = self.slack.channel_name(channel)
        if name is not None:
            return f"#{name}"
        for user_id in self.slack.user_ids():
            if channel == user_id or channel == self.slack.dm_channel_id(user_id):
                return f"DM to {self.who(user_id)}"
        return channel

    def _message(self, header: str, body: dict[str, Any], channel: str | None = None) -> Shown:
        body = dict(body)
        for key in ("blocks", "attachments"):
            if isinstance(body.get(key), str):
                with contextlib.suppress(ValueError):
                    body[key] = json.loads(body[key])
        shown = Shown(header, render.message(body, self.slack), channel)
        self.out(f"  ┌ {header}")
        for line in shown.lines:
            self.out(f"  │ {line}".rstrip())
        self.out("  └")
        return shown

    def flush(self) -> list[Shown]:
        """Print everything that arrived since the last flush; returns what was printed."""
        printed: list[Shown] = []
        for response in self.slack.responses[self.responses_seen :]:
            body = response.body if isinstance(response.body, dict) else {"text": str(response.body)}
            printed.append(self._message("only you can see this (the answer to your command)", body))
        self.responses_seen = len(self.slack.responses)
        calls = self.slack.calls
        for call in calls[self.calls_seen :]:
            if call.method not in SHOWN_METHODS or call.status != 200:
                continue
            if isinstance(call.response, dict) and not call.response.get("ok", True):
                continue
            body = call.body
            if call.method == "views.open":
                view = body.get("view") or {}
                title = render.text_object(view.get("title")) if isinstance(view, dict) else ""
                self.out(f"  ┌ a form opens: «{title}»\n  └")
                continue
            channel = body.get("channel")
            where = self.where(channel)
            marker = " ↳ reply in thread" if body.get("thread_ts") else ""
            verb = {"chat.update": "updated in place", "chat.postEphemeral": "only they can see it"}.get(
                call.method, "new message"
            )
            printed.append(self._message(f"{where}{marker} ({verb})", body, channel))
        self.calls_seen = len(calls)
        return printed


# --- the README's sample messages --------------------------------------------------------------------------------

SAMPLE_START = "<!-- demo-sample: start (written by `make readme-sample`; tests/test_demo.py checks it) -->"
SAMPLE_END = "<!-- demo-sample: end -->"
SAMPLE_TITLES = {
    "request card": "An access request, as the admins see it in their channel",
    "rotation reminder": "A rotation reminder, in the key owner's DM",
    "keys list": "The answer to `/claude-key keys`, which only the developer who asked sees",
    "budget alert": "A budget alert in the admins' channel",
}


def readme_sample(samples: dict[str, Shown]) -> str:
    """The README block: each sample message as rendered text, between the markers (markers included)."""
    parts = [SAMPLE_START, ""]
    for key, title in SAMPLE_TITLES.items():
        shown = samples[key]
        parts += [f"**{title}:**", "", "```text", *shown.lines, "```", ""]
    parts.append(SAMPLE_END)
    return "\n".join(parts)


def replace_sample(document: str, sample: str) -> str:
    """`document` with its sample block replaced by `sample` (the markers must be there once each)."""
    head, found, rest = document.partition(SAMPLE_START)
    _, found_end, tail = rest.partition(SAMPLE_END)
    if not found or not found_end:
        raise ValueError("the document has no demo-sample markers")
    return head + sample + tail


def sample_in(document: str) -> str:
    """The sample block of `document` (markers included), or "" when there is none."""
    _, found, rest = document.partition(SAMPLE_START)
    body, found_end, _ = rest.partition(SAMPLE_END)
    return SAMPLE_START + body + SAMPLE_END if found and found_end else ""
