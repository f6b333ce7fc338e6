"""Shared fixtures and helpers for the key-hygiene tests (tests/keys/conftest.py offers the fixtures to
tests/keys/; tests/test_home.py imports them): deps on the parametrized database with a settable clock, the bot
served over HTTP on those deps, and helpers to seed keys and click buttons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.deps import Deps
from storage.db import session_scope
from storage.models import AuditEvent
from tests.botserver import BotServer, command_body, post_slack
from tests.conftest import Clock, DepsFactory

# A Monday, 09:00 UTC (the jobs' schedule), in the past so the stand-in's real clock agrees on statuses.
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def kdeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    """Real deps on the stand-ins, on SQLite and PostgreSQL (the `engine` fixture), with a settable clock."""
    return make_deps(clock=clock)


@pytest.fixture
def kbot(settings: Settings, kdeps: Deps) -> Iterator[str]:
    """The bot over HTTP on `kdeps` (so commands and clicks run on both databases)."""
    from bot.app import create_app
    from bot.http import create_web_app

    server = BotServer(create_web_app(create_app(settings, kdeps), kdeps)).start()
    yield server.url
    server.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def ids(anthropic: Any) -> tuple[str, str, str]:
    """(developer user id, admin user id, default workspace id) of the stand-in's basic seed."""
    seeded = anthropic.seeded
    return seeded["developer"]["id"], seeded["admin"]["id"], seeded["workspace"]["id"]


def add_key(
    anthropic: Any, name: str, *, owner: str | None, workspace: str | None, created: datetime, **kwargs: Any
) -> dict[str, Any]:
    """Seed a key and return its JSON."""
    return dict(
        anthropic.add_api_key(name=name, workspace_id=workspace, created_by_user_id=owner, created_at=created, **kwargs)
    )


def command(client: httpx.Client, url: str, slack: Any, text: str, *, user: str = "U0DEV") -> dict[str, Any]:
    """Send a slash command; return the ack body and the later response_url answer (a dict with `ack`, `reply`)."""
    response_url = slack.new_response_url()
    before = len(slack.responses)
    ack = post_slack(client, url, command_body(text, user_id=user, response_url=response_url))
    assert ack.status_code == 200, ack.text
    body = json.loads(ack.text) if ack.text.startswith("{") else {"text": ack.text}
    if body.get("text") != "Working on it…":
        return {"ack": body, "reply": None, "response_url": response_url}
    replies = slack.wait_for_response(count=before + 1, timeout=10)
    return {"ack": body, "reply": replies[before].body, "response_url": response_url}


def click(
    client: httpx.Client,
    url: str,
    slack: Any,
    *,
    action_id: str,
    value: str,
    user: str = "U0DEV",
    channel: str = "C0ADMIN",
    message: dict[str, Any] | None = None,
    container: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Click a button as Slack sends it; return the response_url answer."""
    response_url = slack.new_response_url()
    before = len(slack.responses)
    message = message or {"ts": "1700000000.000100", "text": "x", "blocks": []}
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": channel, "name": "c"},
        "container": container or {"type": "message", "message_ts": message["ts"], "channel_id": channel},
        "message": message,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1700000001.000000",
            }
        ],
    }
    response = post_slack(client, url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text
    replies = slack.wait_for_response(count=before + 1, timeout=10)
    return dict(replies[before].body)


def rendered(blocks: Any) -> str:
    """Blocks (dicts or models) as one JSON string for `in` assertions."""
    return json.dumps([b if isinstance(b, dict) else b.to_dict() for b in blocks or []], ensure_ascii=False)


def audit_actions(deps: Deps, subject_id: str) -> list[str]:
    """Audit actions recorded for a subject, oldest first."""
    with session_scope(deps.engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.subject_id == subject_id).order_by(col(AuditEvent.id)))
        return [row.action for row in rows]


def buttons(blocks: Any, action_id: str) -> list[dict[str, Any]]:
    """Every button with `action_id` in blocks (dicts)."""
    found = []
    for block in blocks or []:
        elements = list(block.get("elements") or []) + ([block["accessory"]] if block.get("accessory") else [])
        found += [e for e in elements if e.get("action_id") == action_id]
    return found
