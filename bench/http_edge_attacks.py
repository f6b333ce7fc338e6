"""Two attacks on `claude-key-bot run --http`, with the figures: an oversized chunked body, and half-sent requests.

Starts, on 127.0.0.1: the Slack and Admin API stand-ins and the bot (`run --http`, SQLite in a temp dir, scheduler
off; `--bot` picks the executable, e.g. another checkout's .venv/bin/claude-key-bot to compare). Then:

1. sends `--megabytes` (default 300) unsigned, chunked, to POST /slack/events; reports the answer, the time, and
   the bot's RSS before and after (VmRSS) and its peak (VmHWM);
2. opens `--half-sent` (default 300) connections that send half a request line and headers and then nothing,
   times GET /healthz while they are held, and counts how many the bot has closed 15 s later.

    .venv/bin/python bench/http_edge_attacks.py [--bot PATH] [--megabytes 300] [--half-sent 300]
        [--bot-open-files 256]   (the bot's open-files limit, soft and hard, as in a small container)

Every step has a deadline; the bot is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.sandbox.anthropic import AnthropicStandIn
from bot.sandbox.signing import SIGNING_SECRET
from bot.sandbox.slack import SlackStandIn, seed_default_directory

CHUNK = 64 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in MB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0]) // 1024
    return figures


def _limit_open_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def _wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("the bot did not become healthy")


def chunked_attack(port: int, megabytes: int, timeout: float = 120.0) -> tuple[str, float, int]:
    """Send `megabytes` chunked; the status line (or how the connection ended), seconds, and MB sent."""
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"%x\r\n" % CHUNK + b"a" * CHUNK + b"\r\n"
        try:
            for _ in range(megabytes * 1024 * 1024 // CHUNK):
                sock.sendall(piece)
                sent += CHUNK
                if time.monotonic() - started > timeout:
                    break
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:  # the bot answered (or closed) early
                    break
            else:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answer = sock.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace") or "closed without an answer"
        except (ConnectionResetError, TimeoutError) as exc:
            answer = f"no answer ({type(exc).__name__})"
    return answer, time.monotonic() - started, sent // (1024 * 1024)


def half_sent_attack(url: str, port: int, count: int) -> None:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Le")
        held.append(sock)
    print(f"  {len(held)} half-sent requests held")
    for attempt in range(3):
        started = time.monotonic()
        try:
            status = str(httpx.get(f"{url}/healthz", timeout=10).status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        print(f"  GET /healthz #{attempt + 1} while held: {status} in {time.monotonic() - started:.3f} s")
    time.sleep(15)  # the bench waits out the bot's header deadline (10 s); tests poll instead
    closed = 0
    for sock in held:
        sock.setblocking(False)
        try:
            closed += sock.recv(1) == b""
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
        sock.close()
    print(f"  closed by the bot 15 s later: {closed} of {len(held)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=str(Path(sys.executable).with_name("claude-key-bot")))
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--half-sent", type=int, default=300)
    parser.add_argument("--bot-open-files", type=int, help="start the bot with this open-files limit (soft and hard)")
    args = parser.parse_args()
    with SlackStandIn() as slack, AnthropicStandIn() as anthropic, tempfile.TemporaryDirectory() as tmp:
        seed_default_directory(slack)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if "PROXY" not in k.upper()},
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
            "ANTHROPIC_ADMIN_KEY": anthropic.admin_key,
            "ANTHROPIC_BASE_URL": anthropic.base_url,
            "ADMIN_CHANNEL_ID": "C0ADMIN",
            "DATABASE_URL": f"sqlite:///{tmp}/bot.db",
            "SCHEDULER_ENABLED": "false",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        log = Path(tmp) / "bot.log"
        with log.open("wb") as sink:
            bot = subprocess.Popen(
                [args.bot, "run", "--http", "--host", "127.0.0.1"],
                cwd=tmp,
                env=env,
                stderr=sink,
                preexec_fn=(lambda: _limit_open_files(args.bot_open_files)) if args.bot_open_files else None,
            )
        try:
            _wait_healthy(url, time.monotonic() + 60)
            print(f"bot: {args.bot} (pid {bot.pid})")
            before = _memory(bot.pid)
            answer, seconds, sent = chunked_attack(port, args.megabytes)
            time.sleep(1)
            after = _memory(bot.pid)
            print(f"1. {args.megabytes} MB chunked, unsigned: {answer!r} after {seconds:.2f} s, {sent} MB sent")
            print(f"  RSS {before['VmRSS']} MB before, {after['VmRSS']} MB after, peak {after['VmHWM']} MB")
            print(f"2. {args.half_sent} half-sent requests")
            half_sent_attack(url, port, args.half_sent)
        finally:
            bot.terminate()
            try:
                bot.wait(timeout=15)
            except subprocess.TimeoutExpired:
                bot.kill()
        lines = log.read_text(errors="replace").splitlines()
        print(f"bot log: {len(lines)} lines; refusals: {sum('refused a request' in line for line in lines)}")
        for line in lines[:8]:
            print(f"  {line[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
