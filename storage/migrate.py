"""Apply Alembic migrations programmatically (`claude-key-bot migrate`, and on start).

Alembic is imported only when a migration runs or the scripts are read: a start on a current database checks
`alembic_version` against HEAD with one query, which saves the acking process about 0.3 s of its start-up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every replica starting at once.
_PG_LOCK_ID = 0x6B657962
# This version's newest revision (tests/test_storage.py checks it against the scripts' head): a new migration
# moves it.
HEAD = "0014"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision(s) shipped with this version, comma-joined when features branch."""
    from alembic.script import ScriptDirectory

    heads = sorted(ScriptDirectory.from_config(_config()).get_heads())
    return ",".join(heads) or None


def known_revision(revision: str) -> bool:
    """True when `revision` is one this version ships (an older or the current schema, not a newer one)."""
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own CommandError / ResolutionError for an unknown id
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision(s) the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return ",".join(heads) or None


def is_current(engine: Engine) -> bool:
    """True when the database is at this version's newest revision: `alembic_version` holds HEAD and nothing else,
    read with one query (False when there is no such table)."""
    try:
        with engine.connect() as connection:
            stored = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:  # never migrated
        return False
    return stored == {HEAD}


def _take_turns(connection: Connection) -> None:
    """On PostgreSQL, hold the schema lock until this transaction ends, so replicas change the schema in turn."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})


def create_if_empty(engine: Engine) -> bool:
    """On a database without a single table: the models' tables and indexes and `alembic_version` at HEAD, in
    one transaction, as Alembic's `stamp` leaves it; the same schema as migrating from empty
    (tests/test_storage.py compares the two), without importing Alembic or running 14 scripts. False, and
    nothing done, when the database has any table: then it is migrated."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    with engine.begin() as connection:
        _take_turns(connection)  # replicas starting together: one creates, the rest see it
        if inspect(connection).get_table_names():
            return False
        SQLModel.metadata.create_all(connection)
        version.create(connection)
        connection.execute(version.insert().values(version_num=HEAD))
    return True


def upgrade_if_behind(engine: Engine) -> bool:
    """`upgrade` unless the database is at HEAD already (then Alembic is not even imported); whether it ran. An
    empty database is created at HEAD (`create_if_empty`) rather than migrated."""
    if is_current(engine):
        return False
    if not create_if_empty(engine):
        upgrade(engine)
    return True


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Migrate to `revision`; replicas starting together on PostgreSQL take turns."""
    from alembic import command

    with engine.begin() as connection:
        _take_turns(connection)
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to `revision` (tests and emergencies)."""
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)
