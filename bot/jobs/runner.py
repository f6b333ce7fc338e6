"""`run_job`: the one wrapper around a job function: its lease (one replica at a time), its run row, its
ledger-backed context, logging and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlmodel import Session

from bot.anthropic_admin import DEFAULT_BASE_URL, AdminAPIError, operator_reason
from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.jobs.lease import LEASE_RENEW_EVERY, LEASE_TTL, Heartbeat, LeaseLost, holder_id
from bot.jobs.spec import JobSpec
from bot.logs import job_context, redact
from storage import repositories as repo
from storage.db import session_scope
from storage.models import JobRun

logger = logging.getLogger(__name__)

__all__ = ["LEASE_TTL", "holder_id", "run_job"]


def run_job(
    name: str,
    deps: Deps,
    *,
    dry_run: bool = False,
    registry: Mapping[str, JobSpec],
    holder: str | None = None,
    out: Callable[[str], None] = print,
    lease_ttl: timedelta = LEASE_TTL,
    renew_every: timedelta = LEASE_RENEW_EVERY,
) -> JobResult | None:
    """Run one job under its lease, renewed while it runs; None when another replica holds the lease or
    took it over during the run."""
    spec = registry.get(name)
    if spec is None:
        raise KeyError(name)
    if dry_run:
        return _dry_run(spec, deps, out)
    fn = spec.target
    holder = holder or holder_id()
    now = deps.clock()
    metrics = deps.metrics
    with session_scope(deps.engine) as session:
        if not repo.try_acquire_lease(session=session, name=name, holder=holder, ttl=lease_ttl):
            logger.info("job %s skipped: another replica holds the lease", name, extra={"job": name})
            metrics.job_runs.labels(name, "skipped").inc()
            return None
        run = repo.start_job_run(session=session, job=name, holder=holder, dry_run=dry_run, now=now)
    run_id = run.id
    started = time.perf_counter()
    # Everything logged while the job runs (on this thread) carries the job and its run id.
    heartbeat = Heartbeat(deps.engine, name=name, holder=holder, ttl=lease_ttl, every=renew_every)
    with job_context(name, run_id):
        try:
            with heartbeat, session_scope(deps.engine) as session:
                context = JobContext(
                    deps=deps, session=session, now=now, dry_run=dry_run, job=name, out=out, check_lease=heartbeat.check
                )
                result = fn(context)
                if dry_run:
                    session.rollback()
            status, detail = ("errors" if result.errors else "ok"), result.summary()
        except LeaseLost:
            status, detail, result = "lease_lost", "another replica took the lease; stopped sending", None
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
    if status == "lease_lost":
        return None
    if result is None:
        raise RuntimeError(f"job {name} failed: {detail}")
    return result


def _dry_run(spec: JobSpec, deps: Deps, out: Callable[[str], None]) -> JobResult:
    """The job with nothing written: no lease, no run row, its session rolled back; `out` gets each "would …"
    line. A job that fails raises RuntimeError with one line (logged without a traceback)."""
    started = time.perf_counter()
    with job_context(spec.name, None):
        try:
            with Session(deps.engine, expire_on_commit=False) as session:
                try:
                    result = spec.target(
                        JobContext(deps=deps, session=session, now=deps.clock(), dry_run=True, job=spec.name, out=out)
                    )
                finally:
                    session.rollback()
        except Exception as exc:
            reason = describe_failure(exc, admin_api_url=deps.settings.anthropic_base_url)
            logger.warning("job %s (dry run) failed: %s", spec.name, reason, extra={"job": spec.name})
            _count(deps, spec.name, "failed", started)
            raise RuntimeError(f"job {spec.name} failed: {reason}") from None
        status = "errors" if result.errors else "ok"
        logger.info("job %s (dry run) %s: %s", spec.name, status, result.summary(), extra={"job": spec.name})
    _count(deps, spec.name, status, started)
    return result


def _count(deps: Deps, name: str, status: str, started: float) -> None:
    deps.metrics.job_runs.labels(name, status).inc()
    deps.metrics.job_duration.labels(name, status).observe(time.perf_counter() - started)


def describe_failure(exc: BaseException, *, admin_api_url: str | None = None) -> str:
    """One line for an operator, no traceback: `Admin API at URL: cannot connect (…)`, else the exception's kind
    and the first line of its message."""
    if isinstance(exc, AdminAPIError):
        return redact(f"Admin API at {admin_api_url or DEFAULT_BASE_URL}: {operator_reason(exc)}")
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
