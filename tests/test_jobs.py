"""The job wrapper on SQLite and PostgreSQL: lease, ledger, dry run, failures, the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.jobs.runner import LEASE_TTL
from bot.jobs.scheduler import start_scheduler
from bot.jobs.spec import JobSpec
from bot.registry import run_job
from storage import repositories as repo
from storage.db import session_scope
from storage.models import JobRun, LedgerEntry
from tests.conftest import DepsFactory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def job_deps(make_deps: DepsFactory) -> Deps:
    """Deps on the parametrized database (SQLite and PostgreSQL) with a fixed clock."""
    return make_deps(clock=lambda: T0)


def notify_three(ctx: JobContext) -> JobResult:
    """A job that 'sends' three notices, each once."""
    result = JobResult()
    for key in ("a", "b", "c"):
        if ctx.already_done(key):
            result.skipped += 1
            continue
        ctx.out(f"would notify {key}")
        ctx.mark_done(key)
        result.sent += 1
    return result


def explode(ctx: JobContext) -> JobResult:
    raise RuntimeError("boom")


REGISTRY = {
    "notify": JobSpec("notify", "test job", "hourly", {"trigger": "interval", "hours": 1}, notify_three),
    "explode": JobSpec("explode", "fails", "hourly", {"trigger": "interval", "hours": 1}, explode),
}


def test_rerun_sends_nothing_new(job_deps: Deps) -> None:
    first = run_job("notify", job_deps, registry=REGISTRY, out=lambda _: None)
    second = run_job("notify", job_deps, registry=REGISTRY, out=lambda _: None)
    assert first is not None and (first.sent, first.skipped) == (3, 0)
    assert second is not None and (second.sent, second.skipped) == (0, 3)
    with session_scope(job_deps.engine) as session:
        runs = session.exec(select(JobRun).where(JobRun.job == "notify")).all()
    assert [r.status for r in runs] == ["ok", "ok"]
    assert runs[0].finished_at == T0


def test_dry_run_prints_and_records_nothing(job_deps: Deps) -> None:
    printed: list[str] = []
    result = run_job("notify", job_deps, registry=REGISTRY, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 3
    assert printed == ["would notify a", "would notify b", "would notify c"]
    with session_scope(job_deps.engine) as session:
        assert session.exec(select(LedgerEntry)).all() == []
    real = run_job("notify", job_deps, registry=REGISTRY, out=lambda _: None)
    assert real is not None and real.sent == 3


def test_a_live_lease_of_another_replica_skips_the_run(job_deps: Deps) -> None:
    with session_scope(job_deps.engine) as session:
        assert repo.try_acquire_lease(session=session, name="notify", holder="other", ttl=LEASE_TTL)
    assert run_job("notify", job_deps, registry=REGISTRY, out=lambda _: None) is None
    with session_scope(job_deps.engine) as session:  # the other replica crashed: its lease ran out (db clock)
        taken = repo.database_now(session=session) - LEASE_TTL - timedelta(seconds=1)
        assert repo.try_acquire_lease(session=session, name="notify", holder="other", now=taken, ttl=LEASE_TTL)
    result = run_job("notify", job_deps, registry=REGISTRY, out=lambda _: None)
    assert result is not None and result.sent == 3


def test_failure_is_recorded_and_the_lease_released(job_deps: Deps) -> None:
    with pytest.raises(RuntimeError, match="explode failed"):
        run_job("explode", job_deps, registry=REGISTRY)
    with session_scope(job_deps.engine) as session:
        run = session.exec(select(JobRun).where(JobRun.job == "explode")).one()
        assert (run.status, run.detail) == ("failed", "RuntimeError")
        assert repo.try_acquire_lease(session=session, name="explode", holder="next", now=T0, ttl=LEASE_TTL)


def test_unknown_jobs(job_deps: Deps) -> None:
    with pytest.raises(KeyError):
        run_job("nope", job_deps, registry=REGISTRY)


def test_scheduler_schedules_only_implemented_jobs_in_the_configured_zone(job_deps: Deps) -> None:
    scheduler = start_scheduler(job_deps, registry=REGISTRY)
    try:
        assert sorted(job.id for job in scheduler.get_jobs()) == ["explode", "notify"]
        assert str(scheduler.timezone) == "UTC"
    finally:
        scheduler.shutdown(wait=False)
