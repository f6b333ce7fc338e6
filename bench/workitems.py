"""The bot's database as the benchmarks see it: where it lives, and what its work_item rows say."""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ack_common import SetupError, percentile  # noqa: E402

SAMPLE_EVERY_S = 0.2  # how often the claim sampler reads the bot's running work items


class BenchDatabase:
    """The bot's database: a SQLite file in the temp dir, or a fresh schema on a PostgreSQL server (dropped after)."""

    def __init__(self, url: str, *, server_url: str | None = None, schema: str | None = None) -> None:
        self.url, self.server_url, self.schema = url, server_url, schema

    @property
    def kind(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    @classmethod
    def create(cls, server_url: str | None, bot_dir: Path) -> BenchDatabase:
        if server_url is None:
            return cls(f"sqlite:///{bot_dir / 'bot.db'}")
        from sqlalchemy import text

        from storage.db import make_engine

        schema = f"ckb_bench_{os.urandom(6).hex()}"
        try:
            admin = make_engine(server_url, pool_size=2)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
        except Exception as exc:
            raise SetupError(f"could not create a schema on --database-url ({type(exc).__name__})") from exc
        separator = "&" if "?" in server_url else "?"
        url = f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
        return cls(url, server_url=server_url, schema=schema)

    def drop(self) -> None:
        if self.server_url is None or self.schema is None:
            return
        from sqlalchemy import text

        from storage.db import make_engine

        admin = make_engine(self.server_url, pool_size=2)
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


class WorkWatch:
    """Reads the bot's work_item rows: created_at, started_at (the first claim) and finished_at. Without a
    started_at column (an older bot), a sampler thread reads the running items every SAMPLE_EVERY_S and records,
    on first sight, claim_expires_at minus the runner's lease (an item done within one sampling interval is never
    seen running and has no queue time)."""

    def __init__(self, database_url: str) -> None:
        from bot.work.runner import LEASE
        from storage.db import make_engine
        from storage.models import WorkItem

        self.lease = LEASE
        self.engine = make_engine(database_url, pool_size=2)
        self.model = WorkItem
        self.has_claimed_at = "started_at" in WorkItem.model_fields  # the first claim (migration 0010)
        self.claimed_at: dict[int, datetime] = {}
        self.sample_errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.has_claimed_at:
            self._thread = threading.Thread(target=self._sample_loop, name="claim-sampler", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.engine.dispose()

    def _sample_loop(self) -> None:
        from sqlalchemy import select
        from sqlmodel import col

        item = self.model
        query = select(col(item.id), col(item.claim_expires_at)).where(
            col(item.state) == "running", col(item.claim_expires_at).is_not(None)
        )
        while not self._stop.wait(SAMPLE_EVERY_S):
            try:
                with self.engine.connect() as connection:
                    rows = connection.execute(query).all()
            except Exception:  # a busy database: the next sample sees the item still running
                self.sample_errors += 1
                continue
            for item_id, expires in rows:
                if item_id is not None and item_id not in self.claimed_at and expires is not None:
                    self.claimed_at[item_id] = expires - self.lease

    def max_id(self) -> int:
        from sqlalchemy import func, select
        from sqlmodel import col

        with self.engine.connect() as connection:
            return int(connection.execute(select(func.max(col(self.model.id)))).scalar() or 0)

    def wait_idle(self, after_id: int, deadline: float) -> bool:
        """Whether every item after `after_id` is done (or given up) before `deadline`."""
        from sqlalchemy import func, select
        from sqlmodel import col

        item = self.model
        query = select(func.count()).where(col(item.id) > after_id, col(item.state).in_(("queued", "running")))
        while time.monotonic() < deadline:
            with self.engine.connect() as connection:
                if not connection.execute(query).scalar():
                    return True
            time.sleep(0.2)
        return False

    def stats(self, after_id: int, response_urls: frozenset[str] | None = None, acked: int = 0) -> dict[str, Any]:
        """States, queue time (claimed - created) and total time (finished - created) of the items stored after
        `after_id` (only those answering one of `response_urls`, when given), against the `acked` commands: an ack
        is sent only once its item is stored, so `not_stored_yet` should be 0 (wrk may miss a few in flight)."""
        from sqlalchemy import select
        from sqlmodel import col

        item = self.model
        columns = [
            col(item.id),
            col(item.state),
            col(item.created_at),
            col(item.finished_at),
            col(item.attempts),
            col(item.response_url),
        ]
        if self.has_claimed_at:
            columns.append(col(item.started_at))
        query = select(*columns).where(col(item.id) > after_id)
        with self.engine.connect() as connection:
            rows: list[Any] = list(connection.execute(query).all())
        if response_urls is not None:
            rows = [row for row in rows if row[5] in response_urls]
        now = datetime.now(UTC)
        states: dict[str, int] = {}
        queue_s: list[float] = []
        total_s: list[float] = []
        unfinished_age: list[float] = []
        retried = 0
        for row in rows:
            item_id: int = row[0]
            state: str = row[1]
            created: datetime = row[2]
            finished: datetime | None = row[3]
            attempts: int = row[4]
            states[state] = states.get(state, 0) + 1
            retried += attempts > 1
            claimed: datetime | None = row[6] if self.has_claimed_at else self.claimed_at.get(item_id)
            if claimed is not None:
                queue_s.append((claimed - created).total_seconds())
            if finished is not None:
                total_s.append((finished - created).total_seconds())
            elif state in ("queued", "running"):
                unfinished_age.append((now - created).total_seconds())
        return {
            "acked": acked,
            "items": len(rows),
            "not_stored_yet": max(0, acked - len(rows)) if acked else None,
            "states": dict(sorted(states.items())),
            "retried": retried,
            "queue_s": spread(queue_s),
            "total_s": spread(total_s),
            "oldest_unfinished_s": round(max(unfinished_age), 1) if unfinished_age else None,
            "queue_time_source": "started_at column" if self.has_claimed_at else "claim sampler",
        }


def spread(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 50), 2),
        "p99": round(percentile(ordered, 99), 2),
        "max": round(ordered[-1], 2),
    }
