"""Waking workers when work arrives: an in-process event everywhere, and between processes PostgreSQL's
LISTEN/NOTIFY (the acking process NOTIFYs in the transaction that stores the item; Postgres delivers it on
commit) or, on SQLite, one thread per worker process that looks for a new item every 50 ms (one indexed read).
A worker that misses a wake-up still finds the item on its next poll."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

logger = logging.getLogger(__name__)

CHANNEL = "claude_key_bot_work"
# How often a worker process on SQLite looks for items another process stored (one indexed read, 20 a second).
# At 100 ms the pick-up of bench/usage_latency.py reached 105-165 ms at its slowest; new work should wait ~100.
SQLITE_POLL_SECONDS = 0.05


class Wakeup:
    """`notify` when an item is stored; `wait` until one may be there (or `timeout` passes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self.listening = threading.Event()  # set once LISTEN is in place (NOTIFYs from then on arrive)
        # On SQLite, poll for items stored by other processes (a worker process sets this; the acking process
        # and tests in one process don't need it).
        self.sqlite_poll: float | None = None

    @property
    def postgres(self) -> bool:
        """Whether other processes can be woken (LISTEN/NOTIFY)."""
        return self.engine.dialect.name == "postgresql"

    def notify(self, session: Session) -> None:
        """Wake other processes' workers when `session` commits (call `poke` after the commit for this one's)."""
        if self.postgres:
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    def poke(self) -> None:
        """Wake this process's workers."""
        self._event.set()

    def notify_later(self, seconds: float) -> None:
        """Wake this process's workers after `seconds` (an item retried with backoff comes due then)."""
        timer = threading.Timer(seconds, self._event.set)
        timer.daemon = True
        timer.start()

    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True when woken."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken

    def listen(self) -> None:
        """Start a thread that turns other processes' new items into wake-ups: NOTIFYs on PostgreSQL, a short
        poll on SQLite when `sqlite_poll` is set."""
        if self._listener is not None:
            return
        if self.postgres:
            self._listener = threading.Thread(target=self._listen, name="ckb-work-listen", daemon=True)
        elif self.sqlite_poll is not None:
            self._listener = threading.Thread(target=self._poll_sqlite, name="ckb-work-poll", daemon=True)
        else:
            return
        self._listener.start()

    def _poll_sqlite(self) -> None:
        assert self.sqlite_poll is not None
        newest: int | None = None
        while not self._stopping.is_set():
            try:
                with self.engine.connect() as connection:
                    found = connection.execute(text("SELECT max(id) FROM work_item")).scalar()
                self.listening.set()
                if found is not None and found != newest:
                    newest = found
                    self._event.set()
            except Exception as exc:  # the database is busy or gone: the workers' own poll still runs
                logger.debug("work poll failed: %s", type(exc).__name__)
            self._stopping.wait(self.sqlite_poll)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            pooled = None
            try:
                pooled = self.engine.raw_connection()
                pooled.detach()  # a LISTENing autocommit connection never goes back to the pool
                raw: Any = pooled.dbapi_connection
                raw.rollback()
                raw.autocommit = True
                raw.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                while not self._stopping.is_set():
                    for _ in raw.notifies(timeout=1.0, stop_after=1):
                        self._event.set()
            except Exception as exc:  # the database went away: poll until it is back
                self.listening.clear()
                logger.warning("work wake-ups unavailable (%s); workers poll", type(exc).__name__)
                self._stopping.wait(5)
            finally:
                if pooled is not None:
                    with contextlib.suppress(Exception):
                        pooled.close()

    def stop(self) -> None:
        """Stop listening and wake every waiting worker."""
        self._stopping.set()
        self._event.set()


_BY_ENGINE: dict[int, Wakeup] = {}
_BY_ENGINE_LOCK = threading.Lock()


def wakeup_for(engine: Engine) -> Wakeup:
    """The one Wakeup of `engine` in this process (what stores items and what runs them share it)."""
    with _BY_ENGINE_LOCK:
        found = _BY_ENGINE.get(id(engine))
        if found is None or found.engine is not engine:
            found = _BY_ENGINE[id(engine)] = Wakeup(engine)
        return found
