"""`claude-key-bot demo`: the bot against local stand-ins of Slack and the Admin API, no accounts or tokens needed.

Runs from an installed package (the stand-ins are part of it, bot/sandbox/). It starts both stand-ins on
loopback, seeds a small org, serves the real bot (HTTP mode, SQLite in a temporary directory) and drives it the
way Slack would: signed requests to POST /slack/events for commands and clicks, and the scheduled jobs through
`run_job`. Every message the Slack stand-in receives is printed as plain text.

    claude-key-bot demo        (or `make demo`, or `python -m bot.sandbox.demo`)

Walks through: a developer's access request, an admin's approval, the invite accepted (invite-sync), the new
key appearing (key-adoption), a rotation reminder (rotation-reminders) and a budget alert (budget-alerts).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps, build_deps
from bot.http import create_web_app
from bot.registry import run_job
from bot.sandbox.anthropic import AnthropicStandIn
from bot.sandbox.botserver import BotServer
from bot.sandbox.loopback import PROXY_VARIABLES
from bot.sandbox.signing import SIGNING_SECRET, command_body, post_slack
from bot.sandbox.slack import SlackCall, SlackStandIn, seed_default_directory
from bot.slack.ids import Action
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AccessRequest

WAIT_SECONDS = 15.0
BUDGET_USD = Decimal(1000)
NEWCOMER = ("U0NEW", "newbie", "new@example.com")
CHANNEL_NAMES = {"C0ADMIN": "#claude-key-admins"}
SHOWN_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open")


# --- printing what Slack received -------------------------------------------------------------------------------


def _text_of(element: Any) -> str:
    if isinstance(element, dict):
        return str(element.get("text") or element.get("alt_text") or "")
    return str(element or "")


def render_blocks(blocks: list[Any] | None) -> list[str]:
    """A plain rendering of Block Kit: headers, section text and fields, context lines and buttons."""
    lines: list[str] = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text_of(block.get('text'))} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text_of(block.get("text")).splitlines())
            lines.extend(f"  • {_text_of(field)}" for field in block.get("fields") or [])
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                lines.append(f"  [{_text_of(accessory.get('text'))}]")
        elif kind == "context":
            lines.append("  " + " · ".join(_text_of(e) for e in block.get("elements") or []))
        elif kind == "actions":
            buttons = [f"[{_text_of(e.get('text'))}]" for e in block.get("elements") or [] if isinstance(e, dict)]
            lines.append("  " + " ".join(buttons))
        elif kind == "divider":
            lines.append("  ---")
    return lines


class Printer:
    """Prints each new Slack Web API post and response_url answer once, in order."""

    def __init__(self, slack: SlackStandIn, users: dict[str, str], out: Callable[[str], None]) -> None:
        self.slack = slack
        self.users = users
        self.out = out
        self.calls_seen = 0
        self.responses_seen = 0

    def where(self, channel: str | None) -> str:
        """A readable name for a channel id: the admin channel, a person's DM, or the id."""
        if channel is None:
            return "?"
        if channel in CHANNEL_NAMES:
            return CHANNEL_NAMES[channel]
        for user_id, name in self.users.items():
            if channel == user_id or channel == self.slack.dm_channel_id(user_id):
                return f"DM to @{name}"
        return channel

    def _message(self, header: str, body: dict[str, Any]) -> None:
        blocks = body.get("blocks")
        if isinstance(blocks, str):
            with contextlib.suppress(ValueError):
                blocks = json.loads(blocks)
        self.out(f"  ┌ {header}")
        rendered = render_blocks(blocks if isinstance(blocks, list) else None)
        for line in rendered or str(body.get("text") or "").splitlines():
            self.out(f"  │ {line}")
        self.out("  └")

    def flush(self) -> None:
        """Print everything that arrived since the last flush."""
        for response in self.slack.responses[self.responses_seen :]:
            self._message("answer to the person who asked (ephemeral, via response_url)", response.body)
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
                self.out(f"  ┌ views.open: a modal «{_text_of(view.get('title'))}»\n  └")
                continue
            where = self.where(body.get("channel"))
            marker = " ↳ thread reply" if body.get("thread_ts") else ""
            verb = {"chat.update": "updated", "chat.postEphemeral": "ephemeral"}.get(call.method, "posted")
            self._message(f"{where}{marker} ({verb})", body)
        self.calls_seen = len(calls)


# --- driving the bot as Slack would ------------------------------------------------------------------------------


class Demo:
    """The running pieces: stand-ins, the bot's HTTP endpoint and its deps."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out

    def step(self, title: str) -> None:
        """Print a step's heading."""
        self.out("")
        self.out(f"── {title} " + "─" * max(0, 72 - len(title)))

    def command(self, text: str, *, user: str) -> None:
        """Send `/claude-key text` as `user`; wait for the deferred answer when the ack says so."""
        self.out(f"$ /claude-key {text}    (as <@{user}>)")
        response_url = self.slack.new_response_url()
        before = len(self.slack.responses)
        body = command_body(
            text, user_id=user, response_url=response_url, trigger_id=self.slack.new_trigger_id(user_id=user)
        )
        ack = post_slack(self.http, self.url, body)
        ack.raise_for_status()
        self.out(f"  ack {ack.status_code}: {ack.json().get('text', '')}")
        if "Working on it" in ack.text:
            self.slack.wait_for_response(count=before + 1, timeout=WAIT_SECONDS)

    def click(self, action: str, request_id: int, *, user: str) -> None:
        """Click a request card's button as `user`."""
        self.out(f"* <@{user}> clicks {action} on request #{request_id}")
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
            "api_app_id": "A0BOT",
            "token": "unused",
            "trigger_id": self.slack.new_trigger_id(user_id=user),
            "response_url": self.slack.new_response_url(),
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "channel": {"id": "C0ADMIN", "name": "claude-key-admins"},
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "C0ADMIN"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action,
                    "block_id": f"request_{request_id}",
                    "value": json.dumps({"r": request_id}),
                    "action_ts": "1.2",
                }
            ],
        }
        ack = post_slack(self.http, self.url, "payload=" + quote(json.dumps(payload)))
        ack.raise_for_status()

    def job(self, name: str) -> None:
        """Run a scheduled job now and print its summary."""
        result = run_job(name, self.deps, out=lambda _: None)
        summary = result.summary() if result is not None else "skipped (lease held elsewhere)"
        self.out(f"$ claude-key-bot jobs run {name}    → {summary}")

    def wait_post(self, text: str, *, channel: str | None = None) -> None:
        """Wait until the bot posts a message containing `text` (to `channel` or that person's DM)."""

        def match(call: SlackCall) -> bool:
            body = call.body
            wanted = channel is None or body.get("channel") in (channel, self.slack.dm_channel_id(channel))
            return wanted and text in str(body.get("text", ""))

        self.slack.wait_for("chat.postMessage", predicate=match, timeout=WAIT_SECONDS)

    def request_row(self, request_id: int, state: str | None = None) -> AccessRequest:
        """The access request row, once it exists (and is in `state`, when given)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with session_scope(self.deps.engine) as session:
                row = session.get(AccessRequest, request_id)
            if row is not None and (state is None or row.state == state):
                return row
            if time.monotonic() > deadline:
                raise RuntimeError(f"request #{request_id} did not reach {state}")
            time.sleep(0.02)

    @contextlib.contextmanager
    def running(self) -> Iterator[Demo]:
        """Start the stand-ins and the bot; stop everything on the way out."""
        with contextlib.ExitStack() as stack:
            self.slack = stack.enter_context(SlackStandIn())
            seed_default_directory(self.slack)
            self.slack.add_user(NEWCOMER[0], name=NEWCOMER[1], email=NEWCOMER[2])
            self.anthropic = stack.enter_context(AnthropicStandIn())
            self.anthropic.seed_basic()
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ckb-demo-")))
            database_url = f"sqlite:///{directory / 'demo.db'}"
            engine = make_engine(database_url)
            upgrade(engine)
            engine.dispose()
            settings = Settings(
                _env_file=None,
                slack_bot_token=self.slack.bot_token,
                slack_signing_secret=SIGNING_SECRET,
                slack_api_url=self.slack.base_url,
                anthropic_admin_key=self.anthropic.admin_key,
                anthropic_base_url=self.anthropic.base_url,
                database_url=database_url,
                admin_channel_id="C0ADMIN",
                monthly_budget_usd=BUDGET_USD,
                scheduler_enabled=False,
            )
            self.deps: Deps = build_deps(settings)
            stack.callback(self.deps.close)
            server = BotServer(create_web_app(create_app(settings, self.deps), self.deps)).start()
            stack.callback(server.stop)
            self.url: str = server.url
            self.http = stack.enter_context(httpx.Client(timeout=WAIT_SECONDS))
            yield self


def walk_through(demo: Demo) -> None:
    """The story, step by step, printing what Slack received after each."""
    out = demo.out
    users = {"U0ADMIN": "admin", "U0DEV": "dev", NEWCOMER[0]: NEWCOMER[1]}
    printer = Printer(demo.slack, users, out)
    anthropic = demo.anthropic
    workspace = anthropic.seeded["workspace"]["id"]
    out(f"Bot on {demo.url} · Slack stand-in on {demo.slack.base_url} · Admin API stand-in on {anthropic.base_url}")
    out(
        "Org: Ada Admin (admin@example.com, <@U0ADMIN>), Dev Eloper (dev@example.com, <@U0DEV>), workspace "
        "default-ws; newbie (new@example.com, <@U0NEW>) is in Slack but not in the org."
    )

    demo.step("1. A developer asks for access")
    demo.command("request default-ws for 7d evaluating Claude for search", user=NEWCOMER[0])
    demo.request_row(1)
    demo.wait_post("#1", channel="C0ADMIN")
    printer.flush()

    demo.step("2. An admin approves: the bot sends the org invite")
    demo.click(Action.APPROVE_REQUEST, 1, user="U0ADMIN")
    request = demo.request_row(1, "invited")
    demo.wait_post("Invite sent", channel="C0ADMIN")
    demo.wait_post("accept the invitation", channel=NEWCOMER[0])
    printer.flush()

    demo.step("3. The invite is accepted: invite-sync adds them to the workspace")
    if request.invite_id is None:
        raise RuntimeError("request #1 is invited but has no invite id")
    member = anthropic.accept_invite(request.invite_id)
    out(f"(in the Console: {NEWCOMER[2]} accepts the invitation and becomes {member['id']})")
    demo.job("invite-sync")
    printer.flush()

    demo.step("4. They create a key: key-adoption links it and closes the request")
    anthropic.add_api_key(
        name="dev-newbie-search", workspace_id=workspace, created_by_user_id=member["id"], partial_key_hint="4f2a"
    )
    out("(in the Console: key dev-newbie-search …4f2a is created)")
    demo.job("key-adoption")
    printer.flush()

    demo.step("5. A key near 90 days old: rotation-reminders DMs its owner")
    now = datetime.now(UTC)
    anthropic.add_api_key(
        name="dev-batch-pipeline",
        workspace_id=workspace,
        created_by_user_id=anthropic.seeded["developer"]["id"],
        created_at=now - timedelta(days=84),
        partial_key_hint="9z9z",
    )
    out("(key dev-batch-pipeline …9z9z of dev@example.com was created 84 days ago)")
    demo.job("rotation-reminders")
    printer.flush()

    demo.step(f"6. Spend passes 75 % of the ${BUDGET_USD:,} monthly budget: budget-alerts posts")
    hour = now.replace(minute=0, second=0, microsecond=0)
    start = max(hour - timedelta(hours=1), hour.replace(day=1, hour=0))
    anthropic.add_cost(
        starting_at=start,
        ending_at=start + timedelta(hours=1),
        amount_cents="80000",
        workspace_id=workspace,
        model="claude-opus-4",
    )
    anthropic.data_refreshed_at = now
    out("($800.00 of usage this month in default-ws)")
    demo.job("budget-alerts")
    printer.flush()

    out("")
    out("Done: every message above went to the local Slack stand-in; nothing left this machine.")


def main(out: Callable[[str], None] = print) -> int:
    """Run the whole walk-through; 0 when every step happened."""
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    for name in PROXY_VARIABLES:  # loopback traffic must never go to a proxy
        os.environ.pop(name, None)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    demo = Demo(out)
    with demo.running():
        walk_through(demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
