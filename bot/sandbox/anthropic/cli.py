"""``python -m bot.sandbox.anthropic --port 0``: the Admin API stand-in as a process (prints ``READY <base_url>``)."""

from __future__ import annotations

import argparse
import signal
import threading

from bot.sandbox.anthropic.standin import AnthropicStandIn
from bot.sandbox.anthropic.vocab import DEFAULT_ADMIN_KEY


def main(argv: list[str] | None = None) -> int:
    """Serve the stand-in until SIGTERM or SIGINT; the first line printed is ``READY <base_url>``."""
    parser = argparse.ArgumentParser(description="Serve the Anthropic Admin API stand-in on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (see the READY line)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--admin-key", default=DEFAULT_ADMIN_KEY)
    parser.add_argument("--seed-scale", default=None, help="users,workspaces,keys e.g. 2000,100,20000")
    args = parser.parse_args(argv)
    standin = AnthropicStandIn(admin_key=args.admin_key, latency=args.latency, port=args.port)
    standin.seed_basic()
    if args.seed_scale:
        n_users, n_workspaces, n_keys = (int(x) for x in args.seed_scale.split(","))
        standin.seed_scale(n_users, n_workspaces, n_keys)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with standin:
        print(f"READY {standin.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0
