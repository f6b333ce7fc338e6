"""Storage on SQLite and PostgreSQL: migrations, leases, the ledger, audit rows, event dedupe."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

from storage import migrate
from storage import repositories as repo
from storage.db import make_engine, normalize_url, session_scope
from storage.migrate import HEAD, current_revision, downgrade, head_revision, is_current, upgrade, upgrade_if_behind
from storage.models import AccessRequest, AuditEvent, RequestState

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_plain_postgresql_url_gets_the_psycopg_driver() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_migrations_create_every_table_and_match_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    upgrade(engine)  # idempotent
    downgrade(engine, "base")
    assert not set(SQLModel.metadata.tables) & set(inspect(engine).get_table_names())
    engine.dispose()


def test_an_empty_database_is_created_at_head_with_the_migrated_schema(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert migrate.create_if_empty(engine) is True
    assert current_revision(engine) == HEAD
    assert is_current(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []  # what migrating from empty gives (the test above)
    assert migrate.create_if_empty(engine) is False  # it has tables now: left alone
    upgrade(engine)  # nothing to do at head
    downgrade(engine, "base")  # the migrations' own downgrades undo it, table by table
    assert not set(SQLModel.metadata.tables) & set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_database_with_tables_is_migrated_not_created(empty_database_url: str, mocker) -> None:
    engine = make_engine(empty_database_url)
    upgrade(engine, "0013")
    created = mocker.spy(migrate, "create_if_empty")
    assert upgrade_if_behind(engine) is True
    assert created.spy_return is False
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_head_names_the_newest_migration() -> None:
    assert head_revision() == HEAD


def test_a_start_on_a_current_database_does_not_run_alembic(empty_database_url: str, mocker) -> None:
    engine = make_engine(empty_database_url)
    assert not is_current(engine)
    assert upgrade_if_behind(engine) is True  # a fresh database is migrated
    assert current_revision(engine) == HEAD
    assert is_current(engine)
    ran = mocker.patch.object(migrate, "upgrade")
    assert upgrade_if_behind(engine) is False
    ran.assert_not_called()
    downgrade(engine, "0013")
    assert not is_current(engine)
    mocker.stopall()
    assert upgrade_if_behind(engine) is True  # one revision behind: migrated again
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_sqlite_default_directory_is_created(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'bot.db'}")
    upgrade(engine)
    assert (tmp_path / "nested" / "dir" / "bot.db").exists()
    engine.dispose()


def test_timestamps_come_back_timezone_aware(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(AccessRequest(requester_slack_id="U1", created_at=T0, updated_at=T0))
    with session_scope(engine) as session:
        row = session.exec(select(AccessRequest)).one()
    assert row.created_at == T0
    assert row.created_at.tzinfo is not None
    assert row.state == RequestState.PENDING


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive"), session_scope(engine) as session:
        session.add(AccessRequest(requester_slack_id="U1", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_ledger_records_each_key_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert repo.ledger_record(session=session, job="j", key="k1", at=T0) is True
        assert repo.ledger_record(session=session, job="j", key="k1", at=T0) is False
        assert repo.ledger_record(session=session, job="other", key="k1", at=T0) is True
        assert repo.ledger_has(session=session, job="j", key="k1")
        assert not repo.ledger_has(session=session, job="j", key="k2")


def test_lease_is_exclusive_renewable_and_expires(engine: Engine) -> None:
    ttl = timedelta(minutes=10)
    with session_scope(engine) as session:
        assert repo.try_acquire_lease(session=session, name="job", holder="a", now=T0, ttl=ttl)
    with session_scope(engine) as session:
        assert not repo.try_acquire_lease(session=session, name="job", holder="b", now=T0 + ttl / 2, ttl=ttl)
        assert repo.try_acquire_lease(session=session, name="job", holder="a", now=T0 + ttl / 2, ttl=ttl)
    with session_scope(engine) as session:  # a's renewed lease runs to T0 + 1.5 ttl
        assert not repo.try_acquire_lease(session=session, name="job", holder="b", now=T0 + ttl, ttl=ttl)
        assert repo.try_acquire_lease(session=session, name="job", holder="b", now=T0 + 2 * ttl, ttl=ttl)
    with session_scope(engine) as session:
        repo.release_lease(session=session, name="job", holder="b")
    with session_scope(engine) as session:
        assert repo.try_acquire_lease(session=session, name="job", holder="c", now=T0 + 2 * ttl, ttl=ttl)


def test_concurrent_lease_attempts_have_one_winner(engine: Engine) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(holder: str) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                if repo.try_acquire_lease(session=session, name="race", holder=holder, now=T0, ttl=timedelta(1)):
                    winners.append(holder)
        except Exception:  # noqa: S110 - a serialization failure is a loss, not a win
            pass

    threads = [threading.Thread(target=attempt, args=(f"h{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_audit_rows_keep_before_and_after(engine: Engine) -> None:
    with session_scope(engine) as session:
        repo.append_audit(
            session=session,
            action="request.approved",
            subject_type="request",
            subject_id="7",
            actor_slack_id="U1",
            before={"state": "pending"},
            after={"state": "approved"},
            at=T0,
        )
    with session_scope(engine) as session:
        row = session.exec(select(AuditEvent)).one()
    assert (row.action, row.actor_slack_id, row.at) == ("request.approved", "U1", T0)
    assert row.before == '{"state": "pending"}' and row.after == '{"state": "approved"}'


def test_event_ids_are_processed_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert repo.mark_event_processed(session=session, event_id="Ev1", now=T0)
        assert not repo.mark_event_processed(session=session, event_id="Ev1", now=T0)
        assert repo.mark_event_processed(session=session, event_id="Ev2", now=T0)
