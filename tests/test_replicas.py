"""Two real `claude-key-bot run --http` replicas sharing one PostgreSQL database and the stand-ins: every job
runs on both many times while clicks and commands arrive at both, and nothing is written or said twice."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.deps import Deps, build_deps
from bot.registry import JOBS, run_job
from bot.slack.ids import Action, Callback
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AccessRequest, JobRun, RequestState
from tests.botserver import SIGNING_SECRET, command_body, post_slack
from tests.conftest import _drop_postgres_schema, _fresh_postgres_schema, make_settings

S = RequestState
BIN = Path(sys.executable).with_name("claude-key-bot")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(slack: Any, anthropic: Any, database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a bot process pointed at the stand-ins (nothing inherited from the operator's shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
            "ANTHROPIC_ADMIN_KEY": anthropic.admin_key,
            "ANTHROPIC_BASE_URL": anthropic.base_url,
            "ADMIN_CHANNEL_ID": "C0ADMIN",
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SCHEDULER_ENABLED": "false",
            "WORKERS": "1",  # one worker process each: enough for these tests, and half the start-up CPU
        }
    )
    env.update(extra)
    return env


@dataclass
class BotProcess:
    """One `claude-key-bot run --http` process on loopback."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    @classmethod
    def start(cls, cwd: Path, env: dict[str, str], name: str) -> BotProcess:
        log = cwd / f"{name}.log"
        handle = log.open("w")
        process = subprocess.Popen(
            [str(BIN), "run", "--http", "--host", "127.0.0.1"],
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: the worker processes it starts are in it too
        )
        handle.close()
        return cls(process, f"http://127.0.0.1:{env['PORT']}", log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while True:
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.poll() is None, self.output()
                assert time.monotonic() < deadline, "bot did not become healthy:\n" + self.output()
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the bot (it stops its workers), then make sure nothing of its process group is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._end_group()

    def _end_group(self) -> None:
        """Workers left by a killed bot stop on their own once they see it gone; this waits for that, bounded."""
        group = self.process.pid
        deadline = time.monotonic() + 30
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                return
            while time.monotonic() < deadline:
                if not _group_alive(group):
                    return
                time.sleep(0.1)
            deadline = time.monotonic() + 5

    def kill(self) -> None:
        """SIGKILL the acking process only (its workers notice and stop after the items in hand)."""
        self.process.kill()
        self.process.wait()

    def kill_all(self) -> None:
        """SIGKILL the acking process and its worker processes at once (the whole process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _group_alive(group: int) -> bool:
    """Whether a process of `group` still runs (zombies don't count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


def click_payload(action: str, request_id: int, user: str, response_url: str, trigger_id: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": trigger_id,
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "C0ADMIN", "name": "admins"},
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
    return "payload=" + quote(json.dumps(payload))


def deny_payload(request_id: int, user: str, reason: str) -> str:
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "team": {"id": "T0STANDIN"},
        "trigger_id": "1.2.3",
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": Callback.DENY_MODAL,
            "private_metadata": json.dumps({"r": request_id}),
            "team_id": "T0STANDIN",
            "app_installed_team_id": "T0STANDIN",
            "state": {"values": {"reason": {"value": {"type": "plain_text_input", "value": reason}}}},
        },
    }
    return "payload=" + quote(json.dumps(payload))


def wait_state(engine: Any, request_id: int, states: tuple[str, ...], timeout: float = 20) -> AccessRequest:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            request = session.get(AccessRequest, request_id)
        if request is not None and request.state in states:
            return request
        seen = request.state if request else "missing"
        assert time.monotonic() < deadline, f"request #{request_id} is {seen}, wanted {states}"
        time.sleep(0.05)


def admin_writes(anthropic: Any) -> Counter[tuple[str, str, str]]:
    """Every Admin API write (POST/DELETE) by method, path and body."""
    return Counter(
        (r.method, r.path, json.dumps(r.body, sort_keys=True))
        for r in anthropic.requests
        if r.method in ("POST", "DELETE")
    )


def slack_notices(slack: Any) -> Counter[tuple[str, str, str]]:
    """Every accepted chat.postMessage by channel, thread and text."""
    return Counter(
        (str(c.body.get("channel")), str(c.body.get("thread_ts") or ""), str(c.body.get("text")))
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200 and isinstance(c.response, dict) and c.response.get("ok")
    )


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema (this suite needs PostgreSQL: the fixture fails in CI without it)."""
    schema, url = _fresh_postgres_schema(postgres_server)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        _drop_postgres_schema(postgres_server, schema)


def _seed(slack: Any, anthropic: Any, now: datetime) -> dict[str, str]:
    """Things every job can act on: old keys, spend over half the budget, a pending spend-limit increase."""
    dev, admin, ws = (anthropic.seeded[k]["id"] for k in ("developer", "admin", "workspace"))
    anthropic.add_api_key(
        name="dev-due-soon", workspace_id=ws, created_by_user_id=dev, created_at=now - timedelta(days=86)
    )
    anthropic.add_api_key(
        name="dev-overdue", workspace_id=ws, created_by_user_id=dev, created_at=now - timedelta(days=120)
    )
    anthropic.add_api_key(
        name="admin-stale", workspace_id=ws, created_by_user_id=admin, created_at=now - timedelta(days=60)
    )
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = max(month, (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0))
    anthropic.add_cost(
        starting_at=start,
        ending_at=start + timedelta(hours=1),
        amount_cents="95000",
        model="claude-opus-4",
        workspace_id=ws,
    )
    anthropic.data_refreshed_at = now
    anthropic.add_increase_request(dev)
    for n in range(1, 7):
        slack.add_user(f"U0REQ{n}", name=f"req{n}", email=f"req{n}@example.com")
    member = anthropic.add_user("req5@example.com", role="user")  # an org member: approval grants directly
    return {"member": member["id"], "workspace": ws}


def test_two_replicas_never_write_or_say_anything_twice(
    tmp_path: Path, pg_url: str, slack_standin, anthropic_standin
) -> None:
    now = datetime.now(UTC)
    _seed(slack_standin, anthropic_standin, now)
    extra = {"MONTHLY_BUDGET_USD": "1000"}
    bots = [
        BotProcess.start(tmp_path, bot_env(slack_standin, anthropic_standin, pg_url, free_port(), **extra), name)
        for name in ("replica-a", "replica-b")
    ]
    settings = make_settings(slack_standin, anthropic_standin, pg_url, monthly_budget_usd=Decimal(1000))
    job_deps: list[Deps] = [build_deps(settings), build_deps(settings)]  # each "replica" has its own engine
    try:
        for bot in bots:
            bot.wait_healthy()
        with httpx.Client(timeout=30) as client:
            # Six requests, filed alternately on either replica.
            for n in range(1, 7):
                url = slack_standin.new_response_url()
                body = command_body(
                    f"request default-ws for 7d replica test {n}", user_id=f"U0REQ{n}", response_url=url
                )
                assert post_slack(client, bots[n % 2].url, body).status_code == 200
                slack_standin.wait_for_response(count=n, timeout=20)
            engine = job_deps[0].engine
            for n in range(1, 7):
                wait_state(engine, n, (S.PENDING,))
            with session_scope(engine) as session:  # 1-2 waited for hours (nudge), 3 for two days (escalate)
                for request_id, age in ((1, timedelta(hours=5)), (2, timedelta(hours=6)), (3, timedelta(days=2))):
                    session.execute(
                        update(AccessRequest).where(col(AccessRequest.id) == request_id).values(created_at=now - age)
                    )

            errors: list[str] = []
            start = threading.Barrier(2 * 3 + 4)
            available = list(JOBS)
            assert len(available) == len(JOBS)

            def jobs_on(replica: int, worker: int) -> None:
                start.wait()
                for _ in range(3):
                    for name in available:
                        try:
                            run_job(name, job_deps[replica], holder=f"replica-{replica}-{worker}", out=lambda _: None)
                        except Exception as exc:
                            errors.append(f"{name}: {exc}")

            def clicks_on(replica: int) -> None:
                with httpx.Client(timeout=30) as mine:
                    start.wait()
                    for _ in range(3):
                        for request_id in (4, 5):
                            url = slack_standin.new_response_url()
                            body = click_payload(
                                Action.APPROVE_REQUEST,
                                request_id,
                                "U0ADMIN",
                                url,
                                slack_standin.new_trigger_id(user_id="U0ADMIN"),
                            )
                            assert post_slack(mine, bots[replica].url, body).status_code == 200
                        assert (
                            post_slack(mine, bots[replica].url, deny_payload(6, "U0ADMIN", "not now")).status_code
                            == 200
                        )

            def commands_on(replica: int) -> None:
                with httpx.Client(timeout=30) as mine:
                    start.wait()
                    for text in ("requests pending", "keys all", "budget show", "requests mine"):
                        url = slack_standin.new_response_url()
                        response = post_slack(
                            mine, bots[replica].url, command_body(text, user_id="U0ADMIN", response_url=url)
                        )
                        assert response.status_code == 200

            threads = [threading.Thread(target=jobs_on, args=(r, w)) for r in (0, 1) for w in range(3)]
            threads += [threading.Thread(target=clicks_on, args=(r,)) for r in (0, 1)]
            threads += [threading.Thread(target=commands_on, args=(r,)) for r in (0, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not any(t.is_alive() for t in threads)
            assert errors == []

            wait_state(engine, 4, (S.INVITED,))
            wait_state(engine, 5, (S.GRANTED,))
            wait_state(engine, 6, (S.DENIED,))
            # Late reruns on both replicas, after every click settled: still nothing new to send twice.
            for name in available:
                for replica in (0, 1):
                    run_job(name, job_deps[replica], holder=f"replica-{replica}-late", out=lambda _: None)
            # Every command and every losing click was answered (the winning approvals answer in the thread).
            slack_standin.wait_for_response(count=6 + (2 * 3 * 2 - 2) + 2 * 4, timeout=30)
            # A loser sees the state at its click: approved, or already invited/granted when it came late.
            already = [
                r
                for r in slack_standin.responses
                if re.search(r"was already (approved|invited|granted|denied)", json.dumps(r.body))
            ]
            assert len(already) == 2 * 3 * 2 - 2

        writes = admin_writes(anthropic_standin)
        assert [w for w, n in writes.items() if n > 1] == []
        invites = [w for w in writes if w[1] == "/v1/organizations/invites"]
        assert len(invites) == 1 and "req4@example.com" in invites[0][2]
        assert any(w[1].endswith("/members") and "workspace_developer" in w[2] for w in writes)  # #5 granted

        notices = slack_notices(slack_standin)
        assert [n for n, count in notices.items() if count > 1] == []
        texts = [text for _, _, text in notices]
        # Each job had something to say, said it once.
        assert sum("Still waiting for an admin" in t for t in texts) == 2  # nudges for #1 and #2
        assert sum("has waited over a day" in t for t in texts) == 1  # escalation of #3
        assert sum("Approved by" in t for t in texts) == 2
        assert sum("Denied by" in t for t in texts) == 1
        assert any("50%" in t or "75%" in t or "90%" in t for t in texts), texts  # budget-alerts
        assert any("dev-due-soon" in t or "dev-overdue" in t or "rotat" in t.lower() for t in texts), texts

        with session_scope(job_deps[0].engine) as session:
            runs = list(session.exec(select(JobRun)))
        assert {r.job for r in runs} == set(available)
        assert all(r.status == "ok" for r in runs), [(r.job, r.detail) for r in runs if r.status != "ok"]
    finally:
        for bot in bots:
            bot.stop()
        for built in job_deps:
            built.close()
    for bot in bots:
        output = bot.output()
        assert "Traceback" not in output, output
        for secret in (slack_standin.bot_token, SIGNING_SECRET, anthropic_standin.admin_key):
            assert secret not in output
