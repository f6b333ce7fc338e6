"""Engine and session scope. Nothing here runs at import time."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, create_engine

from storage.models import clip_to_columns


def normalize_url(database_url: str) -> URL:
    """Pick the driver ourselves: a plain postgresql:// URL means psycopg 3."""
    url = make_url(database_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine for SQLite or PostgreSQL, creating the SQLite directory if needed.

    `pool_size` should match the number of threads that use the engine at once, so none waits for a connection.
    """
    url = normalize_url(database_url)
    if not event.contains(OrmSession, "before_flush", clip_to_columns):  # every session, jobs' too
        event.listen(OrmSession, "before_flush", clip_to_columns)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,  # SQL parameters are emails, names and reasons: never in logs or errors
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the scheduler thread read while a listener writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if url.database and url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(
        url,
        # Up to `pool_size` connections per process: several replicas must fit PostgreSQL's max_connections (100).
        pool_size=pool_size // 2,
        max_overflow=pool_size - pool_size // 2,
        pool_pre_ping=True,
        pool_timeout=30,
        connect_args={"connect_timeout": 5},
        hide_parameters=True,  # SQL parameters are emails, names and reasons: never in logs or errors
    )


# How often `execute_when_free` tries again for SQLite's write lock, and for how long.
LOCK_POLL_SECONDS = 0.0005
LOCK_WAIT_SECONDS = 30.0


@contextmanager
def _translated(engine: Engine) -> Iterator[None]:
    dbapi = engine.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as error:
        raise DBAPIError.instance(
            None, None, error, dbapi.Error, hide_parameters=True, dialect=engine.dialect
        ) from error


class RawWriter:
    """A connection of its own for one thread that stores in single statements (the acking process's store
    writer), from a one-connection engine with the usual settings, in autocommit mode: each statement is its own
    transaction, one round trip on PostgreSQL; on SQLite without a busy handler (run them with
    `execute_when_free`). `dialect` is "sqlite" or "postgresql". `close` when done."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        self._engine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
        try:
            with _translated(self._engine):  # Engine.raw_connection leaves the driver's error as it is
                self._pooled = self._engine.raw_connection()
        except Exception:
            self._engine.dispose()
            raise
        connection: Any = self._pooled.driver_connection
        if self.dialect == "sqlite":
            assert isinstance(connection, sqlite3.Connection)
            connection.isolation_level = None
            connection.execute("PRAGMA busy_timeout=0")
        else:
            connection.autocommit = True
        self.connection = connection

    def translated(self) -> AbstractContextManager[None]:
        """The driver's errors as SQLAlchemy's (an unreachable database is an OperationalError either way),
        without the statement's parameters."""
        return _translated(self._engine)

    def close(self) -> None:
        try:
            self._pooled.close()
        finally:
            self._engine.dispose()


def raw_writer(engine: Engine) -> RawWriter | None:
    """A `RawWriter` for `engine`'s database; None for in-memory SQLite (one connection's own)."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    return RawWriter(engine)


def execute_when_free(
    connection: sqlite3.Connection, sql: str, params: Sequence[object], wait: float = LOCK_WAIT_SECONDS
) -> sqlite3.Cursor:
    """One statement in its own transaction (a SQLite `RawWriter` connection), tried every LOCK_POLL_SECONDS for
    up to `wait` seconds while another connection holds the write lock. The lock is held only inside SQLite's
    one call (the statement and its commit), never while this thread waits for the GIL; and SQLite's own busy
    handler sleeps 1, 2, 5, … up to 100 ms between tries, so a writer behind a lock held for 3 ms could wait 8."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return connection.execute(sql, params)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(LOCK_POLL_SECONDS)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
