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
and level and round (`--rounds`), bot and baseline alternately in the same run; a level's p50 and p99 are those
of all its rounds' requests together. Each connection sends its next request as soon as the
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
    .venv/bin/python bench/ack_latency.py --mode sustained [--duration 5] [--rounds 3] [--workers N] \
        [--database-url URL] [--check]

Prints a table, writes bench/results/ack_latency.json (sustained: ack_latency_sustained.json). Exit status: 0 ok;
1 a request failed, a server died or logged an error, or (with --check) a bar was missed — burst: bot p99 >
1.5x baseline p99 at 50 concurrent; sustained: bot p99 > 1.2x baseline p99 at 50 or at 200, idle RSS of the
acking process > 110 MB, or a start-up > 2 s; 2 setup failed (e.g. wrk missing: the message says how to get it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ack_common import (  # noqa: E402
    REQUEST_TIMEOUT_S,
    SLACK_DEADLINE_S,
    START_DEADLINE_S,
    Child,
    CommandMix,
    SetupError,
    Target,
    baseline_child,
    bot_executable,
    bot_settings,
    child_env,
    fmt,
    free_port,
    mint_response_urls,
    percentile,
    signed_requests,
    start_standins,
    stop_on_sigterm,
    wait_healthz,
    wait_signed,
)
from bench.ack_sustained import MAX_POOL, SUSTAINED_TEXTS, find_wrk, run_sustained  # noqa: E402

TEXTS = ("help", "", "usage org 30d", "keys all", "request ml-platform for 7d need it", "frobnicate")


TARGET_CONCURRENCY = 50
TARGET_RATIO = 1.5


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


# --------------------------------------------------------------------------------------------- report


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
        help="measured bursts per target per level (default 10); sustained: wrk runs per target per level (3)",
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
    sustained.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
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
        args.rounds = 3 if is_sustained else 10
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
