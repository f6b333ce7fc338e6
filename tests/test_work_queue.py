"""The work-item queue on SQLite and PostgreSQL: claims with a lease, each item done once by racing workers,
expired claims taken over, retries with backoff, giving up after a bounded number of attempts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from storage import repositories as repo
from storage.db import session_scope
from storage.models import WorkItem, WorkState

LEASE = timedelta(minutes=2)


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
