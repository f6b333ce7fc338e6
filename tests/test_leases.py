"""Job leases on SQLite and PostgreSQL: a holder unique per process, renewed while the job runs, expiring on
the database's clock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.deps import Deps
from bot.jobs import runner
from bot.jobs.context import JobContext, JobResult
from bot.jobs.spec import JobSpec
from bot.registry import run_job
from storage import repositories as repo
from storage.db import session_scope
from storage.models import JobLease, JobRun, LedgerEntry
from tests.conftest import DepsFactory

TTL = timedelta(minutes=10)
SAME_HOST_AND_PID = (
    "import os, socket; os.getpid = lambda: 1; socket.gethostname = lambda: 'bot';"
    "from bot.jobs.lease import holder_id; print(holder_id())"
)


def _db_now(engine: Engine) -> datetime:
    with session_scope(engine) as session:
        return repo.database_now(session=session)


def _rival_takes(engine: Engine, name: str, *, now: datetime | None = None) -> bool:
    with session_scope(engine) as session:
        return repo.try_acquire_lease(session=session, name=name, holder="rival", ttl=TTL, now=now)


def _poll(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _registry(fn) -> dict[str, JobSpec]:
    return {"long": JobSpec("long", "test job", "hourly", {"trigger": "interval", "hours": 1}, fn)}


@pytest.fixture
def job_deps(make_deps: DepsFactory) -> Deps:
    return make_deps()


def test_two_processes_with_the_same_hostname_and_pid_cannot_both_hold(engine: Engine) -> None:
    holders = [
        subprocess.run([sys.executable, "-c", SAME_HOST_AND_PID], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    first, second = (h.strip() for h in holders)
    assert first.startswith("bot:1:") and second.startswith("bot:1:")
    assert first != second
    with session_scope(engine) as session:
        assert repo.try_acquire_lease(session=session, name="job", holder=first, ttl=TTL)
    with session_scope(engine) as session:
        assert not repo.try_acquire_lease(session=session, name="job", holder=second, ttl=TTL)


def test_a_run_longer_than_the_ttl_keeps_its_lease(job_deps: Deps) -> None:
    ttl = timedelta(seconds=1)
    rival_tries: list[bool] = []

    def long_job(ctx: JobContext) -> JobResult:
        start = _db_now(ctx.deps.engine)

        def outlived() -> bool:  # three TTLs on the database's clock, a rival trying to take over all along
            rival_tries.append(_rival_takes(ctx.deps.engine, "long"))
            return _db_now(ctx.deps.engine) > start + 3 * ttl

        _poll(outlived, "three lease TTLs to pass")
        ctx.check_lease()
        return JobResult(sent=1)

    result = runner.run_job(
        "long",
        job_deps,
        registry=_registry(long_job),
        out=lambda _: None,
        lease_ttl=ttl,
        renew_every=timedelta(seconds=0.1),
    )
    assert result is not None and result.sent == 1
    assert rival_tries and not any(rival_tries)


def test_a_replica_whose_clock_is_hours_ahead_cannot_steal_a_live_lease(job_deps: Deps) -> None:
    assert _rival_takes(job_deps.engine, "long")
    job_deps.clock = lambda: datetime.now(UTC) + timedelta(hours=5)
    ran: list[str] = []

    def job(ctx: JobContext) -> JobResult:
        ran.append("ran")
        return JobResult()

    assert run_job("long", job_deps, registry=_registry(job), out=lambda _: None) is None
    assert ran == []
    with session_scope(job_deps.engine) as session:
        assert session.exec(select(JobLease.holder)).all() == ["rival"]


def test_a_run_that_lost_its_lease_stops_sending(job_deps: Deps) -> None:
    def job(ctx: JobContext) -> JobResult:
        assert not ctx.already_done("a")
        ctx.mark_done("a")
        # another replica takes the lease over (as if ours had run out)
        assert _rival_takes(ctx.deps.engine, "long", now=_db_now(ctx.deps.engine) + timedelta(days=1))
        _poll(lambda: ctx.already_done("b") and False, "the heartbeat to notice")  # raises LeaseLost
        ctx.mark_done("b")
        return JobResult(sent=2)

    result = runner.run_job(
        "long", job_deps, registry=_registry(job), out=lambda _: None, renew_every=timedelta(seconds=0.05)
    )
    assert result is None
    with session_scope(job_deps.engine) as session:
        assert session.exec(select(LedgerEntry.key)).all() == ["a"]
        assert session.exec(select(JobRun.status)).all() == ["lease_lost"]
        assert session.exec(select(JobLease.holder)).all() == ["rival"]  # not released: it's the rival's
