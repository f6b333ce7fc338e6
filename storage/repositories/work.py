"""Work items: acked work recorded at the ack and claimed by workers with a lease.

A claim is a conditional UPDATE of a due row (queued and due, or running with an expired claim); on PostgreSQL
the candidate rows are read `FOR UPDATE SKIP LOCKED`, so workers racing for the queue take different rows
instead of waiting on each other. Times are the caller's `now`, meant to be the database's clock
(`database_now`), as for leases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, update
from sqlmodel import Session, col, select

from storage.models import WorkItem, WorkState


def enqueue_work(
    *,
    session: Session,
    task: str,
    args: str,
    at: datetime,
    user_id: str | None = None,
    channel_id: str | None = None,
    response_url: str | None = None,
    replace_original: bool = True,
    max_attempts: int = 5,
    flush: bool = True,
) -> WorkItem:
    """Add a queued item due at once (flushed, so it has its id, unless `flush=False`: the caller flushes a
    batch at once; the caller commits)."""
    item = WorkItem(
        task=task,
        args=args,
        not_before=at,
        user_id=user_id,
        channel_id=channel_id,
        response_url=response_url,
        replace_original=replace_original,
        max_attempts=max_attempts,
        created_at=at,
        updated_at=at,
    )
    session.add(item)
    if flush:
        session.flush()
    return item


def enqueue_many(*, session: Session, items: list[dict[str, object]], at: datetime) -> list[int]:
    """Add queued items due at once in one INSERT … RETURNING (no ORM unit of work: the acking process stores
    every command this way, and its CPU is the ack's); their ids in the order given. Each dict holds `task`,
    `args` (JSON text), `user_id`, `channel_id`, `response_url` and `replace_original`."""
    if not items:
        return []
    rows = [
        {
            "state": WorkState.QUEUED,
            "attempts": 0,
            "max_attempts": 5,
            "not_before": at,
            "created_at": at,
            "updated_at": at,
            **item,
        }
        for item in items
    ]
    statement = insert(WorkItem).returning(col(WorkItem.id), sort_by_parameter_order=True)
    return [int(row[0]) for row in session.execute(statement, rows)]


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(WorkItem.state) == WorkState.QUEUED, col(WorkItem.not_before) <= now),
        and_(col(WorkItem.state) == WorkState.RUNNING, col(WorkItem.claim_expires_at) < now),
    )


def claim_work(
    *,
    session: Session,
    holder: str,
    now: datetime,
    lease: timedelta,
    limit: int = 1,
    item_id: int | None = None,
) -> list[WorkItem]:
    """Claim up to `limit` due items, oldest first, for `holder` until `now + lease`; attempts counts each claim
    (an item past `max_attempts` is still handed out, for the worker to give up on it and say so). `item_id`:
    only that item."""
    query = select(WorkItem.id).where(_due(now))
    if item_id is not None:
        query = query.where(col(WorkItem.id) == item_id)
    query = query.order_by(col(WorkItem.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = [row for row in session.exec(query) if row is not None]
    claimed: list[int] = []
    for item_id in ids:
        result = session.execute(
            update(WorkItem)
            .where(col(WorkItem.id) == item_id, _due(now))
            .values(
                state=WorkState.RUNNING,
                claimed_by=holder,
                claim_expires_at=now + lease,
                attempts=WorkItem.attempts + 1,
                started_at=func.coalesce(WorkItem.started_at, now),
                updated_at=now,
            )
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(item_id)
    if not claimed:
        return []
    items = session.exec(select(WorkItem).where(col(WorkItem.id).in_(claimed)).order_by(col(WorkItem.id)))
    return list(items)


def _mine(item_id: int, holder: str) -> ColumnElement[bool]:
    return and_(
        col(WorkItem.id) == item_id, col(WorkItem.state) == WorkState.RUNNING, col(WorkItem.claimed_by) == holder
    )


def extend_claim(*, session: Session, item_id: int, holder: str, now: datetime, lease: timedelta) -> bool:
    """Renew `holder`'s claim; False when it lost the claim (another worker took the item over)."""
    result = session.execute(
        update(WorkItem).where(_mine(item_id, holder)).values(claim_expires_at=now + lease, updated_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def finish_work(*, session: Session, item_id: int, holder: str, now: datetime) -> bool:
    """Mark `holder`'s item done (it stays as `claimed_by`: who did it); False when it no longer held it."""
    result = session.execute(
        update(WorkItem)
        .where(_mine(item_id, holder))
        .values(state=WorkState.DONE, claim_expires_at=None, updated_at=now, finished_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def retry_work(
    *, session: Session, item_id: int, holder: str, now: datetime, delay: timedelta, error: str
) -> WorkState | None:
    """After a transient failure: queued again after `delay`, or given up once `max_attempts` were made; the
    state it went to, None when `holder` no longer held it."""
    item = session.get(WorkItem, item_id)
    if item is None:
        return None
    give_up = item.attempts >= item.max_attempts
    to = WorkState.GIVEN_UP if give_up else WorkState.QUEUED
    result = session.execute(
        update(WorkItem)
        .where(_mine(item_id, holder))
        .values(
            state=to,
            claimed_by=None,
            claim_expires_at=None,
            not_before=now + delay,
            last_error=error,
            updated_at=now,
            finished_at=now if give_up else None,
        )
    )
    return to if result.rowcount == 1 else None  # type: ignore[attr-defined]


def give_up_work(*, session: Session, item_id: int, holder: str, now: datetime, error: str) -> bool:
    """Stop trying `holder`'s item (it failed for good, or ran out of attempts)."""
    result = session.execute(
        update(WorkItem)
        .where(_mine(item_id, holder))
        .values(state=WorkState.GIVEN_UP, claimed_by=None, last_error=error, updated_at=now, finished_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def pending_work(*, session: Session) -> int:
    """Items queued or running (the backlog a worker pool has to get through)."""
    query = (
        select(func.count()).select_from(WorkItem).where(col(WorkItem.state).in_([WorkState.QUEUED, WorkState.RUNNING]))
    )
    return int(session.exec(query).one())


def prune_work(*, session: Session, before: datetime) -> int:
    """Delete items done or given up before `before`; how many."""
    result = session.execute(
        delete(WorkItem).where(
            col(WorkItem.state).in_([WorkState.DONE, WorkState.GIVEN_UP]), col(WorkItem.finished_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_work_of(*, session: Session, task: str) -> int:
    """How many items of `task` are queued or running (the scheduler adds a job's item only when none is)."""
    query = (
        select(func.count())
        .select_from(WorkItem)
        .where(col(WorkItem.task) == task, col(WorkItem.state).in_([WorkState.QUEUED, WorkState.RUNNING]))
    )
    return int(session.exec(query).one())
