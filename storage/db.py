"""Engine and session scope. Nothing here runs at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, make_url
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
