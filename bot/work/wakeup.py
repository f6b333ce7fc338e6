"""Waking workers when work arrives: an in-process event everywhere, and PostgreSQL's LISTEN/NOTIFY between
processes (the acking process NOTIFYs in the transaction that stores the item; Postgres delivers it on commit).
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


class Wakeup:
    """`notify` when an item is stored; `wait` until one may be there (or `timeout` passes)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._event = threading.Event()
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self.listening = threading.Event()  # set once LISTEN is in place (NOTIFYs from then on arrive)

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
        """On PostgreSQL, start a thread that turns NOTIFYs from other processes into wake-ups."""
        if not self.postgres or self._listener is not None:
            return
        self._listener = threading.Thread(target=self._listen, name="ckb-work-listen", daemon=True)
        self._listener.start()

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
