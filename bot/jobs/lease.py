"""A job's lease while it runs: a holder id unique per process, and a heartbeat that keeps the lease alive.

The lease's expiry is measured on the database's clock (`storage.repositories.jobs.database_now`), so a
replica whose own clock runs ahead can't take a lease that is still live.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy.engine import Engine

from storage import repositories as repo
from storage.db import session_scope

logger = logging.getLogger(__name__)

# A crashed holder's lease expires within this, so its job runs again on the next fire.
LEASE_TTL = timedelta(minutes=10)
# How often a running job extends its lease (to the database's now + LEASE_TTL): many renewals per TTL, so
# one slow or failed renewal doesn't lose it.
LEASE_RENEW_EVERY = timedelta(minutes=1)

_tokens: dict[int, str] = {}


def holder_id() -> str:
    """This process, as a lease holder: hostname:pid plus a random token, since two containers can both be PID 1
    on hosts with the same name. The token is per process (a forked child gets its own)."""
    pid = os.getpid()
    token = _tokens.setdefault(pid, uuid.uuid4().hex[:12])
    return f"{socket.gethostname()[:80]}:{pid}:{token}"


class LeaseLost(BaseException):
    """The run's lease was taken over or vanished: it must stop sending.

    A BaseException so the per-item `except Exception` of the jobs can't swallow it; `run_job` catches it.
    """


class Heartbeat:
    """Renews a held lease every `every` until stopped; `lost` is set once a renewal finds it isn't ours."""

    def __init__(self, engine: Engine, *, name: str, holder: str, ttl: timedelta, every: timedelta) -> None:
        self._engine, self._name, self._holder, self._ttl = engine, name, holder, ttl
        self._every = every.total_seconds()
        self._stop = threading.Event()
        self.lost = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def check(self) -> None:
        """Raise `LeaseLost` when the lease is no longer this run's."""
        if self.lost.is_set():
            raise LeaseLost(self._name)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                with session_scope(self._engine) as session:
                    held = repo.renew_lease(session=session, name=self._name, holder=self._holder, ttl=self._ttl)
            except Exception:  # a database blip: the next beat tries again, well within the TTL
                logger.warning("job %s: renewing its lease failed; retrying", self._name, exc_info=True)
                continue
            if not held:
                logger.warning("job %s lost its lease to another replica: stopping", self._name)
                self.lost.set()
                return
