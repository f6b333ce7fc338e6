"""Apply Alembic migrations programmatically (`claude-key-bot migrate`, and on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every replica starting at once.
_PG_LOCK_ID = 0x6B657962


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision(s) shipped with this version, comma-joined when features branch."""
    heads = sorted(ScriptDirectory.from_config(_config()).get_heads())
    return ",".join(heads) or None


def known_revision(revision: str) -> bool:
    """True when `revision` is one this version ships (an older or the current schema, not a newer one)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own CommandError / ResolutionError for an unknown id
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision(s) the database is at (None when never migrated)."""
    with engine.connect() as connection:
        heads = sorted(MigrationContext.configure(connection).get_current_heads())
    return ",".join(heads) or None


def is_current(engine: Engine) -> bool:
    """True when the database is at this version's newest revision(s)."""
    return current_revision(engine) == head_revision()


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Migrate to `revision`; replicas starting together on PostgreSQL take turns."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        command.upgrade(_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate down to `revision` (tests and emergencies)."""
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)
