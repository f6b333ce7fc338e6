"""The work-item queue on SQLite and PostgreSQL: claims with a lease, each item done once by racing workers,
expired claims taken over, retries with backoff, giving up after a bounded number of attempts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

import storage.db
from bot.work.wakeup import CHANNEL, Wakeup
from storage import repositories as repo
from storage.db import RawWriter, make_engine, raw_writer, session_scope
from storage.migrate import upgrade
from storage.models import WorkItem, WorkState
from storage.repositories.work import _claim_statements

LEASE = timedelta(minutes=2)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file: what the acking process's own SQLite writer is for."""
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _now(engine: Engine) -> datetime:
    with session_scope(engine) as session:
        return repo.database_now(session=session)


def _enqueue(engine: Engine, count: int, *, at: datetime | None = None, max_attempts: int = 5) -> list[int]:
    at = at or _now(engine)
    with session_scope(engine) as session:
        ids = [
            repo.enqueue_work(
                session=session, task="test.echo", args=f'{{"n": {n}}}', at=at, max_attempts=max_attempts
            ).id
            for n in range(count)
        ]
    return [i for i in ids if i is not None]


def _claim(engine: Engine, holder: str, *, now: datetime | None = None, limit: int = 1) -> list[WorkItem]:
    with session_scope(engine) as session:
        return repo.claim_work(session=session, holder=holder, now=now or _now(engine), lease=LEASE, limit=limit)


def _state(engine: Engine, item_id: int) -> WorkItem:
    with session_scope(engine) as session:
        item = session.get(WorkItem, item_id)
        assert item is not None
        return item


def test_two_workers_racing_over_200_items_do_each_once(engine: Engine) -> None:
    ids = _enqueue(engine, 200)
    done: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            while True:
                items = _claim(engine, name, limit=5)
                if not items:
                    return
                for item in items:
                    assert item.id is not None
                    with session_scope(engine) as session:
                        assert repo.finish_work(session=session, item_id=item.id, holder=name, now=_now(engine))
                    done[name].append(item.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in done]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(done["a"] + done["b"]) == sorted(ids)  # every item once, none twice
    assert all(_state(engine, i).state == WorkState.DONE for i in ids[:10])
    with session_scope(engine) as session:
        assert repo.pending_work(session=session) == 0


def test_an_expired_claim_is_taken_over_and_the_old_holder_cannot_finish(engine: Engine) -> None:
    (item_id,) = _enqueue(engine, 1)
    (first,) = _claim(engine, "dead-worker")
    assert first.attempts == 1 and first.claimed_by == "dead-worker"
    assert _claim(engine, "other") == []  # a live claim is left alone
    later = _now(engine) + LEASE + timedelta(seconds=1)
    (second,) = _claim(engine, "other", now=later)
    assert second.id == item_id and second.attempts == 2 and second.claimed_by == "other"
    with session_scope(engine) as session:
        assert not repo.finish_work(session=session, item_id=item_id, holder="dead-worker", now=later)
        assert not repo.extend_claim(session=session, item_id=item_id, holder="dead-worker", now=later, lease=LEASE)
        assert repo.extend_claim(session=session, item_id=item_id, holder="other", now=later, lease=LEASE)
        assert repo.finish_work(session=session, item_id=item_id, holder="other", now=later)
    assert _state(engine, item_id).state == WorkState.DONE


def test_a_retry_waits_for_its_backoff_and_gives_up_after_max_attempts(engine: Engine) -> None:
    (item_id,) = _enqueue(engine, 1, max_attempts=2)
    now = _now(engine)
    _claim(engine, "w", now=now)
    with session_scope(engine) as session:
        assert (
            repo.retry_work(
                session=session, item_id=item_id, holder="w", now=now, delay=timedelta(seconds=30), error="503"
            )
            == WorkState.QUEUED
        )
    assert _claim(engine, "w", now=now + timedelta(seconds=10)) == []  # not due yet
    (again,) = _claim(engine, "w", now=now + timedelta(seconds=31))
    assert again.attempts == 2 and again.last_error == "503"
    with session_scope(engine) as session:
        to = repo.retry_work(
            session=session, item_id=item_id, holder="w", now=now, delay=timedelta(seconds=30), error="503"
        )
    assert to == WorkState.GIVEN_UP
    assert _claim(engine, "w", now=now + timedelta(hours=1)) == []
    item = _state(engine, item_id)
    assert item.state == WorkState.GIVEN_UP and item.finished_at is not None


def test_finished_items_are_pruned_and_waiting_ones_kept(engine: Engine) -> None:
    done_id, waiting_id = _enqueue(engine, 2)
    now = _now(engine)
    (claimed,) = _claim(engine, "w", now=now)
    assert claimed.id == done_id
    with session_scope(engine) as session:
        repo.finish_work(session=session, item_id=done_id, holder="w", now=now)
    with session_scope(engine) as session:
        assert repo.prune_work(session=session, before=now) == 0  # finished at `now`, not before
        assert repo.prune_work(session=session, before=now + timedelta(days=31)) == 1
    assert _state(engine, waiting_id).state == WorkState.QUEUED


def test_a_claim_takes_expired_claims_first_then_the_oldest_queued(engine: Engine) -> None:
    first, second, third = _enqueue(engine, 3)
    now = _now(engine)
    assert [item.id for item in _claim(engine, "dead", now=now)] == [first]
    later = now + LEASE + timedelta(seconds=1)  # the dead holder's claim ran out
    assert [item.id for item in _claim(engine, "live", now=later, limit=2)] == [first, second]
    assert [item.id for item in _claim(engine, "live", now=later, limit=5)] == [third]
    assert _claim(engine, "live", now=later) == []


def test_a_claim_walks_the_state_id_index_whatever_the_backlog(sqlite_engine: Engine) -> None:
    """The plan SQLite picks for a claim: the (state, id) index in id order, no sort of every queued row."""
    params = {"now": "2026-01-01 00:00:00", "expires": "2026-01-01 00:01:00", "holder": "h", "limit": 1}
    with sqlite_engine.connect() as connection:
        for statement in _claim_statements(postgres=False, one=False):
            compiled = statement.compile(dialect=sqlite_engine.dialect)
            values = compiled.construct_params(params)
            positional = tuple(values[name] for name in compiled.positiontup or ())
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), positional)
            plan = [row[3] for row in rows]
            assert any("ix_work_item_state_id" in step for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan


ROW: dict[str, object] = {
    "task": "test.echo",
    "args": '{"n": 1}',
    "user_id": "U1",
    "channel_id": None,
    "response_url": "https://hooks.slack.com/x",
    "replace_original": False,
}


def _insert_raw(writer: RawWriter, rows: list[dict[str, object]], at: datetime) -> list[int]:
    if writer.dialect == "sqlite":
        return repo.insert_items_sqlite(writer.connection, items=rows, at=at)
    return repo.insert_items_postgres(writer.connection, items=rows, wake=CHANNEL)


def test_the_store_writers_statement_stores_rows_the_orm_reads_back_alike(engine: Engine) -> None:
    at = _now(engine)
    with session_scope(engine) as session:
        [orm_id] = repo.enqueue_many(session=session, items=[ROW], at=at)
    wakeup = Wakeup(engine)
    wakeup.listen()
    assert not wakeup.postgres or wakeup.listening.wait(10)
    writer = raw_writer(engine)
    assert writer is not None
    try:
        ids = _insert_raw(writer, [ROW, dict(ROW, user_id="U2"), dict(ROW, user_id="U3")], at)
        woken = wakeup.wait(10) if wakeup.postgres else True  # the NOTIFY goes out with the rows' commit
    finally:
        writer.close()
        wakeup.stop()
    assert woken
    assert ids == sorted(ids) and ids[0] > orm_id
    fields = ("task", "args", "state", "attempts", "max_attempts", "response_url", "replace_original")
    orm, *raw = (_state(engine, i) for i in (orm_id, *ids))
    assert all([getattr(item, f) for f in fields] == [getattr(orm, f) for f in fields] for item in raw)
    assert [item.user_id for item in raw] == ["U1", "U2", "U3"]  # each id is its own row's
    assert all(item.not_before == item.created_at >= at - timedelta(seconds=5) for item in raw)
    claimed = _claim(engine, "w", now=_now(engine), limit=5)  # timestamps compare as the ORM's do
    assert [item.id for item in claimed] == [orm_id, *ids]


def test_the_sqlite_store_waits_for_a_write_lock_another_connection_holds(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = raw_writer(sqlite_engine)
    assert writer is not None
    holder = sqlite_engine.raw_connection()
    holder.driver_connection.isolation_level = None  # type: ignore[union-attr]
    holder.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the writer found the lock taken: let it go now
        waits.append(seconds)
        if len(waits) == 1:
            holder.driver_connection.execute("COMMIT")  # type: ignore[union-attr]

    monkeypatch.setattr(storage.db.time, "sleep", sleep)
    try:
        ids = repo.insert_items_sqlite(writer.connection, items=[ROW], at=_now(sqlite_engine))
    finally:
        holder.close()
        writer.close()
    assert waits == [storage.db.LOCK_POLL_SECONDS] and len(ids) == 1
    assert _state(sqlite_engine, ids[0]).state == WorkState.QUEUED
