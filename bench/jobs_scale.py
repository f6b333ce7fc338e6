"""Jobs at scale: `slack-directory`, `rotation-reminders`, `stale-keys` and `leaver-sweep` (after
`slack-directory`, whose stored directory it reads; 10 people deactivated in Slack) on an org of 20,000 keys,
2,000 users and 100 workspaces, with the Admin API stand-in answering in 50 ms per call and the strict Slack stand-in
enforcing Slack's rate-limit tiers (a minute lasting `--slack-time-scale` times 60 s; 1 is Slack's own pace).

The stand-ins run in this process (threads on 127.0.0.1): the Anthropic Admin API seeded with `seed_scale`
(plus usage for two thirds of the active keys in the last 10 days, and 20 members removed so their keys are
"leavers"), and Slack with a user for every org member's email. Each job then runs in a child process, as
`claude-key-bot jobs run` would, on a fresh SQLite database (or `--database-url`); the child times `run_job`
and reports its peak RSS. Each job runs twice: the rerun must send nothing.

Reported per run: wall time of the job, Admin API calls per endpoint against the fewest the page size of
1,000 allows, Slack calls per method and the 429s among them, and peak memory. Targets: under 30 s, under 300 MB,
Admin API calls at the minimum, `users.lookupByEmail` near zero (under 1 % of the people).

    .venv/bin/python bench/jobs_scale.py [--keys 20000 --users 2000 --workspaces 100] [--latency 0.05]
                                         [--slack-latency 0] [--database-url URL] [--check]
                                         [--jobs stale-keys] [--profile DIR]

Writes bench/results/jobs_scale.json. Exit status 1 with --check when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_CHANNEL = "C0ADMIN"
JOBS = ("slack-directory", "rotation-reminders", "stale-keys", "leaver-sweep")
# Every this-many-th org member's Slack account is deactivated: leaver-sweep's proposals (10 of 2,000).
DEACTIVATED_EVERY = 200
TARGET_SECONDS = 30.0
TARGET_MB = 300.0
PAGE = 1000


def child(job: str) -> int:
    """Run one job in this (child) process and print a JSON line with its timing and peak RSS."""
    from bot.config import Mode, load_settings
    from bot.deps import build_deps
    from bot.registry import run_job
    from storage.migrate import upgrade

    settings = load_settings(Mode.JOBS)
    deps = build_deps(settings)
    upgrade(deps.engine)
    profile_to = os.environ.get("BENCH_PROFILE")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result = run_job(job, deps, out=lambda _: None)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile_to}/{job}.prof")
    deps.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    assert result is not None
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_kb / 1024,
                "sent": result.sent,
                "errors": result.errors[:5],
                "error_count": len(result.errors),
                "notes": result.notes,
            }
        )
    )
    return 0


def seed(anthropic: Any, slack: Any, n_keys: int, n_users: int, n_workspaces: int) -> dict[str, int]:
    """The scale org, its usage and leavers; Slack users for every member. Returns counts for the minimum."""
    from pydantic import SecretStr

    from bot.anthropic_admin import AdminGateway

    anthropic.seed_basic()
    ids = anthropic.seed_scale(n_users, n_workspaces, n_keys)
    now = datetime.now(UTC)
    with AdminGateway(api_key=SecretStr(anthropic.admin_key), base_url=anthropic.base_url) as admin:
        leavers = ids["users"][:20]
        for user_id in leavers:
            admin.remove_user(user_id)
        active = [k.id for k in admin.list_api_keys(status="active")]
        members = admin.list_users()
        workspaces = admin.list_workspaces()
    used = [key_id for n, key_id in enumerate(active) if n % 3]
    for n, key_id in enumerate(used):
        at = now - timedelta(days=1 + n % 9, hours=n % 24)
        anthropic.add_usage(
            starting_at=at,
            ending_at=at + timedelta(hours=1),
            input_tokens=100,
            output_tokens=50,
            requests=2,
            api_key_id=key_id,
        )
    deactivated = 0
    for n, user in enumerate(members):
        if user.email not in ("admin@example.com", "dev@example.com"):
            gone = n % DEACTIVATED_EVERY == DEACTIVATED_EVERY - 1
            slack.add_user(f"U{n:07d}S", name=f"user{n}", email=user.email, deleted=gone)
            deactivated += gone
    return {
        "active_keys": len(active),
        "users": len(members),
        "workspaces": len(workspaces),
        "used_keys": len(used),
        "deactivated_in_slack": deactivated,
    }


def minimum_calls(job: str, counts: dict[str, int], stale_days: int = 30) -> dict[str, int]:
    """The fewest Admin API calls the page size allows for each endpoint the job needs."""
    pages = {
        "GET /api_keys": math.ceil(counts["active_keys"] / PAGE),
        "GET /users": math.ceil(counts["users"] / PAGE),
        "GET /workspaces": math.ceil(counts["workspaces"] / PAGE),
    }
    if job == "slack-directory":
        return {}
    if job == "stale-keys":
        pages["GET /analytics/usage"] = math.ceil(stale_days / 31) * max(1, math.ceil(counts["used_keys"] / PAGE))
    return pages


def admin_calls(anthropic: Any) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for request in anthropic.requests:
        path = request.path.removeprefix("/v1/organizations")
        counts[f"{request.method} {path}"] += 1
    return dict(sorted(counts.items()))


def slack_calls(slack: Any) -> dict[str, int]:
    return dict(sorted(Counter(call.method for call in slack.calls).items()))


def slack_429s(slack: Any) -> dict[str, int]:
    return dict(sorted(Counter(call.method for call in slack.calls if call.status == 429).items()))


def run_child(job: str, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(  # our own interpreter and script
        [sys.executable, str(Path(__file__).resolve()), "--child", job],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{job} failed:\n{proc.stderr[-3000:]}")
    line = proc.stdout.strip().splitlines()[-1]
    data: dict[str, Any] = json.loads(line)
    data["process_seconds"] = time.perf_counter() - started
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05, help="Admin API seconds per call")
    parser.add_argument("--slack-latency", type=float, default=0.0, help="Slack seconds per call")
    parser.add_argument("--no-tiers", action="store_true", help="don't enforce Slack's rate-limit tiers")
    parser.add_argument("--slack-time-scale", type=float, default=1.0, help="a Slack minute lasts this times 60 s")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", metavar="DIR", help="write each child's cProfile stats to DIR/<job>.prof")
    parser.add_argument("--jobs", default=",".join(JOBS), help="comma-separated jobs to run (default: both)")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)

    from bot.sandbox.anthropic import AnthropicStandIn
    from bot.sandbox.slack import SlackStandIn, seed_default_directory

    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    tmp = tempfile.TemporaryDirectory(prefix="ckb-bench-")
    database_url = args.database_url or f"sqlite:///{tmp.name}/bot.db"
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "org": {"keys": args.keys, "users": args.users, "workspaces": args.workspaces},
        "admin_latency_s": args.latency,
        "slack_latency_s": args.slack_latency,
        "slack_tiers": not args.no_tiers,
        "slack_time_scale": args.slack_time_scale,
        "database": database_url.split(":", 1)[0],
        "runs": [],
    }
    failures: list[str] = []
    slack_standin = SlackStandIn(tiers=not args.no_tiers, time_scale=args.slack_time_scale)
    with AnthropicStandIn() as anthropic, slack_standin as slack:
        seed_default_directory(slack)
        tiers = "off" if args.no_tiers else f"on, a minute lasting {60 * args.slack_time_scale:g} s"
        print(
            f"seeding {args.keys} keys, {args.users} users, {args.workspaces} workspaces; Admin API "
            f"{args.latency * 1000:g} ms a call; Slack tiers {tiers}; database {database_url.split(':', 1)[0]}…",
            flush=True,
        )
        counts = seed(anthropic, slack, args.keys, args.users, args.workspaces)
        report["org"].update(counts)
        anthropic.latency, slack.latency = args.latency, args.slack_latency
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(
            {
                "NO_PROXY": "127.0.0.1,localhost",
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_API_URL": slack.base_url,
                "ANTHROPIC_ADMIN_KEY": anthropic.admin_key,
                "ANTHROPIC_BASE_URL": anthropic.base_url,
                "ADMIN_CHANNEL_ID": ADMIN_CHANNEL,
                "DATABASE_URL": database_url,
                "SCHEDULER_ENABLED": "false",
                "LOG_LEVEL": "WARNING",
                **({"BENCH_PROFILE": str(Path(args.profile).resolve())} if args.profile else {}),
            }
        )
        for job in args.jobs.split(","):
            for attempt in ("first run", "rerun"):
                anthropic.reset_requests()
                slack.reset_calls()
                result = run_child(job, env)
                calls = admin_calls(anthropic)
                minimum = minimum_calls(job, counts)
                run = {
                    "job": job,
                    "run": attempt,
                    **result,
                    "admin_calls": calls,
                    "admin_calls_total": sum(calls.values()),
                    "admin_calls_minimum": minimum,
                    "admin_calls_minimum_total": sum(minimum.values()),
                    "slack_calls": slack_calls(slack),
                    "slack_calls_total": len(slack.calls),
                    "slack_429s": slack_429s(slack),
                }
                report["runs"].append(run)
                print(
                    f"{job:19} {attempt:9} {result['seconds']:6.2f} s job ({result['process_seconds']:5.2f} s "
                    f"process)  peak {result['peak_mb']:6.1f} MB  sent {result['sent']:5}  "
                    f"errors {result['error_count']}  Admin API {run['admin_calls_total']} calls "
                    f"(minimum {run['admin_calls_minimum_total']})  Slack {run['slack_calls_total']} calls "
                    f"({sum(run['slack_429s'].values())} answered 429)",
                    flush=True,
                )
                print(f"{'':30} Admin API {calls}", flush=True)
                print(f"{'':30} Slack     {run['slack_calls']}", flush=True)
                if result["seconds"] > TARGET_SECONDS:
                    failures.append(f"{job} {attempt}: {result['seconds']:.1f} s > {TARGET_SECONDS} s")
                if result["peak_mb"] > TARGET_MB:
                    failures.append(f"{job} {attempt}: {result['peak_mb']:.0f} MB > {TARGET_MB} MB")
                for endpoint, fewest in minimum.items():
                    if calls.get(endpoint, 0) > fewest:
                        failures.append(f"{job} {attempt}: {endpoint} {calls.get(endpoint)} calls > {fewest}")
                if result["error_count"]:
                    failures.append(f"{job} {attempt}: {result['error_count']} errors {result['errors']}")
                lookups = run["slack_calls"].get("users.lookupByEmail", 0)
                if job != "slack-directory" and lookups > counts["users"] / 100:
                    failures.append(f"{job} {attempt}: {lookups} users.lookupByEmail calls")
                if attempt == "rerun" and result["sent"] and job != "slack-directory":
                    failures.append(f"{job} rerun sent {result['sent']} messages")
    tmp.cleanup()
    report["failures"] = failures
    out = ROOT / "bench" / "results" / "jobs_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
