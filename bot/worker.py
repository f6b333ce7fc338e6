"""Worker processes: they claim the work items the acking process stored (after-ack work and scheduled jobs)
and run them; `claude-key-bot worker` is one, and `run` starts WORKERS of them and restarts any that dies.

A worker needs the database, the Admin API and Slack's Web API, never a Slack connection: with PostgreSQL,
more workers on more machines take from the same queue (`FOR UPDATE SKIP LOCKED`, woken by LISTEN/NOTIFY).
The scheduler of the acking process only adds one `job:<name>` item per due job; a worker runs it under the
job's lease, so each job still runs once at a time across every process.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from types import FrameType

from bot.config import Settings
from bot.deps import Deps, build_deps
from bot.jobs.lease import holder_id
from bot.jobs.spec import JobSpec
from bot.registry import JOBS, run_job
from bot.slack.reply import Reply
from bot.work import WorkRunner, enqueue, wakeup_for
from bot.work.runner import LEASE
from bot.work.wakeup import SQLITE_POLL_SECONDS
from handlers.durable import execute_item
from handlers.tasks import resumable
from storage import repositories as repo
from storage.db import session_scope
from storage.migrate import is_current
from storage.models import WorkItem

logger = logging.getLogger(__name__)

JOB_PREFIX = "job:"
# Threads per worker process: after-ack work mostly waits on the Admin API, so one process keeps many in hand.
WORKER_THREADS = 16
# Workers that `run` starts yield the CPU to the acking process: Slack's 3-second ack deadline is the hard one.
WORKER_NICENESS = 10
SCHEMA_WAIT_SECONDS = 60


def job_task(name: str) -> str:
    """The work item task that runs scheduled job `name`."""
    return f"{JOB_PREFIX}{name}"


def enqueue_job(name: str, deps: Deps) -> bool:
    """Add one item for job `name` unless one is queued or running already (a worker that is behind gets one
    run, not a pile of them); True when it was added."""
    task = job_task(name)
    with session_scope(deps.engine) as session:
        if repo.open_work_of(session=session, task=task):
            logger.info("job %s is already queued; not adding another", name, extra={"job": name})
            return False
    enqueue(deps.engine, wakeup_for(deps.engine), task, {}, replace_original=False)
    return True


def execute(deps: Deps, item: WorkItem, *, registry: Mapping[str, JobSpec] = JOBS) -> Reply | None:
    """Run one claimed item: a scheduled job under its lease (its failure is logged; the next fire runs it
    again), else a listener's task, answered to its user."""
    if item.task.startswith(JOB_PREFIX):
        name = item.task.removeprefix(JOB_PREFIX)
        if name not in registry:
            logger.error("work item %s names no job: %s", item.id, name)
            return None
        try:
            run_job(name, deps, registry=registry, out=lambda line: logger.info("%s: %s", name, line))
        except Exception:  # logged inside run_job, with its reason
            logger.warning("scheduled run of %s failed", name, extra={"job": name})
        return None
    return execute_item(deps, item)


def runner_for(deps: Deps, *, threads: int = WORKER_THREADS, lease: timedelta = LEASE) -> WorkRunner:
    """A worker's runner: every due item (fresh or left by a stopped process), woken across processes."""
    wakeup = wakeup_for(deps.engine)
    wakeup.sqlite_poll = SQLITE_POLL_SECONDS
    return WorkRunner(
        deps, execute, holder=holder_id(), wakeup=wakeup, threads=threads, lease=lease, resumable=resumable
    )


def _wait_for_schema(deps: Deps) -> bool:
    deadline = time.monotonic() + SCHEMA_WAIT_SECONDS
    while True:
        try:
            if is_current(deps.engine):
                return True
        except Exception as exc:
            logger.info("database not ready (%s)", type(exc).__name__)
        if time.monotonic() > deadline:
            return False
        time.sleep(1.0)


def _warm_up(deps: Deps) -> None:
    """Load the Admin API's SDK (about 1.5 s of imports) before claiming anything, so the first item does not wait
    for it. The acking process never does: it stays small and starts fast (and `run` starts its workers once it
    serves)."""
    build = getattr(deps.admin, "build", None)  # a lazy gateway; a test's stand-in gateway has nothing to build
    if callable(build):
        build()


def serve_worker(settings: Settings, *, threads: int, lease: timedelta, parent: int | None) -> int:
    """Run one worker until SIGTERM or SIGINT (or, with `parent`, until that process is gone): claim, run,
    answer. In-hand items finish first; unstarted ones stay queued for the next worker."""
    deps = build_deps(settings)
    try:
        if not _wait_for_schema(deps):
            logger.error("the database is not migrated; run `claude-key-bot migrate` (or start `run` once)")
            return 1
        _warm_up(deps)
        runner = runner_for(deps, threads=threads, lease=lease).start()
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("worker ready: %d threads", threads)
        while not stopping.wait(1.0):
            if parent is not None and os.getppid() != parent:
                logger.warning("the process that started this worker is gone; stopping")
                break
        runner.stop(timeout=20.0)
        logger.info("worker stopped")
        return 0
    finally:
        deps.close()


class WorkerPool:
    """The WORKERS child processes of `run`: started at once, restarted when one exits, stopped with it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._children: list[subprocess.Popen[bytes] | None] = [None] * size
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._lock = threading.Lock()  # start (maybe on another thread) and stop never interleave

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "bot", "worker", "--parent", str(os.getpid())]

        def lower_priority() -> None:
            os.nice(WORKER_NICENESS)

        return subprocess.Popen(command, preexec_fn=lower_priority)  # noqa: S603 (our own interpreter)

    def start(self) -> WorkerPool:
        """Start the children and the thread that restarts one that dies (waiting longer each time); nothing once
        `stop` was called."""
        with self._lock:
            if self._stopping.is_set():
                return self
            for n in range(self.size):
                self._children[n] = self._spawn()
            self._monitor = threading.Thread(target=self._watch, name="ckb-workers", daemon=True)
            self._monitor.start()
        logger.info("started %d worker process(es)", self.size)
        return self

    @property
    def pids(self) -> list[int]:
        """The running children's process ids."""
        return [child.pid for child in self._children if child is not None and child.poll() is None]

    def _watch(self) -> None:
        delays = [1.0] * self.size
        while not self._stopping.wait(1.0):
            for n, child in enumerate(self._children):
                if child is None or child.poll() is None or self._stopping.is_set():
                    continue
                logger.warning("worker process %s exited (%s); restarting it", child.pid, child.returncode)
                if self._stopping.wait(delays[n]):
                    return
                delays[n] = min(delays[n] * 2, 30.0)
                self._children[n] = self._spawn()

    def stop(self, timeout: float = 25.0) -> None:
        """SIGTERM every child (each finishes its items in hand), then SIGKILL what outlives `timeout`."""
        with self._lock:
            self._stopping.set()
            children = [child for child in self._children if child is not None and child.poll() is None]
        for child in children:
            child.terminate()
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("worker process %s did not stop in time; killing it", child.pid)
                child.kill()
                child.wait()
