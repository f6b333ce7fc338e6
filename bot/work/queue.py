"""Storing acked work: one committed row per item, and a wake-up for the workers.

`enqueue` stores one item. `StoreWriter` is what the acking process uses: one thread that stores whatever
arrived while its last commit ran in one transaction (a group commit), so a burst of hundreds of commands a
second is stored in a handful of commits and each command is acked only once its row is committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from bot.work.wakeup import CHANNEL, Wakeup
from storage import repositories as repo
from storage.db import RawWriter, raw_writer, session_scope

logger = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True)
class NewItem:
    """An item to store: a task name, its JSON arguments, and where its answer goes."""

    task: str
    args: dict[str, Any]
    user_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    replace_original: bool = True


def _rows(items: list[NewItem]) -> list[dict[str, object]]:
    return [
        {
            "task": item.task,
            "args": json.dumps(item.args, sort_keys=True),
            "user_id": item.user_id,
            "channel_id": item.channel_id,
            "response_url": item.response_url,
            "replace_original": item.replace_original,
        }
        for item in items
    ]


def _store(engine: Engine, wakeup: Wakeup, items: list[NewItem]) -> list[int]:
    rows = _rows(items)
    with session_scope(engine) as session:
        now = repo.database_now(session=session)
        ids = repo.enqueue_many(session=session, items=rows, at=now)
        wakeup.notify(session)
    wakeup.poke()
    return ids


def _store_raw(writer: RawWriter, wakeup: Wakeup, items: list[NewItem]) -> list[int]:
    """The store on a connection of its own, everything prepared first, then one statement that commits itself:
    on SQLite the write lock is held for about a millisecond, so workers waiting for it get it between batches;
    on PostgreSQL it is one round trip (insert, NOTIFY, commit)."""
    rows = _rows(items)
    with writer.translated():
        if writer.dialect == "sqlite":
            ids = repo.insert_items_sqlite(writer.connection, items=rows, at=datetime.now(UTC))  # this machine's
        else:
            ids = repo.insert_items_postgres(writer.connection, items=rows, wake=CHANNEL)
    wakeup.poke()
    return ids


def enqueue(
    engine: Engine,
    wakeup: Wakeup,
    task: str,
    args: dict[str, Any],
    *,
    user_id: str | None = None,
    channel_id: str | None = None,
    response_url: str | None = None,
    replace_original: bool = True,
) -> int:
    """Store one item (committed before this returns) and wake the workers; its id."""
    item = NewItem(task, args, user_id, channel_id, response_url, replace_original)
    return _store(engine, wakeup, [item])[0]


# Who waits for a stored item's id: an asyncio future, and the loop it belongs to.
Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]


def _settle_all(futures: list[tuple[asyncio.Future[int], int | Exception]]) -> None:
    """On the loop: the results of one batch."""
    for future, result in futures:
        if future.done():  # cancelled by a caller that gave up waiting
            continue
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


class StoreWriter:
    """Stores items on one thread, batching what waits: `submit` (on the event loop) returns an asyncio future of
    the item's id, settled once the row is committed (or failed with the database's error) together with the rest
    of its batch, in one call onto the loop. It writes through a connection of its own
    (`RawWriter`), one statement a batch."""

    def __init__(self, engine: Engine, wakeup: Wakeup, *, max_batch: int = MAX_BATCH) -> None:
        self.engine, self.wakeup, self.max_batch = engine, wakeup, max_batch
        self._raw: RawWriter | None = None  # made by the writer's thread at its first batch, again after a failure
        self._queue: queue.SimpleQueue[tuple[NewItem, Waiter] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, item: NewItem) -> asyncio.Future[int]:
        """Queue `item` for the next commit (call it on the running event loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the store writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="ckb-store", daemon=True)
                self._thread.start()
            self._queue.put((item, (loop, future)))
        return future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[NewItem, Waiter]]) -> None:
        outcome: list[int] | Exception
        items = [item for item, _ in batch]
        try:
            if self._raw is None:
                self._raw = raw_writer(self.engine)
            if self._raw is not None:
                outcome = _store_raw(self._raw, self.wakeup, items)
            else:  # in-memory SQLite: the engine's own connection
                outcome = _store(self.engine, self.wakeup, items)
        except Exception as exc:  # the database: every item of the batch is told, none was stored
            logger.warning("could not store %d work item(s): %s", len(batch), type(exc).__name__)
            outcome = exc
            self._drop_raw()  # a connection that failed is not trusted with the next batch
        settled: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int | Exception]]] = {}
        for index, (_, (loop, future)) in enumerate(batch):
            result = outcome if isinstance(outcome, Exception) else outcome[index]
            settled.setdefault(loop, []).append((future, result))
        for waiting_loop, futures in settled.items():
            try:
                waiting_loop.call_soon_threadsafe(_settle_all, futures)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                logger.info("an event loop closed before %d store(s) were settled", len(futures))

    def close(self) -> None:
        """Store everything submitted so far, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()
        self._drop_raw()

    def _drop_raw(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.close()
            except Exception as exc:  # already broken: nothing to keep
                logger.info("closing the store connection failed: %s", type(exc).__name__)
