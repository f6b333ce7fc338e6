"""What both modes of bench/ack_latency.py share: the child processes, the signed command mix, readiness."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.botserver import command_body, signed_headers  # noqa: E402

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
SLACK_BOT_TOKEN = "xoxb-standin-token"  # SlackStandIn's default bot token
ADMIN_KEY = "sk-ant-admin01-standin-key"  # AnthropicStandIn's DEFAULT_ADMIN_KEY
ADMIN_CHANNEL_ID = "C0ADMIN"  # seeded by the Slack stand-in's default directory
USERS = ("U0DEV", "U0ADMIN")
SLACK_DEADLINE_S = 3.0
START_DEADLINE_S = 30.0  # each process: READY line or readiness probe
REQUEST_TIMEOUT_S = 10.0  # one request (well past Slack's 3 s: a slower ack is a failure anyway)
STOP_GRACE_S = 10.0
LOG_ERROR_MARKERS = (" ERROR ", "Traceback (most recent call last)", '"level": "ERROR"', " CRITICAL ")


# --------------------------------------------------------------------------------------------- processes


class Child:
    """A subprocess in its own session (Ctrl-C reaches only us; we stop it), output to a log file."""

    def __init__(
        self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path, ready_line: bool = False
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self.ready_line = ready_line
        self.proc: subprocess.Popen[str] | None = None
        self._log: TextIO | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> Child:
        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            text=True,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if self.ready_line else self._log,
            stderr=self._log,
        )
        if self.ready_line:
            threading.Thread(target=self._drain, name=f"drain-{self.name}", daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:  # ends at EOF, when the child exits
            self._lines.put(line)
        self._lines.put(None)

    def wait_ready_line(self, deadline: float) -> str:
        """The base URL from the child's `READY <url>` line."""
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                break
            if line.startswith("READY "):
                return line.split(None, 1)[1].strip()
        raise SetupError(f"{self.name} did not print READY within {START_DEADLINE_S:.0f} s; see {self.log_path}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; only this child's own pid."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_errors(self) -> list[str]:
        """Lines of this child's log that report an error."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line for line in lines if any(marker in line for marker in LOG_ERROR_MARKERS)]


class SetupError(Exception):
    """Something the benchmark needs did not start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment minus proxies and bot settings (only loopback traffic; nothing leaks in)."""
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
    bot_vars = {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "ANTHROPIC_ADMIN_KEY",
        "ANTHROPIC_BASE_URL",
        "DATABASE_URL",
        "ADMIN_CHANNEL_ID",
        "ALERT_CHANNEL_ID",
        "ADMIN_SLACK_USER_IDS",
        "PORT",
        "SCHEDULER_ENABLED",
        "MONTHLY_BUDGET_USD",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "WORKERS",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop and k not in bot_vars}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def bot_executable() -> str:
    beside = Path(sys.executable).parent / "claude-key-bot"
    if beside.exists():
        return str(beside)
    found = shutil.which("claude-key-bot")
    if found is None:
        raise SetupError("claude-key-bot not found: run with the venv's python (make bench)")
    return found


async def start_standins(
    args: argparse.Namespace, workdir: Path, children: list[Child]
) -> tuple[Child, Child, str, str]:
    """The Slack and Admin API stand-ins on free ports; them and their base URLs."""
    python = sys.executable
    deadline = time.monotonic() + START_DEADLINE_S
    slack = Child(
        "slack-standin",
        [python, "-m", "bot.sandbox.slack", "--port", "0"],
        env=child_env({}),
        cwd=ROOT,
        log_dir=workdir,
        ready_line=True,
    )
    admin = Child(
        "anthropic-standin",
        [python, "-m", "bot.sandbox.anthropic", "--port", "0", "--latency", str(args.admin_latency)],
        env=child_env({}),
        cwd=ROOT,
        log_dir=workdir,
        ready_line=True,
    )
    for child in (slack, admin):
        children.append(child.start())
    return slack, admin, slack.wait_ready_line(deadline), admin.wait_ready_line(deadline)


def bot_settings(slack_api_url: str, admin_url: str, database_url: str, port: int) -> dict[str, str]:
    """The bot's environment: the stand-ins, its database, its port, no scheduler."""
    return {
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "ANTHROPIC_ADMIN_KEY": ADMIN_KEY,
        "ANTHROPIC_BASE_URL": admin_url,
        "DATABASE_URL": database_url,
        "ADMIN_CHANNEL_ID": ADMIN_CHANNEL_ID,
        "PORT": str(port),
        "SCHEDULER_ENABLED": "false",
    }


def baseline_child(slack_api_url: str, port: int, workdir: Path) -> Child:
    return Child(
        "baseline",
        [sys.executable, str(ROOT / "bench" / "bare_bolt.py"), "--port", str(port)],
        cwd=workdir,
        log_dir=workdir,
        env=child_env(
            {"SLACK_BOT_TOKEN": SLACK_BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_api_url}
        ),
    )


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so the `finally` that stops the children always runs."""

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------------------------ commands


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


class Target:
    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host, self.port = host, port
        self.base_url = f"http://{host}:{port}"
        self.events_url = f"{self.base_url}/slack/events"


class CommandMix:
    """Every text from every user in turn, so each text reaches each code path (linked or not) equally often."""

    def __init__(self, texts: list[str]) -> None:
        self._pairs = itertools.cycle(itertools.product(texts, USERS))
        self._serial = itertools.count(1)

    def next(self, response_url: str) -> str:
        text, user = next(self._pairs)
        return command_body(
            text,
            user_id=user,
            response_url=response_url,
            channel_id=ADMIN_CHANNEL_ID,
            trigger_id=f"{next(self._serial)}.42.bench",
        )


async def mint_response_urls(client: httpx.AsyncClient, slack_root: str, n: int) -> list[str]:
    """One fresh response_url per command from the Slack stand-in, so work after the ack has somewhere to go."""

    async def one() -> str:
        response = await client.post(f"{slack_root}/_standin/response_url")
        response.raise_for_status()
        return str(response.json()["response_url"])

    return list(await asyncio.gather(*(one() for _ in range(n))))


def signed_requests(mix: CommandMix, response_urls: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Bodies and headers, signed now (before the clock starts), as Slack sends slash commands."""
    bodies = [mix.next(url) for url in response_urls]
    return [(body, signed_headers(body, secret=SIGNING_SECRET)) for body in bodies]


# ------------------------------------------------------------------------------------------ readiness


async def wait_healthz(url: str, child: Child, deadline: float) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise SetupError(f"{child.name} exited during startup; see {child.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SetupError(f"{child.name} not healthy within {START_DEADLINE_S:.0f} s; see {child.log_path}")


async def wait_signed(url: str, child: Child, deadline: float) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not child.alive():
                raise SetupError(f"{child.name} exited during startup; see {child.log_path}")
            body = command_body("help")
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(
                    f"{url}/slack/events", content=body, headers=signed_headers(body, secret=SIGNING_SECRET)
                )
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SetupError(f"{child.name} did not ack a signed command within {START_DEADLINE_S:.0f} s; see {child.log_path}")
