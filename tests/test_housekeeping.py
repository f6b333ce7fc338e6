"""The `housekeeping` job on SQLite and PostgreSQL: old `processed_event`, `job_run` and finished `work_item`
rows go, each job's latest run and the whole ledger stay; `jobs list` shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.deps import Deps
from bot.registry import JOBS, run_job
from storage.db import session_scope
from storage.models import JobRun, LedgerEntry, ProcessedEvent, WorkItem, WorkState
from tests.conftest import DepsFactory
from tests.test_cli import _cli

T0 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _seed(deps: Deps) -> None:
    with session_scope(deps.engine) as session:
        session.add_all(
            [
                ProcessedEvent(event_id="Ev_old", received_at=T0 - 31 * DAY),
                ProcessedEvent(event_id="Ev_new", received_at=T0 - DAY),
                JobRun(job="weekly", holder="h", started_at=T0 - 40 * DAY, status="ok"),
                JobRun(job="weekly", holder="h", started_at=T0 - 35 * DAY, status="ok"),  # its latest: kept
                JobRun(job="hourly", holder="h", started_at=T0 - 31 * DAY, status="ok"),
                JobRun(job="hourly", holder="h", started_at=T0 - DAY, status="ok"),
                LedgerEntry(job="stale-keys", key="report:2025-W01", created_at=T0 - 400 * DAY),
                WorkItem(task="t", state=WorkState.DONE, finished_at=T0 - 31 * DAY),
                WorkItem(task="t", state=WorkState.GIVEN_UP, finished_at=T0 - 40 * DAY),
                WorkItem(task="t", state=WorkState.DONE, finished_at=T0 - DAY),
                WorkItem(task="t", state=WorkState.QUEUED, created_at=T0 - 90 * DAY),  # never finished: kept
            ]
        )


def _work(deps: Deps) -> int:
    with session_scope(deps.engine) as session:
        return len(session.exec(select(WorkItem.id)).all())


def _state(deps: Deps) -> tuple[list[str], list[tuple[str, datetime]], int]:
    with session_scope(deps.engine) as session:
        events = sorted(session.exec(select(ProcessedEvent.event_id)).all())
        runs = [
            (r.job, r.started_at)
            for r in session.exec(select(JobRun).where(col(JobRun.job) != "housekeeping").order_by(col(JobRun.id)))
        ]
        ledger = len(session.exec(select(LedgerEntry.id)).all())
    return events, runs, ledger


def test_housekeeping_prunes_old_events_and_runs_and_keeps_the_ledger(make_deps: DepsFactory) -> None:
    deps = make_deps(clock=lambda: T0)
    _seed(deps)

    result = run_job("housekeeping", deps, out=lambda _: None)

    assert result is not None and result.notes == [
        "deleted 1 processed_event, 2 job_run and 2 finished work_item rows older than 30 days"
    ]
    assert _work(deps) == 2
    events, runs, ledger = _state(deps)
    assert events == ["Ev_new"]
    assert runs == [("weekly", T0 - 35 * DAY), ("hourly", T0 - DAY)]
    assert ledger == 1


def test_housekeeping_dry_run_counts_and_deletes_nothing(make_deps: DepsFactory) -> None:
    deps = make_deps(clock=lambda: T0)
    _seed(deps)
    printed: list[str] = []

    run_job("housekeeping", deps, dry_run=True, out=printed.append)

    assert printed == ["would delete 1 processed_event, 2 job_run and 2 finished work_item rows older than 30 days"]
    assert _work(deps) == 4
    events, runs, ledger = _state(deps)
    assert (len(events), len(runs), ledger) == (2, 4, 1)


def test_jobs_list_shows_housekeeping(tmp_path: Path) -> None:
    assert JOBS["housekeeping"].schedule == "daily 04:00"
    listed = _cli(["jobs", "list"], tmp_path)
    assert listed.returncode == 0
    line = next(line for line in listed.stdout.splitlines() if "housekeeping" in line)
    assert "daily 04:00" in line
