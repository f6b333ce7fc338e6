"""``/_standin/...``: the control API for the command-line mode, where tests cannot call methods on the object.

``POST trigger_id``, ``POST response_url``, ``POST response_urls?count=N`` (up to MAX_RESPONSE_URLS at once, for
load tests), ``GET calls[?method=]``, ``GET responses``, ``POST reset``.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import parse_qs

from bot.sandbox.slack.records import ResponseCall, SlackCall
from bot.sandbox.slack.transport import Answer

MAX_RESPONSE_URLS = 20_000


class Controllable(Protocol):
    """What the control API drives (the stand-in's public methods)."""

    @property
    def calls(self) -> list[SlackCall]: ...

    @property
    def responses(self) -> list[ResponseCall]: ...

    def new_trigger_id(self, *, user_id: str | None = None, view_id: str | None = None) -> str: ...

    def new_response_url(self) -> str: ...

    def reset_calls(self) -> None: ...


def handle_control(s: Controllable, http_method: str, name: str, query: str) -> Answer:
    """Answer one ``/_standin/<name>`` request."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if name == "trigger_id" and http_method == "POST":
        trigger_id = s.new_trigger_id(user_id=params.get("user_id"), view_id=params.get("view_id"))
        return Answer.json(200, {"ok": True, "trigger_id": trigger_id})
    if name == "response_url" and http_method == "POST":
        return Answer.json(200, {"ok": True, "response_url": s.new_response_url()})
    if name == "response_urls" and http_method == "POST":
        count = params.get("count", "")
        if not count.isdigit() or not 1 <= int(count) <= MAX_RESPONSE_URLS:
            return Answer.json(400, {"ok": False, "error": f"count must be 1..{MAX_RESPONSE_URLS}"})
        return Answer.json(200, {"ok": True, "response_urls": [s.new_response_url() for _ in range(int(count))]})
    if name == "reset" and http_method == "POST":
        s.reset_calls()
        return Answer.json(200, {"ok": True})
    if name == "calls":
        method = params.get("method")
        calls = [
            {"method": c.method, "status": c.status, "body": c.body, "response": c.response}
            for c in s.calls
            if method is None or c.method == method
        ]
        return Answer.json(200, {"ok": True, "calls": calls})
    if name == "responses":
        responses = [{"url_id": r.url_id, "status": r.status, "body": r.body} for r in s.responses]
        return Answer.json(200, {"ok": True, "responses": responses})
    return Answer.text(404, "not_found")
