"""`claude-key-bot`: run (Socket Mode), run --http, worker, migrate, doctor, jobs list, jobs run, demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Mode, Settings, load_database_settings, load_settings
from bot.logs import configure_logging

if TYPE_CHECKING:
    from bot.deps import Deps

logger = logging.getLogger("bot")


# How often `run --http` checks whether uvicorn listens yet, to start the workers.
STARTED_POLL_SECONDS = 0.02
NO_SLACK_HINT = "No Slack app configured yet? `make demo` runs the bot against local stand-ins, no accounts needed."


def _settings_or_exit(mode: Mode) -> Settings:
    """The settings for `mode`, or exit 2 with one line per problem. Every command calls this before importing
    the SDKs, so a settings error appears at once (this module imports only settings and logging up front)."""
    try:
        return load_settings(mode)
    except ConfigError as exc:
        print("claude-key-bot cannot start: fix these settings (environment or .env):", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        if any(line.startswith("SLACK_BOT_TOKEN: missing") for line in exc.problems):
            print(NO_SLACK_HINT, file=sys.stderr)
        raise SystemExit(2) from None


def cmd_run(args: argparse.Namespace) -> int:
    """Start the bot: migrate, start WORKERS worker processes, schedule jobs (handed on to the workers), then
    serve Socket Mode or HTTP. This process only acks and stores the work."""
    # No collections while start-up imports build its ~250k long-lived objects (a fifth of the import time);
    # `_freeze_startup_objects` freezes them and turns collection back on (as does any way out).
    gc.disable()
    try:
        return _run(args)
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    settings = _settings_or_exit(Mode.HTTP if args.http else Mode.SOCKET)
    from bot.deps import build_deps
    from bot.jobs.scheduler import start_scheduler
    from bot.registry import JOBS
    from storage.migrate import upgrade_if_behind

    configure_logging(settings.log_level, settings.log_format)
    deps = build_deps(settings)
    deps.work_inline = False  # worker processes claim every stored item
    try:
        upgrade_if_behind(deps.engine)
    except Exception as exc:
        logger.error("database migration failed (%s); check DATABASE_URL", type(exc).__name__)
        return 1
    from bot.worker import WorkerPool, enqueue_job

    if settings.workers == 0:
        logger.info("WORKERS=0: no worker processes here; run `claude-key-bot worker` to do the work")
    workers = WorkerPool(settings.workers) if settings.workers else None
    scheduler = start_scheduler(deps, JOBS, hand_on=enqueue_job) if settings.scheduler_enabled else None
    try:
        if args.http:  # the workers start once HTTP is served: Slack's deadline is the acking process's
            _serve_http(settings, deps, host=args.host, once_serving=workers.start if workers else None)
        else:
            if workers is not None:
                workers.start()
            _serve_socket_mode(settings, deps)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if workers is not None:
            workers.stop()
        deps.close()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Claim and run stored work (after-ack work and scheduled jobs) until SIGTERM; no Slack connection."""
    settings = _settings_or_exit(Mode.WORKER)
    from datetime import timedelta

    from bot.worker import serve_worker

    configure_logging(settings.log_level, settings.log_format)
    return serve_worker(settings, threads=args.threads, lease=timedelta(seconds=args.lease_seconds), parent=args.parent)


# Net container allocations between young-generation collections (CPython's default is 700). An ack builds and
# frees a few thousand objects, so at 700 every few requests in flight were collected and promoted, and the old
# generation filled with objects that were about to die: 430 young, 39 middle and 4 full collections (5 ms each)
# per 20,000 acks, against 20, 1 and none at 10,000 (bench figures in the commit that set it).
YOUNG_COLLECTION_THRESHOLD = 10_000


def _freeze_startup_objects() -> None:
    """Exclude everything built at start-up from garbage collection (and collect again from here on, the young
    generation less often: `YOUNG_COLLECTION_THRESHOLD`).

    The SDKs leave ~250k long-lived objects; every full collection walked them all and paused acks for
    200-400 ms (bench/ack_latency.py). Frozen, they are never scanned again. No collection first: it would
    walk them all once more (about 0.1 s of start-up) to free a few thousand objects of import garbage.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()
    # Work after acks runs on worker threads; a shorter GIL switch interval lets the event loop (the acks) in
    # sooner when a worker holds the GIL (5 ms by default).
    sys.setswitchinterval(0.001)


def _raise_open_files_limit(wanted: int) -> None:
    """Every connection is a file descriptor: raise the soft limit to the hard one so uvicorn's 503 over
    `limit_concurrency` comes before "Too many open files"; say so when the hard limit is lower."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, 65536))
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < wanted:
        logger.warning("open files limit is %d; HTTP mode wants at least %d (ulimit -n)", soft, wanted)


def _when_serving(server: Any, then: Callable[[], object]) -> None:
    """Call `then` once uvicorn `server` listens (not at all if it stops first)."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(STARTED_POLL_SECONDS)
    then()


def _serve_http(settings: Settings, deps: Deps, *, host: str, once_serving: Callable[[], object] | None = None) -> None:
    import uvicorn

    from bot.app import create_app
    from bot.http import LIMIT_CONCURRENCY, BotTokenError, create_web_app, uvicorn_options

    try:
        web_app = create_web_app(create_app(settings, deps), deps)
    except BotTokenError as exc:
        print(f"claude-key-bot cannot start: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    logger.info("serving HTTP on %s:%d (POST /slack/events, GET /healthz)", host, settings.port)
    _raise_open_files_limit(LIMIT_CONCURRENCY + 100)
    config = uvicorn.Config(
        web_app,
        host=host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
        **uvicorn_options(),
    )
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal; these no-op handlers let
    # the process finish its own cleanup (scheduler, connections) and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    _freeze_startup_objects()
    server = uvicorn.Server(config)
    if once_serving is not None:
        threading.Thread(target=_when_serving, args=(server, once_serving), name="ckb-serving", daemon=True).start()
    server.run()


def _serve_socket_mode(settings: Settings, deps: Deps) -> None:
    from bot.app import create_app
    from bot.socket_mode import serve_socket_mode

    assert settings.slack_app_token is not None  # checked by load_settings(Mode.SOCKET)
    app = create_app(settings, deps, socket_mode=True)
    _freeze_startup_objects()
    # The handler's aiohttp session needs a running loop, so it is built inside.
    asyncio.run(serve_socket_mode(app, settings.slack_app_token.get_secret_value(), settings.slack_api_url))


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply database migrations up to this version's head."""
    from storage.db import make_engine
    from storage.migrate import current_revision, head_revision, upgrade

    try:
        settings = load_database_settings()
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
    except Exception as exc:
        print(
            f"migration failed ({type(exc).__name__}): check DATABASE_URL and that the database is up", file=sys.stderr
        )
        return 1
    finally:
        engine.dispose()
    head = head_revision()
    print(f"database at {head}" + (" (already up to date)" if before == head else f" (was {before or 'empty'})"))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check credentials, scopes, channels and the database."""
    settings = _settings_or_exit(Mode.DOCTOR)
    from bot.deps import build_deps
    from bot.doctor import run_doctor

    configure_logging("WARNING", settings.log_format)
    logging.disable(logging.CRITICAL)  # the report is the output: no library or retry lines in between
    deps = build_deps(settings)
    try:
        return run_doctor(deps)
    finally:
        deps.close()


# The job names of bot/registry.py (tests/test_cli.py checks they match), here so that `--help` and a wrong name
# need no import of the bot.
JOB_NAMES = (
    "invite-sync",
    "key-adoption",
    "rotation-reminders",
    "stale-keys",
    "budget-alerts",
    "weekly-digest",
    "request-nudges",
    "spend-limit-requests",
    "rate-limit-headroom",  # rate limits
    "slack-directory",
    "leaver-sweep",
    "housekeeping",
)


def cmd_jobs(args: argparse.Namespace) -> int:
    """List the jobs, or run one by hand (optionally as a dry run that sends and writes nothing)."""
    if args.jobs_command == "list":
        from bot.registry import JOBS

        for spec in JOBS.values():
            print(f"{spec.name:22} {spec.schedule:15} {spec.description}")
        return 0
    if args.name not in JOB_NAMES:
        print(f"unknown job {args.name!r}; `claude-key-bot jobs list` shows them", file=sys.stderr)
        return 2
    settings = _settings_or_exit(Mode.JOBS)
    configure_logging(settings.log_level, settings.log_format)
    if args.dry_run:
        return _dry_run(args.name, settings)
    from bot.deps import build_deps
    from bot.registry import run_job
    from storage.migrate import upgrade

    deps = build_deps(settings)
    try:
        upgrade(deps.engine)
        result = run_job(args.name, deps)
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        deps.close()
    if result is None:
        print(f"{args.name}: another replica is running it now; nothing done")
        return 0
    print(f"{args.name}: {result.summary()}")
    return 1 if result.errors else 0


def _dry_run(name: str, settings: Settings) -> int:
    """`jobs run NAME --dry-run`: print each notice the job would send, write nothing anywhere.

    No migration, no lease, no run row. A database that does not exist yet (or has no tables) is not created:
    the job reads an empty schema in a temporary directory instead, and the Admin API and Slack as they are.
    """
    import tempfile

    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugins and a scratch schema are no news here
    from bot.deps import build_deps
    from bot.jobs.runner import describe_failure
    from bot.registry import run_job
    from storage.db import make_engine, normalize_url
    from storage.migrate import current_revision, head_revision, upgrade

    url = normalize_url(settings.database_url)
    exists = True
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        exists = Path(url.database or "").exists()  # opening it would create it (and its folder)
    current = None
    if exists:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            current = current_revision(engine)
        except Exception as exc:
            print(f"{name} (dry run): cannot read the database ({describe_failure(exc)}); check DATABASE_URL")
            return 1
        finally:
            engine.dispose()
    if current is not None and current != head_revision():
        print(
            f"{name} (dry run): the database schema is at {current}, this version needs {head_revision()}; "
            "run `claude-key-bot migrate` first"
        )
        return 1
    with tempfile.TemporaryDirectory(prefix="claude-key-bot-dry-run-") as scratch:
        if current is None:
            print(f"{name} (dry run): the database has no tables yet (`run` creates them); reading an empty one")
            settings = settings.model_copy(update={"database_url": f"sqlite:///{Path(scratch) / 'empty.db'}"})
        deps = build_deps(settings)
        try:
            if current is None:
                upgrade(deps.engine)
            result = run_job(name, deps, dry_run=True)
        except RuntimeError as exc:
            print(f"{name} (dry run): {exc}")
            return 1
        finally:
            deps.close()
    assert result is not None  # a dry run takes no lease
    print(f"{name} (dry run): {result.summary()}")
    for error in result.errors:
        print(f"  error: {error}")
    return 1 if result.errors else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Walk through the bot against local stand-ins of Slack and the Admin API (no accounts needed)."""
    from bot.sandbox.demo import main as run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface: run, migrate, doctor, jobs and demo (README: The two commands, Operations)."""
    parser = argparse.ArgumentParser(prog="claude-key-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the bot (Socket Mode; --http for HTTP mode on PORT)")
    run.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz on PORT")
    run.add_argument("--host", default="0.0.0.0", help="interface for --http (default 0.0.0.0)")  # noqa: S104
    run.set_defaults(func=cmd_run)
    worker = sub.add_parser("worker", help="run after-ack work and scheduled jobs (no Slack connection)")
    worker.add_argument("--threads", type=int, default=16, help="items in hand at once (default 16)")
    worker.add_argument(
        "--lease-seconds", type=float, default=60.0, help="claim of an item, renewed while it runs (default 60)"
    )
    worker.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)  # set by `run`
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("doctor", help="check credentials, scopes, channels and the database").set_defaults(func=cmd_doctor)
    jobs = sub.add_parser("jobs", help="list or run scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="list jobs and schedules")
    jobs_run = jobs_sub.add_parser(
        "run", help="run one job now", epilog="jobs: " + ", ".join(JOB_NAMES) + " (`jobs list` describes them)"
    )
    jobs_run.add_argument("name", help="the job to run: " + ", ".join(JOB_NAMES))
    jobs_run.add_argument(
        "--dry-run", action="store_true", help="print who and what would be notified; send and write nothing"
    )
    jobs.set_defaults(func=cmd_jobs)
    demo = sub.add_parser("demo", help="walk through the bot against local stand-ins of Slack and the Admin API")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
