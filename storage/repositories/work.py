"""Work items: acked work recorded at the ack and claimed by workers with a lease.

A claim is an UPDATE of due rows (running with an expired claim, or queued and due) chosen by a subquery; on
PostgreSQL the subquery reads `FOR UPDATE SKIP LOCKED`, so workers racing for the queue take different rows
instead of waiting on each other. Times are the caller's `now`, meant to be the database's clock
(`database_now`), as for leases.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, bindparam, delete, func, insert, update
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col, select

from storage.db import execute_when_free
from storage.models import WorkItem, WorkState
from storage.types import UTCDateTime

_TIME = UTCDateTime()  # the type of every timestamp column


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


_NOW = bindparam("now", type_=_TIME)


def _claim_statement(due: ColumnElement[bool], *, postgres: bool, one: bool) -> Update:
    chosen = select(WorkItem.id).where(due)
    if one:
        chosen = chosen.where(col(WorkItem.id) == bindparam("item_id"))
    chosen = chosen.order_by(col(WorkItem.id)).limit(bindparam("limit"))
    if postgres:
        chosen = chosen.with_for_update(skip_locked=True)
    return (
        update(WorkItem)
        .where(col(WorkItem.id).in_(chosen.scalar_subquery()))
        .values(
            state=WorkState.RUNNING,
            claimed_by=bindparam("holder"),
            claim_expires_at=bindparam("expires", type_=_TIME),
            attempts=WorkItem.attempts + 1,
            started_at=func.coalesce(WorkItem.started_at, _NOW),
            updated_at=_NOW,
        )
        .returning(col(WorkItem.id))
        .execution_options(synchronize_session=False)
    )


def _claim_statements(postgres: bool, one: bool) -> tuple[Update, Update]:
    """Built once per kind (SQLAlchemy then reuses their compiled form): taking over expired claims, then
    claiming queued items."""
    key = (postgres, one)
    if key not in _CLAIMS:
        expired = and_(col(WorkItem.state) == WorkState.RUNNING, col(WorkItem.claim_expires_at) < _NOW)
        queued = and_(col(WorkItem.state) == WorkState.QUEUED, col(WorkItem.not_before) <= _NOW)
        _CLAIMS[key] = (
            _claim_statement(expired, postgres=postgres, one=one),
            _claim_statement(queued, postgres=postgres, one=one),
        )
    return _CLAIMS[key]


_CLAIMS: dict[tuple[bool, bool], tuple[Update, Update]] = {}
_CLAIMED = select(WorkItem).where(col(WorkItem.id).in_(bindparam("ids", expanding=True))).order_by(col(WorkItem.id))


_INSERTED = ("task", "args", "user_id", "channel_id", "response_url", "replace_original")


def insert_items_sqlite(connection: sqlite3.Connection, *, items: list[dict[str, object]], at: datetime) -> list[int]:
    """`enqueue_many` on a SQLite `RawWriter` connection: one multi-row INSERT that is its own transaction, run by
    `execute_when_free` (one call into SQLite, so the write lock is held for the statement and its commit
    only), no ORM. The new rows' ids are consecutive: SQLite gives each new row one more than the largest
    rowid, and the statement holds the write lock throughout."""
    if not items:
        return []
    stamp = _sqlite_time(at)
    columns = (*_INSERTED, "state", "attempts", "max_attempts", "not_before", "created_at", "updated_at")
    row = "(" + ", ".join("?" * len(columns)) + ")"
    params: list[object] = []
    for item in items:
        params.extend(item[name] for name in _INSERTED)
        params.extend((WorkState.QUEUED.value, 0, 5, stamp, stamp, stamp))
    sql = f"INSERT INTO work_item ({', '.join(columns)}) VALUES {', '.join([row] * len(items))}"  # noqa: S608 (constants and ?s)
    cursor = execute_when_free(connection, sql, params)
    last = cursor.lastrowid
    if last is None or cursor.rowcount != len(items):
        raise RuntimeError("the work item insert did not add every row")
    return list(range(last - len(items) + 1, last + 1))


_INSERT_POSTGRES = """
WITH new AS (
    INSERT INTO work_item (task, args, user_id, channel_id, response_url, replace_original,
                           state, attempts, max_attempts, not_before, created_at, updated_at)
    SELECT task, args, user_id, channel_id, response_url, replace_original, 'queued', 0, 5, now(), now(), now()
    FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[])
        WITH ORDINALITY AS given(task, args, user_id, channel_id, response_url, replace_original, n)
    ORDER BY n
    RETURNING id
)
SELECT id, pg_notify(%s, '') FROM new ORDER BY id
"""


def insert_items_postgres(connection: Any, *, items: list[dict[str, object]], wake: str) -> list[int]:
    """`enqueue_many` on a PostgreSQL `RawWriter` connection (psycopg, autocommit): one statement, so one round
    trip, that inserts the rows at the database's `now()` and NOTIFYs `wake` as it commits. The ids follow the
    items' order: the rows are inserted in `ORDER BY n`, each taking the sequence's next value."""
    if not items:
        return []
    columns = [[item[name] for item in items] for name in _INSERTED]
    rows = connection.execute(_INSERT_POSTGRES, (*columns, wake)).fetchall()
    if len(rows) != len(items):
        raise RuntimeError("the work item insert did not add every row")
    return [int(row[0]) for row in rows]


def _sqlite_time(at: datetime) -> object:
    """`at` as SQLAlchemy writes a UTCDateTime to SQLite (claims compare these as text)."""
    processor = _sqlite_time_processor()
    return processor(at) if processor is not None else at


@functools.cache
def _sqlite_time_processor() -> Callable[[Any], Any] | None:
    dialect = sqlite_dialect.dialect()
    return _TIME.dialect_impl(dialect).bind_processor(dialect)


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
    only that item.

    Each claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id`: on SQLite the statement holds the
    write lock from the choice to the update, so two claimers never pick the same item; on PostgreSQL the choice
    locks what it picks and skips rows another claimer has locked (`FOR UPDATE SKIP LOCKED`). Items whose claim
    ran out (their worker died) go first, then queued ones, each found through `ix_work_item_state_id` in id
    order: a claim reads a few index entries however long the backlog is."""
    postgres = session.get_bind().dialect.name == "postgresql"
    claimed: list[int] = []
    params: dict[str, object] = {"now": now, "expires": now + lease, "holder": holder}
    if item_id is not None:
        params["item_id"] = item_id
    for statement in _claim_statements(postgres, item_id is not None):
        if len(claimed) >= limit:
            break
        rows = session.execute(statement, {**params, "limit": limit - len(claimed)})
        claimed.extend(int(row[0]) for row in rows)
    if not claimed:
        return []
    return list(session.exec(_CLAIMED, params={"ids": claimed}))


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
