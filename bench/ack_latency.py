"""Ack latency: the bot against a bare Bolt AsyncApp on the same box, in two modes.

Starts, all on 127.0.0.1: the Slack Web API stand-in, the Anthropic Admin API stand-in (2 s per call), the
bot (`claude-key-bot run --http`, SQLite in a temp dir, scheduler off) and the baseline (bench/bare_bolt.py).

`--mode burst` (the default): for each concurrency level N, after a warm-up, it fires R bursts of N
simultaneous correctly signed `/claude-key` commands at the bot and at the baseline alternately, and times each
request until its HTTP response (the ack). Every request opens a fresh connection (Slack's requests come from
many hosts). The load generator is httpx.AsyncClient, or with `--client raw` bare asyncio streams, whose lower
client CPU shows more of the servers' own latency on a small box.

`--mode sustained`: commands that start real work (`keys`, `usage`, `request …` from two users) under load
from wrk (a C load generator: `apt-get install wrk`), `-c N` connections for `--duration` seconds per target
and level, bot and baseline alternately in the same run. Each connection sends its next request as soon as the
previous one is acked, so the "bursts" of 50 and 200 follow each other back to back while earlier work is still
running (Admin API 2 s a call). wrk keeps its connections alive (Slack opens fresh ones: this mode measures
the servers' request handling, not connection set-up). A generated Lua script cycles through requests signed
just before each run (Bolt refuses timestamps older than 5 minutes), each with its own trigger_id and a
response_url minted on the Slack stand-in, and prints wrk's p50/p90/p99/max and error counts (non-200, socket
errors, timeouts) as a JSON line. Reported as well: wrk's own CPU time against each run's span (the generator is
not the bottleneck when it is far below 100% per wrk thread), the servers' CPU, the bot's work items (read
from its database: acked vs stored, queue time = claimed - created, total = finished - created), idle RSS of
the acking process and of each worker process (`claude-key-bot worker` children), and start-up time from spawn
to /healthz 200 over `--starts` starts. `--workers N` sets WORKERS for the bot; `--database-url` puts its
database on PostgreSQL (a fresh schema, dropped after).

    .venv/bin/python bench/ack_latency.py [--concurrency 50,200] [--rounds 10] [--check]
    .venv/bin/python bench/ack_latency.py --mode sustained [--duration 15] [--workers N] [--database-url URL] \
        [--check]

Prints a table, writes bench/results/ack_latency.json (sustained: ack_latency_sustained.json). Exit status: 0 ok;
1 a request failed, a server died or logged an error, or (with --check) a bar was missed — burst: bot p99 >
1.5x baseline p99 at 50 concurrent; sustained: bot p99 > 1.2x baseline p99 at 50 or at 200, idle RSS of the
acking process > 110 MB, or a start-up > 2 s; 2 setup failed (e.g. wrk missing: the message says how to get it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import queue
import resource
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.botserver import command_body, signed_headers  # noqa: E402

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
SLACK_BOT_TOKEN = "xoxb-standin-token"  # SlackStandIn's default bot token
ADMIN_KEY = "sk-ant-admin01-standin-key"  # AnthropicStandIn's DEFAULT_ADMIN_KEY
ADMIN_CHANNEL_ID = "C0ADMIN"  # seeded by the Slack stand-in's default directory

TEXTS = ("help", "", "usage org 30d", "keys all", "request ml-platform for 7d need it", "frobnicate")
USERS = ("U0DEV", "U0ADMIN")

TARGET_CONCURRENCY = 50
TARGET_RATIO = 1.5
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


# ------------------------------------------------------------------------------------------------ load


@dataclass
class Sample:
    latency: float | None  # seconds; None when the request failed
    status: int | None = None
    error: str | None = None


@dataclass
class Series:
    """All measured requests against one target at one concurrency level."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    burst_spans: list[float] = field(default_factory=list)  # time until the last ack of each burst
    client_cpu: list[float] = field(default_factory=list)  # the load generator's CPU time during each burst

    def add(self, samples: list[Sample], span: float, cpu: float) -> None:
        self.burst_spans.append(span)
        self.client_cpu.append(cpu)
        for sample in samples:
            if sample.latency is not None and sample.error is None:
                self.latencies.append(sample.latency)
            else:
                self.errors.append(sample.error or f"HTTP {sample.status}")

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        ms = (lambda s: round(s * 1000, 1)) if lat else (lambda s: None)
        return {
            "requests": len(lat) + len(self.errors),
            "errors": len(self.errors),
            "error_kinds": sorted(set(self.errors))[:10],
            "p50_ms": ms(percentile(lat, 50)) if lat else None,
            "p90_ms": ms(percentile(lat, 90)) if lat else None,
            "p99_ms": ms(percentile(lat, 99)) if lat else None,
            "max_ms": ms(lat[-1]) if lat else None,
            "mean_ms": ms(sum(lat) / len(lat)) if lat else None,
            "over_3s": sum(1 for x in lat if x > SLACK_DEADLINE_S),
            "burst_span_p50_ms": ms(percentile(sorted(self.burst_spans), 50)) if self.burst_spans else None,
            # Near burst_span means the load generator, not the server, set the pace of the burst.
            "client_cpu_p50_ms": ms(percentile(sorted(self.client_cpu), 50)) if self.client_cpu else None,
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


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


# One shared, never-used TLS context: building httpx's default one costs ~20 ms per client.
_TLS = ssl.create_default_context()


def new_client(connections: int) -> httpx.AsyncClient:
    """An httpx client for loopback HTTP, ignoring any proxy settings."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=0)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, pool=REQUEST_TIMEOUT_S)
    return httpx.AsyncClient(trust_env=False, verify=_TLS, limits=limits, timeout=timeout)


async def send_httpx(client: httpx.AsyncClient, target: Target, body: str, headers: dict[str, str]) -> Sample:
    started = time.perf_counter()
    try:
        response = await client.post(target.events_url, content=body, headers=headers)
    except Exception as exc:
        return Sample(None, error=type(exc).__name__)
    latency = time.perf_counter() - started
    if response.status_code != 200:
        return Sample(latency, response.status_code, f"HTTP {response.status_code}")
    return Sample(latency, 200)


async def send_raw(target: Target, body: str, headers: dict[str, str]) -> Sample:
    """One HTTP/1.1 request on its own connection (`Connection: close`), read to EOF; a few µs of client CPU."""
    payload = body.encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n{head}"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(target.host, target.port)
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()  # headers and body, until the server closes
        latency = time.perf_counter() - started
    except Exception as exc:
        return Sample(None, error=type(exc).__name__)
    finally:
        if writer is not None:
            writer.close()
    parts = status_line.split()
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
    if status != 200:
        return Sample(latency, status, f"HTTP {status}")
    return Sample(latency, 200)


async def burst(
    target: Target, requests: list[tuple[str, dict[str, str]]], client_kind: str, deadline_s: float
) -> tuple[list[Sample], float, float]:
    """Send all requests at once, each on a fresh connection; each latency runs from its send to its response.

    httpx: one client per request (a single pool shared by N requests costs O(N²) client CPU and would measure
    httpcore, not the server). Returns the samples, the time until the last response, and the load generator's
    CPU time meanwhile.
    """
    go = asyncio.Event()
    clients = [new_client(1) for _ in requests] if client_kind == "httpx" else []

    async def one(i: int, body: str, headers: dict[str, str]) -> Sample:
        await go.wait()
        if clients:
            return await send_httpx(clients[i], target, body, headers)
        return await send_raw(target, body, headers)

    tasks = [asyncio.create_task(one(i, body, headers)) for i, (body, headers) in enumerate(requests)]
    try:
        await asyncio.sleep(0)  # every task is now parked on `go`
        cpu0, t0 = time.process_time(), time.perf_counter()
        go.set()
        gathered = asyncio.gather(*tasks)
        # On Ctrl-C the gather ends cancelled; reading its outcome keeps asyncio from logging it as unretrieved.
        gathered.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            samples = list(await asyncio.wait_for(gathered, timeout=deadline_s))
        except TimeoutError:
            samples = [
                t.result() if t.done() and not t.cancelled() else Sample(None, error="burst deadline") for t in tasks
            ]
        return samples, time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        for task in tasks:
            task.cancel()  # a no-op for finished ones
        for client in clients:
            await client.aclose()


async def run_load(
    targets: list[Target], slack_root: str, args: argparse.Namespace, checks: list[Child]
) -> dict[int, dict[str, Series]]:
    """Every level in turn; per level `warmup` unmeasured then `rounds` measured bursts at each target."""
    results: dict[int, dict[str, Series]] = {}
    # One mix per target: both get the same sequence of commands.
    mixes = {t.name: CommandMix(args.texts) for t in targets}
    control_limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(trust_env=False, timeout=REQUEST_TIMEOUT_S, limits=control_limits) as control:
        for n in args.levels:
            results[n] = {t.name: Series() for t in targets}
            await run_level(targets, slack_root, n, args, results[n], mixes, control, checks)
    return results


async def run_level(
    targets: list[Target],
    slack_root: str,
    n: int,
    args: argparse.Namespace,
    series: dict[str, Series],
    mixes: dict[str, CommandMix],
    control: httpx.AsyncClient,
    checks: list[Child],
) -> None:
    burst_deadline = REQUEST_TIMEOUT_S + 20.0
    for i in range(args.warmup + args.rounds):
        measured = i >= args.warmup
        # Alternate who goes first so neither always follows the other's burst.
        order = targets if i % 2 == 0 else list(reversed(targets))
        for target in order:
            requests = signed_requests(mixes[target.name], await mint_response_urls(control, slack_root, n))
            samples, span, cpu = await burst(target, requests, args.client, burst_deadline)
            if measured:
                series[target.name].add(samples, span, cpu)
            else:
                series[target.name].errors.extend(f"warm-up: {s.error}" for s in samples if s.error)
            await asyncio.sleep(args.pause)
        dead = [c.name for c in checks if not c.alive()]
        if dead:
            raise SetupError(f"died during the run: {', '.join(dead)}")
        label = "warm-up" if not measured else f"round {i - args.warmup + 1}/{args.rounds}"
        print(f"  N={n:<4} {label:<12} done", file=sys.stderr, flush=True)


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


# --------------------------------------------------------------------------------------------- report


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def build_report(
    results: dict[int, dict[str, Series]], args: argparse.Namespace, nproc: int, log_errors: dict[str, list[str]]
) -> dict[str, Any]:
    levels = []
    for n, series in results.items():
        bot, base = series["bot"].summary(), series["baseline"].summary()
        ratio = round(bot["p99_ms"] / base["p99_ms"], 2) if bot["p99_ms"] and base["p99_ms"] else None
        levels.append({"concurrency": n, "rounds": args.rounds, "bot": bot, "baseline": base, "p99_ratio": ratio})
    return {
        "benchmark": "ack_latency",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "admin_api_latency_s": args.admin_latency,
        "rounds": args.rounds,
        "client": args.client,
        "warmup_bursts": args.warmup,
        "texts": args.texts,
        "target": {"concurrency": TARGET_CONCURRENCY, "max_p99_ratio": TARGET_RATIO},
        "levels": levels,
        "server_log_errors": {name: lines[:20] for name, lines in log_errors.items() if lines},
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\nack latency (ms), nproc={report['nproc']}, {report['rounds']} rounds per level, "
        f"Admin API {report['admin_api_latency_s']:g} s/call, {report['client']} client, fresh connections"
    )
    header = (
        f"{'N':>5} | {'bot p50':>8} {'bot p99':>8} {'bot max':>8} | {'base p50':>8} {'base p99':>8} "
        f"{'base max':>8} | {'p99 ratio':>9} | {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for level in report["levels"]:
        bot, base = level["bot"], level["baseline"]
        ratio = "-" if level["p99_ratio"] is None else f"{level['p99_ratio']:.2f}"
        errors = bot["errors"] + base["errors"]
        print(
            f"{level['concurrency']:>5} | {fmt(bot['p50_ms']):>8} {fmt(bot['p99_ms']):>8} {fmt(bot['max_ms']):>8} | "
            f"{fmt(base['p50_ms']):>8} {fmt(base['p99_ms']):>8} {fmt(base['max_ms']):>8} | {ratio:>9} | "
            f"{errors:>6}"
        )
    print("burst span p50 / load generator CPU p50 (ms; CPU near span = the generator set the pace):")
    for level in report["levels"]:
        bot, base = level["bot"], level["baseline"]
        print(
            f"  N={level['concurrency']}: bot {fmt(bot['burst_span_p50_ms'])} / {fmt(bot['client_cpu_p50_ms'])}, "
            f"baseline {fmt(base['burst_span_p50_ms'])} / {fmt(base['client_cpu_p50_ms'])}"
        )
    for level in report["levels"]:
        for name in ("bot", "baseline"):
            if level[name]["errors"]:
                print(f"  N={level['concurrency']} {name} errors: {', '.join(level[name]['error_kinds'])}")
    for name, lines in report["server_log_errors"].items():
        print(f"  {name} logged {len(lines)} error line(s), e.g.: {lines[0][:200]}")


# ------------------------------------------------------------------------------------ sustained mode (wrk)

SUSTAINED_TEXTS = ("keys", "usage", "request ml-platform for 7d need it")
SUSTAINED_LEVELS = (50, 200)
SUSTAINED_RATIO = 1.2
IDLE_RSS_BAR_MB = 110.0
STARTUP_BAR_S = 2.0
WRK_TIMEOUT_S = 10  # wrk's per-request timeout: an ack slower than this counts as an error (Slack waits 3 s)
SAMPLE_EVERY_S = 0.2  # how often the claim sampler reads the bot's running work items
RESULT_MARK = "WRK-RESULT "
MAX_POOL = 20000  # signed requests in one wrk script
WRK_MISSING = (
    "wrk, the load generator of --mode sustained, is not installed. On Debian or Ubuntu: `sudo apt-get install -y "
    "wrk`; on macOS: `brew install wrk`; elsewhere build https://github.com/wg/wrk and put it on PATH (or --wrk PATH)"
)

# Cycles through precomputed signed requests; thread k of T takes entries k+1, k+1+T, … so no two threads send the
# same one. `response()` counts every non-200 answer; `done()` prints one JSON line the bench parses. The data is
# one long string (a table of thousands of string constants would hit LuaJIT's per-function constant limit).
WRK_LUA = string.Template(
    r"""-- Generated by bench/ack_latency.py --mode sustained: $count signed /claude-key commands.
local data = [==[
$data]==]
local nthreads = $threads
local threads = {}
local created = 0

function setup(thread)
  thread:set("tid", created)
  created = created + 1
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  local i = 0
  for ts, sig, body in data:gmatch("(%S+) (%S+) (%S+)\n") do
    if i % nthreads == tid then
      reqs[#reqs + 1] = wrk.format("POST", "/slack/events", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Slack-Request-Timestamp"] = ts,
        ["X-Slack-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  data = nil
  nxt = 0
  responses = 0
  non200 = 0
end

function request()
  nxt = nxt % #reqs + 1
  return reqs[nxt]
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local responses, non200 = 0, 0
  for _, t in ipairs(threads) do
    responses = responses + t:get("responses")
    non200 = non200 + t:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    '$mark{"requests": %.0f, "duration_us": %.0f, "responses": %.0f, "non200": %.0f, '
    .. '"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f, '
    .. '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "max_us": %.0f, "mean_us": %.1f}\n',
    summary.requests, summary.duration, responses, non200,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""
)


def find_wrk(explicit: str | None) -> str:
    """The wrk executable, or a SetupError that says how to get it."""
    found = shutil.which(explicit or "wrk")
    if found is None:
        raise SetupError(f"--wrk {explicit}: no such executable" if explicit else WRK_MISSING)
    return found


def wrk_version(wrk: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=5, check=False)
        return (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0].strip()
    return "unknown"


def write_wrk_script(path: Path, requests: list[tuple[str, dict[str, str]]], threads: int) -> None:
    lines = []
    for body, headers in requests:
        ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        if any(ch.isspace() or not ch.isascii() for ch in ts + sig + body) or "]==]" in body:
            raise SetupError("a signed request does not fit the wrk script's format")
        lines.append(f"{ts} {sig} {body}\n")
    script = WRK_LUA.substitute(count=len(requests), data="".join(lines), threads=threads, mark=RESULT_MARK)
    path.write_text(script, encoding="ascii")


async def mint_many(client: httpx.AsyncClient, slack_root: str, n: int) -> list[str]:
    """`n` fresh response_urls from the Slack stand-in in one call (its bulk control endpoint)."""
    response = await client.post(f"{slack_root}/_standin/response_urls", params={"count": n})
    response.raise_for_status()
    urls = [str(url) for url in response.json()["response_urls"]]
    if len(set(urls)) != n:
        raise SetupError(f"the Slack stand-in minted {len(set(urls))} distinct response_urls, not {n}")
    return urls


def fake_response_urls(slack_root: str, n: int, serial: Iterator[int]) -> list[str]:
    """response_urls of the stand-in's shape for the baseline, which only acks (it never posts to them)."""
    return [f"{slack_root}/response/R{next(serial):06d}{os.urandom(4).hex()}" for _ in range(n)]


@dataclass
class WrkRun:
    """One wrk run against one target at one level: what wrk measured, its CPU and the target's CPU."""

    target: str
    concurrency: int
    round: int
    measured: bool
    pool: int
    result: dict[str, float]
    span_s: float
    wrk_cpu_s: float
    server_cpu_s: float | None
    exit_code: int
    response_urls: frozenset[str] = frozenset()  # the bot's: its work items name them

    @property
    def acked(self) -> int:
        return int(self.result["responses"] - self.result["non200"])

    @property
    def errors(self) -> int:
        r = self.result
        return int(r["non200"] + r["connect"] + r["read"] + r["write"] + r["timeout"])

    def summary(self) -> dict[str, Any]:
        r = self.result
        seconds = r["duration_us"] / 1e6 if r["duration_us"] else self.span_s
        return {
            "target": self.target,
            "concurrency": self.concurrency,
            "round": self.round,
            "measured": self.measured,
            "requests": int(r["requests"]),
            "acked": self.acked,
            "requests_per_s": round(r["requests"] / seconds, 1) if seconds else None,
            "p50_ms": round(r["p50_us"] / 1000, 1),
            "p90_ms": round(r["p90_us"] / 1000, 1),
            "p99_ms": round(r["p99_us"] / 1000, 1),
            "max_ms": round(r["max_us"] / 1000, 1),
            "mean_ms": round(r["mean_us"] / 1000, 1),
            "errors": self.errors,
            "error_detail": {k: int(r[k]) for k in ("non200", "connect", "read", "write", "timeout")},
            "pool": self.pool,
            "reused_requests": max(0, int(r["responses"]) - self.pool),
            "span_s": round(self.span_s, 2),
            # The generator's CPU against the wall time of its run: near 1 per wrk thread would mean it set the pace.
            "wrk_cpu_s": round(self.wrk_cpu_s, 2),
            "wrk_cpu_share": round(self.wrk_cpu_s / self.span_s, 3) if self.span_s else None,
            "server_cpu_s": None if self.server_cpu_s is None else round(self.server_cpu_s, 2),
            "wrk_exit_code": self.exit_code,
        }


async def run_wrk(
    wrk: str,
    target: Target,
    *,
    concurrency: int,
    duration: float,
    threads: int,
    script: Path,
    log_path: Path,
    server_pid: int | None,
) -> tuple[dict[str, float], float, float, float | None, int]:
    """Run wrk to the end; its parsed result, wall time, its own CPU time (user + system, from RUSAGE_CHILDREN
    around it: no other child of ours ends meanwhile), the target process tree's CPU, and wrk's exit code."""
    argv = [
        wrk,
        "-t",
        str(min(threads, concurrency)),
        "-c",
        str(concurrency),
        "-d",
        f"{duration:g}s",
        "--timeout",
        f"{WRK_TIMEOUT_S}s",
        "-s",
        str(script),
        target.events_url,
    ]
    server_cpu0 = tree_cpu_seconds(server_pid) if server_pid else None
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log_path.open("w", encoding="utf-8") as out:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=child_env({})
        )
        try:
            code = await asyncio.wait_for(proc.wait(), timeout=duration + WRK_TIMEOUT_S + 60)
        except BaseException:  # timed out, Ctrl-C or SIGTERM: never leave a load generator running
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        span = time.perf_counter() - started
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu1 = tree_cpu_seconds(server_pid) if server_pid else None
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    server_cpu = None if server_cpu0 is None or server_cpu1 is None else server_cpu1 - server_cpu0
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    found = [line[len(RESULT_MARK) :] for line in lines if line.startswith(RESULT_MARK)]
    if not found:
        tail = " | ".join(lines[-5:])
        raise SetupError(f"wrk printed no result (exit {code}): {tail[:400]}; see {log_path}")
    return json.loads(found[-1]), span, cpu, server_cpu, code


# ------------------------------------------------------------------------------------ /proc: CPU, RSS, children


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def child_pids(pid: int) -> list[int]:
    """Direct children, from /proc/<pid>/task/*/children, else by scanning every process's parent."""
    found: list[int] = []
    tasks = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if tasks:
        for path in tasks:
            with contextlib.suppress(OSError):
                found.extend(int(x) for x in path.read_text().split())
        return sorted(set(found))
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def descendants(pid: int) -> list[int]:
    out, todo = [], child_pids(pid)
    while todo:
        child = todo.pop(0)
        out.append(child)
        todo.extend(child_pids(child))
    return out


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its living descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, any_alive = 0, False
    for p in [pid, *descendants(pid)]:
        fields = _stat_fields(p)
        if fields is not None:
            any_alive = True
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks if any_alive else None


def rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def command_line(pid: int) -> str:
    """A process's program and arguments (no environment: that holds the secrets), the program as its name."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        argv = [a for a in argv if a]
        if len(argv) >= 2 and Path(argv[0]).name.startswith("python"):
            argv = argv[1:]  # the venv's console script runs under python
        return " ".join([Path(argv[0]).name, *argv[1:]])[:120] if argv else "?"
    return "?"


def process_memory(pid: int) -> dict[str, Any]:
    """RSS of the process and of each descendant; a descendant whose command names `worker` is a worker."""
    kids = [
        {"pid": p, "command": command_line(p), "rss_mb": rss_mb(p)} for p in descendants(pid) if rss_mb(p) is not None
    ]
    return {
        "rss_mb": rss_mb(pid),
        "workers": [k for k in kids if " worker" in f" {k['command']}"],
        "other_children": [k for k in kids if " worker" not in f" {k['command']}"],
    }


# --------------------------------------------------------------------------------------- the bot's database


class BenchDatabase:
    """The bot's database: a SQLite file in the temp dir, or a fresh schema on a PostgreSQL server (dropped after)."""

    def __init__(self, url: str, *, server_url: str | None = None, schema: str | None = None) -> None:
        self.url, self.server_url, self.schema = url, server_url, schema

    @property
    def kind(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    @classmethod
    def create(cls, server_url: str | None, bot_dir: Path) -> BenchDatabase:
        if server_url is None:
            return cls(f"sqlite:///{bot_dir / 'bot.db'}")
        from sqlalchemy import text

        from storage.db import make_engine

        schema = f"ckb_bench_{os.urandom(6).hex()}"
        try:
            admin = make_engine(server_url, pool_size=2)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
        except Exception as exc:
            raise SetupError(f"could not create a schema on --database-url ({type(exc).__name__})") from exc
        separator = "&" if "?" in server_url else "?"
        url = f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
        return cls(url, server_url=server_url, schema=schema)

    def drop(self) -> None:
        if self.server_url is None or self.schema is None:
            return
        from sqlalchemy import text

        from storage.db import make_engine

        admin = make_engine(self.server_url, pool_size=2)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


class WorkWatch:
    """Reads the bot's work_item rows. The table has created_at and finished_at; when an item was claimed is taken
    from a `claimed_at` column if the model has one, else from a sampler thread that reads the running items every
    SAMPLE_EVERY_S and records, on first sight, claim_expires_at minus the runner's lease (exact while claims are
    not extended; an item done within one sampling interval is never seen running and has no queue time)."""

    def __init__(self, database_url: str) -> None:
        from bot.work.runner import LEASE
        from storage.db import make_engine
        from storage.models import WorkItem

        self.lease = LEASE
        self.engine = make_engine(database_url, pool_size=2)
        self.model = WorkItem
        self.has_claimed_at = "claimed_at" in WorkItem.model_fields
        self.claimed_at: dict[int, datetime] = {}
        self.sample_errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.has_claimed_at:
            self._thread = threading.Thread(target=self._sample_loop, name="claim-sampler", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.engine.dispose()

    def _sample_loop(self) -> None:
        from sqlalchemy import select
        from sqlmodel import col

        item = self.model
        query = select(col(item.id), col(item.claim_expires_at)).where(
            col(item.state) == "running", col(item.claim_expires_at).is_not(None)
        )
        while not self._stop.wait(SAMPLE_EVERY_S):
            try:
                with self.engine.connect() as connection:
                    rows = connection.execute(query).all()
            except Exception:  # a busy database: the next sample sees the item still running
                self.sample_errors += 1
                continue
            for item_id, expires in rows:
                if item_id is not None and item_id not in self.claimed_at and expires is not None:
                    self.claimed_at[item_id] = expires - self.lease

    def max_id(self) -> int:
        from sqlalchemy import func, select
        from sqlmodel import col

        with self.engine.connect() as connection:
            return int(connection.execute(select(func.max(col(self.model.id)))).scalar() or 0)

    def wait_idle(self, after_id: int, deadline: float) -> bool:
        """Whether every item after `after_id` is done (or given up) before `deadline`."""
        from sqlalchemy import func, select
        from sqlmodel import col

        item = self.model
        query = select(func.count()).where(col(item.id) > after_id, col(item.state).in_(("queued", "running")))
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                if not connection.execute(query).scalar():
                    return True
            time.sleep(0.2)
        return False

    def stats(self, after_id: int, response_urls: frozenset[str] | None = None, acked: int = 0) -> dict[str, Any]:
        """States, queue time (claimed - created) and total time (finished - created) of the items stored after
        `after_id` (only those answering one of `response_urls`, when given), against the `acked` commands: an ack
        comes first and its item is stored just after it, so under load some are not stored yet."""
        from sqlalchemy import select
        from sqlmodel import col

        item = self.model
        columns = [
            col(item.id),
            col(item.state),
            col(item.created_at),
            col(item.finished_at),
            col(item.attempts),
            col(item.response_url),
        ]
        if self.has_claimed_at:
            columns.append(col(item.claimed_at))  # type: ignore[attr-defined]
        query = select(*columns).where(col(item.id) > after_id)
        with self.engine.connect() as connection:
            rows: list[Any] = list(connection.execute(query).all())
        if response_urls is not None:
            rows = [row for row in rows if row[5] in response_urls]
        now = datetime.now(UTC)
        states: dict[str, int] = {}
        queue_s: list[float] = []
        total_s: list[float] = []
        unfinished_age: list[float] = []
        retried = 0
        for row in rows:
            item_id: int = row[0]
            state: str = row[1]
            created: datetime = row[2]
            finished: datetime | None = row[3]
            attempts: int = row[4]
            states[state] = states.get(state, 0) + 1
            retried += attempts > 1
            claimed: datetime | None = row[6] if self.has_claimed_at else self.claimed_at.get(item_id)
            if claimed is not None:
                queue_s.append((claimed - created).total_seconds())
            if finished is not None:
                total_s.append((finished - created).total_seconds())
            elif state in ("queued", "running"):
                unfinished_age.append((now - created).total_seconds())
        return {
            "acked": acked,
            "items": len(rows),
            "not_stored_yet": max(0, acked - len(rows)) if acked else None,
            "states": dict(sorted(states.items())),
            "retried": retried,
            "queue_s": spread(queue_s),
            "total_s": spread(total_s),
            "oldest_unfinished_s": round(max(unfinished_age), 1) if unfinished_age else None,
            "queue_time_source": "claimed_at column" if self.has_claimed_at else "claim sampler",
        }


def spread(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 50), 2),
        "p99": round(percentile(ordered, 99), 2),
        "max": round(ordered[-1], 2),
    }


# ------------------------------------------------------------------------------------------- sustained run


def sustained_bot_env(slack_api_url: str, admin_url: str, database_url: str, port: int, workers: int | None) -> dict:
    extra = bot_settings(slack_api_url, admin_url, database_url, port)
    if workers is not None:
        extra["WORKERS"] = str(workers)
    return child_env(extra)


async def time_start(child: Child, url: str, deadline: float) -> float:
    """Spawn the child; seconds from spawn until its /healthz answers 200 (polled every 20 ms)."""
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        started = time.perf_counter()
        child.start()
        while time.monotonic() < deadline:
            if not child.alive():
                raise SetupError(f"{child.name} exited during startup; see {child.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return time.perf_counter() - started
            await asyncio.sleep(0.02)
    raise SetupError(f"{child.name} not healthy within {START_DEADLINE_S:.0f} s; see {child.log_path}")


async def run_sustained(
    args: argparse.Namespace,
    workdir: Path,
    children: list[Child],
    nproc: int,
    cleanups: list[Callable[[], None]],
) -> int:
    wrk = find_wrk(args.wrk)
    args.load_average = [round(x, 2) for x in os.getloadavg()]  # other work on the box skews every figure
    slack, admin, slack_api_url, admin_url = await start_standins(args, workdir, children)
    slack_root = slack_api_url.rstrip("/").removesuffix("/api")
    bot_dir = workdir / "bot"
    bot_dir.mkdir()
    database = BenchDatabase.create(args.database_url, bot_dir)
    cleanups.append(database.drop)

    # Start-up: spawn to /healthz 200, a few times on the same database (the first one migrates it); the last
    # start is the bot that is measured.
    bot_port, base_port = free_port(), free_port()
    bot_url, base_url = f"http://127.0.0.1:{bot_port}", f"http://127.0.0.1:{base_port}"
    env = sustained_bot_env(slack_api_url, admin_url, database.url, bot_port, args.workers)
    startups: list[float] = []
    bot: Child | None = None
    for i in range(args.starts):
        last = i == args.starts - 1
        child = Child(
            "bot" if last else f"bot-start-{i + 1}",
            [bot_executable(), "run", "--http", "--host", "127.0.0.1"],
            cwd=bot_dir,
            log_dir=workdir,
            env=env,
        )
        children.append(child)
        startups.append(await time_start(child, bot_url, time.monotonic() + START_DEADLINE_S))
        if last:
            bot = child
        else:
            child.stop()
    assert bot is not None and bot.proc is not None
    print(f"start-up to /healthz 200: {', '.join(f'{s:.2f}' for s in startups)} s", file=sys.stderr, flush=True)

    baseline = baseline_child(slack_api_url, base_port, workdir)
    children.append(baseline.start())
    deadline = time.monotonic() + START_DEADLINE_S
    await asyncio.gather(wait_signed(bot_url, bot, deadline), wait_signed(base_url, baseline, deadline))
    assert baseline.proc is not None
    pids = {"bot": bot.proc.pid, "baseline": baseline.proc.pid}

    watch = WorkWatch(database.url)
    cleanups.insert(0, watch.close)  # before the schema is dropped
    watch.start()
    targets = {"bot": Target("bot", "127.0.0.1", bot_port), "baseline": Target("baseline", "127.0.0.1", base_port)}
    mixes = {name: CommandMix(args.texts) for name in targets}
    serial = itertools.count(1)
    control_limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(trust_env=False, timeout=REQUEST_TIMEOUT_S, limits=control_limits) as control:
        # Idle: after one of each command (all code paths imported, the pools warm) and its work done.
        first_id = await asyncio.to_thread(watch.max_id)
        warmup_commands = len(args.texts) * len(USERS)
        for body, headers in signed_requests(
            CommandMix(args.texts), await mint_response_urls(control, slack_root, warmup_commands)
        ):
            response = await control.post(targets["bot"].events_url, content=body, headers=headers)
            if response.status_code != 200:
                raise SetupError(f"the bot answered a warm-up command with HTTP {response.status_code}")
        idle_deadline = time.monotonic() + 4 * args.admin_latency * 3 + 30
        if not await asyncio.to_thread(watch.wait_idle, first_id, idle_deadline):
            raise SetupError("the warm-up commands' work did not finish")
        await asyncio.sleep(2.0)
        idle = {name: process_memory(pid) for name, pid in pids.items()}
        print(
            f"idle RSS: bot {idle['bot']['rss_mb']} MB, workers {[w['rss_mb'] for w in idle['bot']['workers']]}, "
            f"baseline {idle['baseline']['rss_mb']} MB",
            file=sys.stderr,
            flush=True,
        )

        async def one_run(name: str, n: int, round_no: int, duration: float, measured: bool) -> WrkRun:
            target = targets[name]
            # Enough distinct requests for the run at the target's last rate (each response_url takes 5 answers).
            pool = args.pool or max(2000, min(MAX_POOL, math.ceil(rates.get(name, 0.0) * duration * 2)))
            if name == "bot":
                minted = time.perf_counter()
                urls = await mint_many(control, slack_root, pool)
                print(
                    f"  minted {pool} response_urls in {time.perf_counter() - minted:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                urls = fake_response_urls(slack_root, pool, serial)
            requests = signed_requests(mixes[name], urls)  # signed now: Bolt refuses timestamps over 5 minutes old
            script = workdir / f"wrk-{name}-{n}-{round_no}.lua"
            write_wrk_script(script, requests, args.wrk_threads)
            used = frozenset(urls) if name == "bot" else frozenset()
            result, span, cpu, server_cpu, code = await run_wrk(
                wrk,
                target,
                concurrency=n,
                duration=duration,
                threads=args.wrk_threads,
                script=script,
                log_path=workdir / f"wrk-{name}-{n}-{round_no}.log",
                server_pid=pids[name],
            )
            dead = [c.name for c in (slack, admin, bot, baseline) if not c.alive()]
            if dead:
                raise SetupError(f"died during the run: {', '.join(dead)}")
            run = WrkRun(name, n, round_no, measured, pool, result, span, cpu, server_cpu, code, used)
            rates[name] = run.result["requests"] / max(run.span_s, 0.001)
            s = run.summary()
            print(
                f"  N={n:<4} {name:<8} {'measured' if measured else 'warm-up':<8} {s['requests']:>6} req "
                f"p50 {s['p50_ms']} p99 {s['p99_ms']} max {s['max_ms']} ms, {s['errors']} errors, "
                f"wrk CPU {s['wrk_cpu_s']} s / {s['span_s']} s",
                file=sys.stderr,
                flush=True,
            )
            return run

        runs: list[WrkRun] = []
        rates: dict[str, float] = {}
        if args.warmup_seconds > 0:
            for name in targets:
                runs.append(await one_run(name, args.levels[0], 0, args.warmup_seconds, measured=False))
        levels = []
        for index, n in enumerate(args.levels):
            for round_no in range(1, args.rounds + 1):
                # Alternate who goes first, so neither always runs in the wake of the other's load.
                order = ["bot", "baseline"] if (index + round_no) % 2 == 1 else ["baseline", "bot"]
                for name in order:
                    runs.append(await one_run(name, n, round_no, args.duration, measured=True))
                    await asyncio.sleep(args.pause)
            mine = [r for r in runs if r.measured and r.concurrency == n]
            bot_runs = [r for r in mine if r.target == "bot"]
            urls = frozenset().union(*(r.response_urls for r in bot_runs))
            acked = sum(r.acked for r in bot_runs)
            work = await asyncio.to_thread(watch.stats, first_id, urls, acked)
            levels.append(level_summary(n, mine, work))
        loaded = {name: process_memory(pid) for name, pid in pids.items()}
        acked_all = sum(r.acked for r in runs if r.target == "bot") + warmup_commands
        work_end = await asyncio.to_thread(watch.stats, first_id, None, acked_all)

    log_errors = {c.name: c.log_errors() for c in children if c.name.startswith("bot") or c is baseline}
    report = build_sustained_report(
        args, nproc, wrk_version(wrk), database.kind, startups, idle, loaded, runs, levels, work_end, log_errors
    )
    report["claim_sampler_errors"] = watch.sample_errors
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_sustained(report)
    print(f"\nJSON: {args.output}")
    failed = [c for c in report["checks"] if not c["ok"] and (args.check or c["always"])]
    for check in report["checks"]:
        if args.check or check["always"]:
            print(f"{'OK' if check['ok'] else 'FAIL'}: {check['detail']}")
    return 1 if failed else 0


def level_summary(n: int, runs: list[WrkRun], work: dict[str, Any]) -> dict[str, Any]:
    """Per target, the worst p99 and max over the level's rounds; the ratio of the worst p99s."""
    out: dict[str, Any] = {"concurrency": n, "work": work}
    for name in ("bot", "baseline"):
        mine = [r.summary() for r in runs if r.target == name]
        out[name] = {
            "rounds": len(mine),
            "requests": sum(s["requests"] for s in mine),
            "requests_per_s": round(sum(s["requests_per_s"] or 0 for s in mine) / len(mine), 1) if mine else None,
            "p50_ms": max((s["p50_ms"] for s in mine), default=None),
            "p99_ms": max((s["p99_ms"] for s in mine), default=None),
            "max_ms": max((s["max_ms"] for s in mine), default=None),
            "errors": sum(s["errors"] for s in mine),
            "wrk_cpu_s": round(sum(s["wrk_cpu_s"] for s in mine), 2),
            "span_s": round(sum(s["span_s"] for s in mine), 2),
        }
    bot, base = out["bot"], out["baseline"]
    out["p99_ratio"] = round(bot["p99_ms"] / base["p99_ms"], 2) if bot["p99_ms"] and base["p99_ms"] else None
    return out


def build_sustained_report(
    args: argparse.Namespace,
    nproc: int,
    wrk_version_text: str,
    database_kind: str,
    startups: list[float],
    idle: dict[str, Any],
    loaded: dict[str, Any],
    runs: list[WrkRun],
    levels: list[dict[str, Any]],
    work_end: dict[str, Any],
    log_errors: dict[str, list[str]],
) -> dict[str, Any]:
    checks = []
    for n in SUSTAINED_LEVELS:
        level = next((lv for lv in levels if lv["concurrency"] == n), None)
        ratio = None if level is None else level["p99_ratio"]
        checks.append(
            {
                "name": f"p99_ratio_{n}",
                "always": False,
                "ok": ratio is not None and ratio <= SUSTAINED_RATIO,
                "detail": (
                    f"no measured level of {n} (--concurrency)"
                    if level is None
                    else f"bot p99 {fmt(level['bot']['p99_ms'])} ms vs baseline {fmt(level['baseline']['p99_ms'])} ms"
                    f" at {n}: {ratio}x (bar <= {SUSTAINED_RATIO}x)"
                ),
            }
        )
    errors = sum(r.errors for r in runs if r.measured)
    noisy = {name: lines for name, lines in log_errors.items() if lines}
    checks.append(
        {
            "name": "errors",
            "always": True,
            "ok": errors == 0 and not noisy,
            "detail": f"{errors} failed request(s) (non-200, socket errors, timeouts); server log errors: "
            f"{sorted(noisy) or 'none'}",
        }
    )
    bot_rss = idle["bot"]["rss_mb"]
    checks.append(
        {
            "name": "idle_rss",
            "always": False,
            "ok": bot_rss is not None and bot_rss <= IDLE_RSS_BAR_MB,
            "detail": f"idle RSS of the acking process {bot_rss} MB (bar <= {IDLE_RSS_BAR_MB:g} MB)",
        }
    )
    checks.append(
        {
            "name": "startup",
            "always": False,
            "ok": max(startups) <= STARTUP_BAR_S,
            "detail": f"start-up to /healthz 200 at most {max(startups):.2f} s over {len(startups)} starts "
            f"(bar <= {STARTUP_BAR_S:g} s)",
        }
    )
    return {
        "benchmark": "ack_latency_sustained",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": args.load_average,
        "load_generator": {"wrk": wrk_version_text, "threads": args.wrk_threads, "keep_alive": True},
        "admin_api_latency_s": args.admin_latency,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "texts": args.texts,
        "users": list(USERS),
        "workers_env": "unset (the bot's default)" if args.workers is None else args.workers,
        "database": database_kind,
        "startup_s": [round(s, 3) for s in startups],
        "idle_memory": idle,
        "memory_after_load": loaded,
        "levels": levels,
        "runs": [r.summary() for r in runs],
        "work_at_end": work_end,
        "server_log_errors": {name: lines[:20] for name, lines in noisy.items()},
        "checks": checks,
    }


def print_sustained(report: dict[str, Any]) -> None:
    gen = report["load_generator"]
    print(
        f"\nsustained ack latency (ms): {gen['wrk']} x{gen['threads']} thread(s), keep-alive, nproc={report['nproc']}, "
        f"{report['duration_s']:g} s per target per round, {report['rounds']} round(s); Admin API "
        f"{report['admin_api_latency_s']:g} s/call; WORKERS={report['workers_env']}; {report['database']}"
    )
    header = (
        f"{'N':>5} | {'target':<8} | {'req/s':>7} | {'p50':>6} {'p99':>6} {'max':>6} | {'errors':>6} | "
        f"{'wrk CPU/span':>14} | {'server CPU':>10}"
    )
    print(header)
    print("-" * len(header))
    for run in report["runs"]:
        if not run["measured"]:
            continue
        cpu = f"{run['wrk_cpu_s']:.1f}/{run['span_s']:.1f} s"
        server = "-" if run["server_cpu_s"] is None else f"{run['server_cpu_s']:.1f} s"
        print(
            f"{run['concurrency']:>5} | {run['target']:<8} | {fmt(run['requests_per_s']):>7} | {fmt(run['p50_ms']):>6} "
            f"{fmt(run['p99_ms']):>6} {fmt(run['max_ms']):>6} | {run['errors']:>6} | {cpu:>14} | {server:>10}"
        )
    for level in report["levels"]:
        ratio = "-" if level["p99_ratio"] is None else f"{level['p99_ratio']:.2f}x"
        print(f"  p99 bot / baseline at {level['concurrency']}: {ratio}")
    print("work items stored by the bot (s; queue = claimed - created, total = finished - created):")
    for label, work in [(f"N={lv['concurrency']}", lv["work"]) for lv in report["levels"]] + [
        ("whole run", report["work_at_end"])
    ]:
        q, t = work["queue_s"], work["total_s"]
        print(
            f"  {label:<9} {work['acked']:>6} acked, {work['items']:>6} stored {work['states']}; "
            f"queue p50 {q['p50']} p99 {q['p99']} (n={q['n']}); "
            f"total p50 {t['p50']} p99 {t['p99']} (n={t['n']}); oldest unfinished {work['oldest_unfinished_s']}"
        )
    idle, loaded = report["idle_memory"], report["memory_after_load"]
    workers = ", ".join(f"{w['rss_mb']} MB" for w in idle["bot"]["workers"]) or "none"
    print(
        f"idle RSS: acking process {idle['bot']['rss_mb']} MB, workers: {workers}, "
        f"baseline {idle['baseline']['rss_mb']} MB"
        f"; after load: bot {loaded['bot']['rss_mb']} MB"
    )
    print(f"start-up to /healthz 200: {', '.join(f'{s:.2f}' for s in report['startup_s'])} s")
    shares = [r["wrk_cpu_share"] for r in report["runs"] if r["measured"] and r["wrk_cpu_share"] is not None]
    if shares:
        print(
            f"load generator: wrk CPU at most {max(shares):.1%} of each run's span ({gen['threads']} thread(s); "
            f"100% per thread would mean wrk set the pace); load average at start {report['load_average_at_start']}"
        )
    for name, lines in report["server_log_errors"].items():
        print(f"  {name} logged {len(lines)} error line(s), e.g.: {lines[0][:200]}")


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ack latency: the bot vs a bare Bolt AsyncApp under bursts.")
    parser.add_argument(
        "--mode",
        choices=("burst", "sustained"),
        default="burst",
        help="burst: fresh-connection bursts (default); sustained: wrk keep-alive load with work in flight",
    )
    parser.add_argument(
        "--concurrency", default="50,200", help="burst sizes / wrk connections, comma-separated (default 50,200)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="measured bursts per target per level (default 10); sustained: wrk runs per target per level (1)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured bursts per target per level (default 2)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between bursts (default 0.5)")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="load generator: httpx.AsyncClient (default) or raw asyncio streams (~10x less client CPU)",
    )
    parser.add_argument(
        "--text",
        action="append",
        dest="texts",
        metavar="TEXT",
        help="command text to send instead of the default mix (repeatable; '' for an empty command)",
    )
    parser.add_argument("--admin-latency", type=float, default=2.0, help="Admin API stand-in s/call (default 2)")
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 unless bot p99 <= {TARGET_RATIO} x baseline p99 at {TARGET_CONCURRENCY}",
    )
    sustained = parser.add_argument_group("sustained mode")
    sustained.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run (default 15)")
    sustained.add_argument(
        "--warmup-seconds", type=float, default=2.0, help="one unmeasured wrk run per target first (default 2)"
    )
    sustained.add_argument("--wrk", default=None, help="the wrk executable (default: wrk on PATH)")
    sustained.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    sustained.add_argument(
        "--pool",
        type=int,
        default=0,
        help="signed requests per wrk run, cycled (default: 2 x the target's last rate x the duration)",
    )
    sustained.add_argument(
        "--workers",
        type=int,
        default=None,
        help="WORKERS for the bot (worker processes `run` starts; default: unset, the bot's default)",
    )
    sustained.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server for the bot (a fresh schema, dropped after), e.g. "
        "postgresql://postgres@127.0.0.1:5432/test; default: SQLite in the temp dir",
    )
    sustained.add_argument("--starts", type=int, default=3, help="starts timed to /healthz 200 (default 3)")
    parser.add_argument("--output", type=Path, default=None, help="the JSON report (default bench/results/…)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the servers' logs")
    args = parser.parse_args(argv)
    is_sustained = args.mode == "sustained"
    args.texts = args.texts or list(SUSTAINED_TEXTS if is_sustained else TEXTS)
    if args.rounds is None:
        args.rounds = 1 if is_sustained else 10
    if args.output is None:
        name = "ack_latency_sustained.json" if is_sustained else "ack_latency.json"
        args.output = ROOT / "bench" / "results" / name
    try:
        args.levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    except ValueError:
        parser.error("--concurrency takes whole numbers such as 50,200")
    if not args.levels or any(n < 1 or n > 2000 for n in args.levels):
        parser.error("--concurrency levels must be between 1 and 2000")
    if not 1 <= args.rounds <= 1000 or not 0 <= args.warmup <= 100 or not 0 <= args.pause <= 60:
        parser.error("--rounds 1..1000, --warmup 0..100, --pause 0..60")
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup_seconds <= 600:
        parser.error("--duration 1..600, --warmup-seconds 0..600")
    if not 1 <= args.wrk_threads <= 64 or not 0 <= args.pool <= MAX_POOL or not 1 <= args.starts <= 20:
        parser.error(f"--wrk-threads 1..64, --pool 0..{MAX_POOL}, --starts 1..20")
    if args.workers is not None and not 0 <= args.workers <= 64:
        parser.error("--workers 0..64")
    if args.database_url is not None and not args.database_url.startswith(("postgresql://", "postgres://")):
        parser.error("--database-url takes a PostgreSQL URL (postgresql://…); the default is SQLite")
    if not is_sustained and (args.workers is not None or args.database_url is not None):
        parser.error("--workers and --database-url are for --mode sustained")
    return args


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "sustained":
        try:
            args.wrk = find_wrk(args.wrk)  # before anything starts: say at once how to get it
        except SetupError as exc:
            print(f"ack_latency: {exc}", file=sys.stderr)
            return 2
    nproc = os.cpu_count() or 0
    with contextlib.suppress(AttributeError):
        nproc = len(os.sched_getaffinity(0))
    workdir = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    children: list[Child] = []
    cleanups: list[Callable[[], None]] = []  # after the children stop (e.g. drop the PostgreSQL schema)
    status = 0
    with stop_on_sigterm():
        try:
            if args.mode == "sustained":
                status = asyncio.run(run_sustained(args, workdir, children, nproc, cleanups))
            else:
                status = asyncio.run(run(args, workdir, children, nproc))
        except SetupError as exc:
            print(f"ack_latency: {exc}", file=sys.stderr)
            status = 2
        except KeyboardInterrupt:
            print("ack_latency: interrupted", file=sys.stderr)
            status = 130
        finally:
            for child in reversed(children):  # servers first, stand-ins last
                child.stop()
            for cleanup in cleanups:
                try:
                    cleanup()
                except Exception as exc:
                    print(f"ack_latency: cleanup failed ({type(exc).__name__}: {exc})", file=sys.stderr)
            if args.keep_logs or status == 2:
                print(f"logs kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return status


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


async def run(args: argparse.Namespace, workdir: Path, children: list[Child], nproc: int) -> int:
    slack, admin, slack_api_url, admin_url = await start_standins(args, workdir, children)
    slack_root = slack_api_url.rstrip("/").removesuffix("/api")

    bot_port, base_port = free_port(), free_port()
    bot_dir = workdir / "bot"
    bot_dir.mkdir()
    bot = Child(
        "bot",
        [bot_executable(), "run", "--http", "--host", "127.0.0.1"],
        cwd=bot_dir,
        log_dir=workdir,
        env=child_env(bot_settings(slack_api_url, admin_url, f"sqlite:///{bot_dir / 'bot.db'}", bot_port)),
    )
    baseline = baseline_child(slack_api_url, base_port, workdir)
    for child in (bot, baseline):
        children.append(child.start())
    deadline = time.monotonic() + START_DEADLINE_S
    bot_url, base_url = f"http://127.0.0.1:{bot_port}", f"http://127.0.0.1:{base_port}"
    await asyncio.gather(wait_healthz(bot_url, bot, deadline), wait_signed(base_url, baseline, deadline))
    await wait_signed(bot_url, bot, deadline)
    print(
        f"ready: bot {bot_url}, baseline {base_url}, Slack {slack_root}, Admin API {admin_url} "
        f"({args.admin_latency:g} s/call); nproc={nproc}",
        file=sys.stderr,
        flush=True,
    )

    targets = [Target("bot", "127.0.0.1", bot_port), Target("baseline", "127.0.0.1", base_port)]
    results = await run_load(targets, slack_root, args, [slack, admin, bot, baseline])
    log_errors = {c.name: c.log_errors() for c in (bot, baseline)}
    report = build_report(results, args, nproc, log_errors)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report)
    print(f"\nJSON: {args.output}")

    status = 0
    errors = sum(level["bot"]["errors"] + level["baseline"]["errors"] for level in report["levels"])
    if errors or report["server_log_errors"]:
        print(f"FAIL: {errors} failed request(s); server log errors: {sorted(report['server_log_errors']) or 'none'}")
        status = 1
    if args.check:
        level = next((lv for lv in report["levels"] if lv["concurrency"] == TARGET_CONCURRENCY), None)
        if level is None or level["p99_ratio"] is None:
            print(f"FAIL: --check needs a measured level of {TARGET_CONCURRENCY} (--concurrency)")
            status = 1
        elif level["p99_ratio"] > TARGET_RATIO:
            print(
                f"FAIL: bot p99 is {level['p99_ratio']:.2f}x the baseline's at {TARGET_CONCURRENCY} "
                f"(target <= {TARGET_RATIO}x)"
            )
            status = 1
        else:
            print(
                f"OK: bot p99 is {level['p99_ratio']:.2f}x the baseline's at {TARGET_CONCURRENCY} "
                f"(target <= {TARGET_RATIO}x)"
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
