"""Job leases (one replica at a time), runs, and the ledger of what each job already did."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import JobLease, JobRun, LedgerEntry


def ledger_has(*, session: Session, job: str, key: str) -> bool:
    """True when (job, key) was already recorded."""
    found = session.exec(select(LedgerEntry.id).where(LedgerEntry.job == job, LedgerEntry.key == key))
    return found.first() is not None


def ledger_record(*, session: Session, job: str, key: str, at: datetime) -> bool:
    """Record (job, key) once; False when another run or replica recorded it first."""
    try:
        with session.begin_nested():
            session.add(LedgerEntry(job=job, key=key, created_at=at))
    except IntegrityError:
        return False
    return True


_LEDGER_BATCH = 500  # keys per IN (...) list: far below every database's parameter limit


def ledger_done(*, session: Session, job: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` this job already recorded: one query per 500 keys."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), _LEDGER_BATCH):
        batch = wanted[i : i + _LEDGER_BATCH]
        found.update(
            session.exec(select(LedgerEntry.key).where(LedgerEntry.job == job, col(LedgerEntry.key).in_(batch)))
        )
    return found


def ledger_record_all(*, session: Session, job: str, keys: Iterable[str], at: datetime) -> None:
    """Record every (job, key) in one INSERT; one by one when another run recorded some of them first."""
    keys = list(keys)
    try:
        with session.begin_nested():
            session.add_all([LedgerEntry(job=job, key=key, created_at=at) for key in keys])
    except IntegrityError:
        for key in keys:
            ledger_record(session=session, job=job, key=key, at=at)


def ledger_since(*, session: Session, job: str, prefix: str, since: datetime) -> list[str]:
    """This job's ledger keys starting with `prefix` recorded at or after `since` (one query)."""
    rows = session.exec(
        select(LedgerEntry.key).where(
            LedgerEntry.job == job,
            col(LedgerEntry.key).startswith(prefix, autoescape=True),
            col(LedgerEntry.created_at) >= since,
        )
    )
    return list(rows)


def database_now(*, session: Session) -> datetime:
    """The database's clock (UTC): what every replica compares lease expiry against, whatever its own says."""
    if session.get_bind().dialect.name == "sqlite":
        raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    value = session.execute(text("SELECT now()")).scalar_one()
    return value.astimezone(UTC)


def try_acquire_lease(*, session: Session, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `holder` unless another holder's lease is still live.

    Expiry is measured on the database's clock unless `now` is given (tests of the rule itself).
    """
    now = now if now is not None else database_now(session=session)
    expires = now + ttl
    taken = session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name)
        .where((col(JobLease.expires_at) <= now) | (col(JobLease.holder) == holder))
        .values(holder=holder, acquired_at=now, expires_at=expires)
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, holder=holder, acquired_at=now, expires_at=expires))
    except IntegrityError:
        return False
    return True


def renew_lease(*, session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Extend `holder`'s lease to the database's now + `ttl`; False when the lease is no longer theirs."""
    expires = database_now(session=session) + ttl
    renewed = session.execute(
        update(JobLease).where(col(JobLease.name) == name, col(JobLease.holder) == holder).values(expires_at=expires)
    )
    return bool(renewed.rowcount)  # type: ignore[attr-defined]


def release_lease(*, session: Session, name: str, holder: str) -> None:
    """Give the lease back so the next run need not wait for it to expire."""
    session.execute(delete(JobLease).where(col(JobLease.name) == name, col(JobLease.holder) == holder))


def start_job_run(*, session: Session, job: str, holder: str, dry_run: bool, now: datetime) -> JobRun:
    """Record that a job run started."""
    run = JobRun(job=job, holder=holder, dry_run=dry_run, started_at=now)
    session.add(run)
    session.flush()
    return run


def last_job_runs(*, session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest: dict[str, JobRun] = {}
    for run in session.exec(select(JobRun).order_by(col(JobRun.started_at))):
        latest[run.job] = run
    return latest


def prune_job_runs(*, session: Session, before: datetime) -> int:
    """Delete runs started before `before`, keeping each job's latest run (for `jobs list`); how many went."""
    latest = select(func.max(JobRun.id)).group_by(col(JobRun.job))
    gone = session.execute(
        delete(JobRun).where(col(JobRun.started_at) < before, col(JobRun.id).not_in(latest.scalar_subquery()))
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]
