"""Ack latency under bursts: the bot against a bare Bolt AsyncApp on the same box.

Starts, all on 127.0.0.1: the Slack Web API stand-in, the Anthropic Admin API stand-in (2 s per call), the
bot (`claude-key-bot run --http`, SQLite in a temp dir, scheduler off) and the baseline (bench/bare_bolt.py).
Then, for each concurrency level N, after a warm-up, it fires R bursts of N simultaneous correctly signed
`/claude-key` commands at the bot and at the baseline alternately, and times each request until its HTTP
response (the ack). Every request opens a fresh connection (Slack's requests come from many hosts). The load
generator is httpx.AsyncClient, or with `--client raw` bare asyncio streams, whose lower client CPU shows more
of the servers' own latency on a small box.

    .venv/bin/python bench/ack_latency.py [--concurrency 50,200] [--rounds 10] [--check]

Prints a table, writes bench/results/ack_latency.json. Exit status: 0 ok; 1 a request failed, a server died
or logged an error, or (with --check) bot p99 > 1.5x baseline p99 at 50 concurrent; 2 setup failed.
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
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

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


# ----------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ack latency: the bot vs a bare Bolt AsyncApp under bursts.")
    parser.add_argument("--concurrency", default="50,200", help="burst sizes, comma-separated (default 50,200)")
    parser.add_argument("--rounds", type=int, default=10, help="measured bursts per target per level (default 10)")
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
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "ack_latency.json")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with the servers' logs")
    args = parser.parse_args(argv)
    args.texts = args.texts or list(TEXTS)
    try:
        args.levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    except ValueError:
        parser.error("--concurrency takes whole numbers such as 50,200")
    if not args.levels or any(n < 1 or n > 2000 for n in args.levels):
        parser.error("--concurrency levels must be between 1 and 2000")
    if not 1 <= args.rounds <= 1000 or not 0 <= args.warmup <= 100 or not 0 <= args.pause <= 60:
        parser.error("--rounds 1..1000, --warmup 0..100, --pause 0..60")
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
    nproc = os.cpu_count() or 0
    with contextlib.suppress(AttributeError):
        nproc = len(os.sched_getaffinity(0))
    workdir = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    children: list[Child] = []
    status = 0
    with stop_on_sigterm():
        try:
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
            if args.keep_logs or status == 2:
                print(f"logs kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    return status


async def run(args: argparse.Namespace, workdir: Path, children: list[Child], nproc: int) -> int:
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
    slack_api_url = slack.wait_ready_line(deadline)
    admin_url = admin.wait_ready_line(deadline)
    slack_root = slack_api_url.rstrip("/").removesuffix("/api")

    bot_port, base_port = free_port(), free_port()
    bot_dir = workdir / "bot"
    bot_dir.mkdir()
    bot = Child(
        "bot",
        [bot_executable(), "run", "--http", "--host", "127.0.0.1"],
        cwd=bot_dir,
        log_dir=workdir,
        env=child_env(
            {
                "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack_api_url,
                "ANTHROPIC_ADMIN_KEY": ADMIN_KEY,
                "ANTHROPIC_BASE_URL": admin_url,
                "DATABASE_URL": f"sqlite:///{bot_dir / 'bot.db'}",
                "ADMIN_CHANNEL_ID": ADMIN_CHANNEL_ID,
                "PORT": str(bot_port),
                "SCHEDULER_ENABLED": "false",
            }
        ),
    )
    baseline = Child(
        "baseline",
        [python, str(ROOT / "bench" / "bare_bolt.py"), "--port", str(base_port)],
        cwd=workdir,
        log_dir=workdir,
        env=child_env(
            {"SLACK_BOT_TOKEN": SLACK_BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_api_url}
        ),
    )
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
