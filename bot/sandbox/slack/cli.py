"""``python -m bot.sandbox.slack --port 0``: the Slack stand-in as a process (prints ``READY <base_url>``)."""

from __future__ import annotations

import argparse
import signal
import threading

from bot.sandbox.slack.directory import seed_default_directory
from bot.sandbox.slack.standin import SlackStandIn

DESCRIPTION = "A stand-in Slack Web API: a real HTTP server on loopback for the real slack_sdk / Bolt clients."


def main(argv: list[str] | None = None) -> int:
    """Serve the stand-in until SIGTERM or SIGINT; the first line printed is ``READY <base_url>``."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bot-token", default="xoxb-standin-token")
    parser.add_argument("--app-token", default="xapp-standin-token")
    parser.add_argument("--team-id", default="T0STANDIN")
    parser.add_argument("--bot-user-id", default="U0BOT")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--tiers", action="store_true", help="enforce Slack's rate-limit tiers")
    parser.add_argument("--time-scale", type=float, default=1.0, help="with --tiers: seconds a minute lasts, over 60")
    parser.add_argument("--empty", action="store_true", help="skip the default users and admin channel")
    options = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    standin = SlackStandIn(
        bot_token=options.bot_token,
        app_token=options.app_token,
        team_id=options.team_id,
        bot_user_id=options.bot_user_id,
        port=options.port,
        tiers=options.tiers,
        time_scale=options.time_scale,
    )
    standin.latency = options.latency
    if not options.empty:
        seed_default_directory(standin)
    with standin:
        print(f"READY {standin.base_url}", flush=True)
        stop.wait()
    return 0
