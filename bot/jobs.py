"""Scheduled jobs (DESIGN.md §5): plain functions of a JobContext, run under a lease with a ledger.

`run_job` is the one wrapper: it takes the job's lease (so one replica runs it at a time), records the
run, and hands the job a context whose `once(key)` ledger makes every notice idempotent.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.deps import Deps
from bot.logs import job_context
from storage import repositories as repo
from storage.db import session_scope
from storage.models import JobRun

logger = logging.getLogger(__name__)

# A crashed holder's lease expires within this (DESIGN.md §5, issue: "within 10 minutes").
LEASE_TTL = timedelta(minutes=10)


class JobNotAvailable(Exception):
    """The job is known but not implemented in this version."""


@dataclass
class JobResult:
    """What a run did; `errors` are per-item failures the run continued past."""

    sent: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = f"sent {self.sent}, skipped {self.skipped}, errors {len(self.errors)}"
        return text + ("; " + "; ".join(self.notes) if self.notes else "")


@dataclass
class JobContext:
    """What a job gets: dependencies, the time, the session for this run, and dry-run output."""

    deps: Deps
    session: Session
    now: datetime
    dry_run: bool
    job: str
    out: Callable[[str], None] = print

    def already_done(self, key: str) -> bool:
        """True when this job already recorded `key` (a notice sent, an action taken)."""
        return repo.ledger_has(session=self.session, job=self.job, key=key)

    def mark_done(self, key: str) -> bool:
        """Record `key` after Slack or the Admin API accepted the action; False if another run did."""
        if self.dry_run:
            return True
        recorded = repo.ledger_record(session=self.session, job=self.job, key=key, at=self.now)
        self.session.commit()
        return recorded


JobFn = Callable[[JobContext], JobResult]


@dataclass(frozen=True)
class JobSpec:
    """A job's name, schedule and function: a callable, a "module:function" path resolved when the job
    runs (feature modules import this one, so the registry cannot import them), or None (not available)."""

    name: str
    description: str
    schedule: str
    trigger: dict[str, object]
    target: JobFn | str | None = None

    @property
    def available(self) -> bool:
        """Whether this version has the job."""
        return self.target is not None

    def resolve(self) -> JobFn:
        """The job function."""
        if self.target is None:
            raise JobNotAvailable(self.name)
        if isinstance(self.target, str):
            module, _, attribute = self.target.partition(":")
            fn: JobFn = getattr(importlib.import_module(module), attribute)
            return fn
        return self.target


# Schedules from DESIGN.md §5. Feature issues fill in `target` ("bot.services.x:function").
JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "invite-sync",
            "accepted invites continue their requests",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            "bot.services.request_jobs:invite_sync",
        ),
        JobSpec(
            "key-adoption",
            "keys created by granted requesters fulfil the request",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            "bot.services.request_jobs:key_adoption",
        ),
        JobSpec(
            "rotation-reminders",
            "DM owners of keys due for rotation",
            "daily 09:00",
            {"trigger": "cron", "hour": 9, "minute": 0},
            "bot.services.keys:rotation_reminders",
        ),
        JobSpec(
            "stale-keys",
            "report keys unused for KEY_STALE_DAYS",
            "Mondays 09:00",
            {"trigger": "cron", "day_of_week": "mon", "hour": 9, "minute": 0},
            "bot.services.keys:stale_keys",
        ),
        JobSpec(
            "budget-alerts",
            "threshold, forecast and spike alerts",
            "every 15 min",
            {"trigger": "interval", "minutes": 15},
            "bot.services.budgets:run_budget_alerts",
        ),
        JobSpec(
            "weekly-digest",
            "spend by workspace and model, week over week",
            "Mondays 09:00",
            {"trigger": "cron", "day_of_week": "mon", "hour": 9, "minute": 0},
            "bot.services.digest:run_weekly_digest",
        ),
        JobSpec(
            "request-nudges",
            "nudge, escalate and expire pending requests",
            "hourly",
            {"trigger": "interval", "hours": 1},
            "bot.services.request_jobs:request_nudges",
        ),
        JobSpec(
            "spend-limit-requests",
            "post new spend-limit increase requests",
            "every 5 min",
            {"trigger": "interval", "minutes": 5},
            "bot.services.spend_limits:run_spend_limit_requests",
        ),
    )
}


def holder_id() -> str:
    """This process, as a lease holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(
    name: str,
    deps: Deps,
    *,
    dry_run: bool = False,
    registry: dict[str, JobSpec] | None = None,
    holder: str | None = None,
    out: Callable[[str], None] = print,
) -> JobResult | None:
    """Run one job under its lease; None when another replica holds the lease."""
    specs = JOBS if registry is None else registry
    spec = specs.get(name)
    if spec is None:
        raise KeyError(name)
    fn = spec.resolve()
    holder = holder or holder_id()
    now = deps.clock()
    metrics = deps.metrics
    with session_scope(deps.engine) as session:
        if not repo.try_acquire_lease(session=session, name=name, holder=holder, now=now, ttl=LEASE_TTL):
            logger.info("job %s skipped: another replica holds the lease", name, extra={"job": name})
            metrics.job_runs.labels(name, "skipped").inc()
            return None
        run = repo.start_job_run(session=session, job=name, holder=holder, dry_run=dry_run, now=now)
    run_id = run.id
    started = time.perf_counter()
    # Everything logged while the job runs (on this thread) carries the job and its run id.
    with job_context(name, run_id):
        try:
            with session_scope(deps.engine) as session:
                context = JobContext(deps=deps, session=session, now=now, dry_run=dry_run, job=name, out=out)
                result = fn(context)
                if dry_run:
                    session.rollback()
            status, detail = "ok", result.summary()
        except Exception as exc:
            logger.exception("job %s failed", name, extra={"job": name, "job_run_id": run_id})
            status, detail, result = "failed", type(exc).__name__, None
        with session_scope(deps.engine) as session:
            finished = session.get(JobRun, run_id)
            if finished is not None:
                finished.status, finished.detail, finished.finished_at = status, detail, deps.clock()
            repo.release_lease(session=session, name=name, holder=holder)
        logger.info("job %s %s: %s", name, status, detail, extra={"job": name, "job_run_id": run_id})
    metrics.job_runs.labels(name, status).inc()
    metrics.job_duration.labels(name, status).observe(time.perf_counter() - started)
    if result is not None and result.sent and not dry_run:
        metrics.alerts_sent.labels(name).inc(result.sent)
    if result is None:
        raise RuntimeError(f"job {name} failed: {detail}")
    return result
