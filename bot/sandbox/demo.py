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

import argparse
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
from bot.sandbox import render
from bot.sandbox.anthropic import AnthropicStandIn
from bot.sandbox.botserver import BotServer
from bot.sandbox.demo_print import Printer, Shown, readme_sample, replace_sample
from bot.sandbox.loopback import PROXY_VARIABLES
from bot.sandbox.signing import SIGNING_SECRET, command_body, post_slack
from bot.sandbox.slack import SlackCall, SlackStandIn, seed_default_directory
from bot.sandbox.slack.records import StoredMessage
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AccessRequest

WAIT_SECONDS = 15.0
BUDGET_USD = Decimal(1000)
NEWCOMER = ("U0NEW", "newbie", "new@example.com")
# The bot's clock: a fixed Wednesday mid-month, so the walk-through (and the README's sample) reads the same on
# every run; the stand-in's "now" is set to it too.
DEMO_START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


# --- driving the bot as Slack would ------------------------------------------------------------------------------


class DemoClock:
    """The bot's clock in the demo: DEMO_START, moving on at a sixtieth of real time (a minute an hour), so every
    run prints the same dates and times however slow the machine is, and time still only moves forward."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return DEMO_START + timedelta(seconds=(time.monotonic() - self._started) / 60)


def _buttons(blocks: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]]:
    """Every (block, element, option) a person can press in a message: buttons, and overflow/select options."""
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements if isinstance(elements, list) else []:
            if not isinstance(element, dict):
                continue
            if element.get("type") == "button":
                yield block, element, None
            for option in element.get("options") or []:
                if isinstance(option, dict):
                    yield block, element, option


def _label(element: dict[str, Any], option: dict[str, Any] | None) -> str:
    return render.text_object((option or element).get("text")).strip()


class Demo:
    """The running pieces: stand-ins, the bot's HTTP endpoint and its deps."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.clock = DemoClock()

    def who(self, user_id: str) -> str:
        """``@Name`` as Slack shows the person."""
        return "@" + (self.slack.user_display_name(user_id) or user_id)

    def step(self, title: str) -> None:
        """Print a step's heading."""
        self.out("")
        self.out(f"── {title} " + "─" * max(0, 72 - len(title)))

    def command(self, text: str, *, user: str) -> None:
        """Send `/claude-key text` as `user`; wait for the deferred answer when the ack says so."""
        self.out(f"$ /claude-key {text}    (typed by {self.who(user)})")
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

    def press(self, label: str, *, user: str, channel: str) -> None:
        """Press the button (or pick the menu option) labelled `label` in the newest message in `channel` (an id,
        or a person's id for their DM) that has one, as `user` — the way a person finds it: by its text."""
        channel_id = self.slack.dm_channel_id(channel) or channel if channel.startswith(("U", "W")) else channel
        messages = self.slack.messages(channel_id)
        for stored in reversed(messages):
            for block, element, option in _buttons(stored.blocks):
                if _label(element, option) == label:
                    self._send_click(stored, block, element, option, user=user)
                    where = Printer(self.slack, self.out).where(channel_id)
                    self.out(f"* {self.who(user)} presses [{label}] in {where}")
                    return
        offered = sorted({_label(e, o) for m in messages for _, e, o in _buttons(m.blocks)})
        raise RuntimeError(f"no [{label}] to press in {channel}; there are: {', '.join(offered) or 'none'}")

    def _send_click(
        self,
        stored: StoredMessage,
        block: dict[str, Any],
        element: dict[str, Any],
        option: dict[str, Any] | None,
        *,
        user: str,
    ) -> None:
        """POST the block_actions payload Slack sends for that press (signed, like Slack's)."""
        action: dict[str, Any] = {
            "type": element.get("type"),
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "action_ts": "1.2",
        }
        if option is None:
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
        else:
            action["selected_option"] = option
        name = self.slack.channel_name(stored.channel)
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
            "api_app_id": "A0BOT",
            "token": "unused",
            "trigger_id": self.slack.new_trigger_id(user_id=user),
            "response_url": self.slack.new_response_url(),
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "channel": {"id": stored.channel, "name": name or "directmessage"},
            "container": {
                "type": "message",
                "message_ts": stored.ts,
                "channel_id": stored.channel,
                "is_ephemeral": False,
            },
            "message": {
                "type": "message",
                "user": stored.user,
                "ts": stored.ts,
                "text": stored.text or "",
                "blocks": stored.blocks or [],
                **({"thread_ts": stored.thread_ts} if stored.thread_ts else {}),
            },
            "actions": [action],
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
            self.anthropic.clock_now = self.anthropic.data_refreshed_at = DEMO_START
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
            self.deps.clock = self.clock
            stack.callback(self.deps.close)
            server = BotServer(create_web_app(create_app(settings, self.deps), self.deps)).start()
            stack.callback(server.stop)
            self.url: str = server.url
            self.http = stack.enter_context(httpx.Client(timeout=WAIT_SECONDS))
            yield self


def _first(shown: list[Shown], header_start: str) -> Shown:
    """The first printed message whose header starts with `header_start` (the README sample's picks)."""
    for item in shown:
        if item.header.startswith(header_start):
            return item
    raise RuntimeError(f"no message to {header_start!r} was printed")


def walk_through(demo: Demo) -> dict[str, Shown]:
    """The story, step by step, printing what Slack received after each; returns the README's sample messages."""
    out = demo.out
    printer = Printer(demo.slack, out)
    samples: dict[str, Shown] = {}
    anthropic = demo.anthropic
    workspace = anthropic.seeded["workspace"]["id"]
    out(f"Bot on {demo.url} · Slack stand-in on {demo.slack.base_url} · Admin API stand-in on {anthropic.base_url}")
    out(
        "Org: Ada Admin (admin@example.com, @Ada Admin in Slack) and Dev Eloper (dev@example.com, @Dev Eloper), "
        "workspace default-ws; newbie (new@example.com, @newbie) is in Slack but not in the org. "
        f"The bot's clock starts at {DEMO_START:%Y-%m-%d %H:%M} UTC."
    )

    demo.step("1. A developer asks for access")
    demo.command("request default-ws for 7d evaluating Claude for search", user=NEWCOMER[0])
    demo.request_row(1)
    demo.wait_post("#1", channel="C0ADMIN")
    samples["request card"] = _first(printer.flush(), "#claude-key-admins (")

    demo.step("2. An admin approves: the bot sends the org invite")
    demo.press("Approve", user="U0ADMIN", channel="C0ADMIN")
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
    now = demo.clock()
    anthropic.add_api_key(
        name="dev-newbie-search",
        workspace_id=workspace,
        created_by_user_id=member["id"],
        created_at=now,
        partial_key_hint="4f2a",
    )
    out("(in the Console: key dev-newbie-search …4f2a is created)")
    demo.job("key-adoption")
    printer.flush()

    demo.step("5. A key near 90 days old: rotation-reminders DMs its owner")
    anthropic.add_api_key(
        name="dev-batch-pipeline",
        workspace_id=workspace,
        created_by_user_id=anthropic.seeded["developer"]["id"],
        created_at=now - timedelta(days=84),
        partial_key_hint="9z9z",
    )
    out("(key dev-batch-pipeline …9z9z of dev@example.com was created 84 days ago)")
    demo.job("rotation-reminders")
    samples["rotation reminder"] = _first(printer.flush(), "DM to @Dev Eloper")

    demo.step("6. The developer looks at their keys")
    demo.command("keys", user="U0DEV")
    samples["keys list"] = _first(printer.flush(), "only you can see this")

    demo.step(f"7. Spend passes 75 % of the ${BUDGET_USD:,} monthly budget: budget-alerts posts")
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
    samples["budget alert"] = _first(printer.flush(), "#claude-key-admins (")

    out("")
    out("Done: every message above went to the local Slack stand-in; nothing left this machine.")
    return samples


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Run the whole walk-through; 0 when every step happened.

    ``--readme PATH`` also rewrites PATH's sample block (`make readme-sample`); ``--sample-to PATH`` writes the
    block alone to PATH (what the test compares with the README)."""
    parser = argparse.ArgumentParser(prog="claude-key-bot demo", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--readme", type=Path, help="rewrite this file's demo-sample block (README.md)")
    parser.add_argument("--sample-to", type=Path, help="write the demo-sample block to this file")
    args = parser.parse_args(argv if argv is not None else [])
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    for name in PROXY_VARIABLES:  # loopback traffic must never go to a proxy
        os.environ.pop(name, None)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    demo = Demo(out)
    with demo.running():
        samples = walk_through(demo)
    sample = readme_sample(samples)
    if args.sample_to is not None:
        args.sample_to.write_text(sample + "\n", encoding="utf-8")
    if args.readme is not None:
        document = args.readme.read_text(encoding="utf-8")
        updated = replace_sample(document, sample)
        if updated != document:
            args.readme.write_text(updated, encoding="utf-8")
        out(f"{args.readme}: the demo sample is {'updated' if updated != document else 'already current'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
