"""Shared fixtures: databases (SQLite and PostgreSQL), settings and deps pointed at the stand-ins,
and the bot served over real HTTP on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.migrate import upgrade

# Stand-ins listen on loopback; a proxy in the environment must never see test traffic. NO_PROXY alone is not
# enough: the aiohttp-based async Slack clients hand HTTPS_PROXY to aiohttp without consulting it. Bot processes
# started by tests inherit this environment.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
for _name in (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "DATABASE_URL",
):
    os.environ.pop(_name, None)

pytest_plugins = ["tests.secret_scan"]  # no secret in logs, Slack traffic or uploads

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The PostgreSQL server URL; in CI an unreachable server fails the run instead of skipping."""
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL unreachable at {POSTGRES_URL} ({type(exc).__name__})"
        if _postgres_required():
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()
    yield POSTGRES_URL


def _fresh_postgres_schema(server_url: str) -> tuple[str, str]:
    schema = f"ckb_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in server_url else "?"
    return schema, f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"


def _drop_postgres_schema(server_url: str, schema: str) -> None:
    admin = make_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database on each backend: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    schema, url = _fresh_postgres_schema(server)
    try:
        yield url
    finally:
        _drop_postgres_schema(server, schema)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A migrated database on each backend."""
    engine = make_engine(empty_database_url)
    upgrade(engine)
    engine.dispose()
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated database (SQLite and PostgreSQL)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A migrated SQLite database, for tests that do not touch storage semantics."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = create_engine(url)
    engine.dispose()
    migrated = make_engine(url)
    upgrade(migrated)
    migrated.dispose()
    return url


# --- the stand-ins (bot/sandbox/) ----------------------------------------------------------------------------

from bot.sandbox.anthropic import AnthropicStandIn  # noqa: E402
from bot.sandbox.loopback import PROXY_VARIABLES, with_loopback  # noqa: E402
from bot.sandbox.slack import SlackStandIn, seed_default_directory  # noqa: E402


@pytest.fixture
def slack_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStandIn]:
    """A running Slack stand-in with :func:`seed_default_directory` applied.

    For the test's duration the proxy variables are removed and NO_PROXY covers loopback (see
    bot/sandbox/loopback.py), so both the sync and the async slack_sdk clients reach the stand-in.
    """
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, with_loopback(os.environ.get(name)))
    with SlackStandIn() as standin:
        seed_default_directory(standin)
        yield standin


@pytest.fixture
def anthropic_standin() -> Iterator[AnthropicStandIn]:
    """A started Admin API stand-in with org "Stand-in Org", admin@example.com (admin), dev@example.com
    (developer) and workspace "default-ws" (``standin.seeded`` holds their JSON)."""
    standin = AnthropicStandIn()
    standin.seed_basic()
    with standin:
        yield standin


# --- the bot, wired to the stand-ins -------------------------------------------------------------------------

from bot.config import Settings  # noqa: E402
from bot.deps import Deps, build_deps  # noqa: E402
from tests.botserver import SIGNING_SECRET, BotServer  # noqa: E402

if TYPE_CHECKING:
    from bot.app import BotApp


def make_settings(slack, anthropic, database_url: str, **overrides) -> Settings:
    """Settings pointing every client at the stand-ins (no .env, no environment needed)."""
    values = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": slack.app_token,
        "slack_api_url": slack.base_url,
        "anthropic_admin_key": anthropic.admin_key,
        "anthropic_base_url": anthropic.base_url,
        "database_url": database_url,
        "admin_channel_id": "C0ADMIN",
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(slack_standin, anthropic_standin, sqlite_url: str) -> Settings:
    """Settings for the stand-ins on a migrated SQLite database."""
    return make_settings(slack_standin, anthropic_standin, sqlite_url)


@pytest.fixture
def deps(settings: Settings) -> Iterator[Deps]:
    """Real dependencies (engine, Slack client, Admin API gateway) pointed at the stand-ins."""
    built = build_deps(settings)
    yield built
    built.close()


@pytest.fixture
def bot_app(settings: Settings, deps: Deps) -> BotApp:
    """The Bolt app with every listener, on the stand-ins."""
    from bot.app import create_app

    return create_app(settings, deps)


@pytest.fixture
def bot_url(bot_app: BotApp, deps: Deps) -> Iterator[str]:
    """The bot's HTTP endpoint (POST /slack/events, GET /healthz) on loopback."""
    from bot.http import create_web_app

    server = BotServer(create_web_app(bot_app, deps)).start()
    yield server.url
    server.stop()


class Clock:
    """A settable clock for `deps.clock`; given the Admin API stand-in, its "data as of" follows the clock."""

    def __init__(self, now: datetime, standin: Any = None) -> None:
        self.standin = standin
        self.set(now)

    def set(self, now: datetime) -> None:
        """Jump to `now`."""
        self.now = now
        if self.standin is not None:
            self.standin.data_refreshed_at = now
            self.standin.clock_now = now

    def advance(self, **delta: float) -> datetime:
        """Step forward by `timedelta(**delta)`."""
        self.set(self.now + timedelta(**delta))
        return self.now

    def __call__(self) -> datetime:
        return self.now


DepsFactory = Callable[..., Deps]


@pytest.fixture
def make_deps(settings: Settings, engine: Engine) -> Iterator[DepsFactory]:
    """Build real deps on the parametrized database (SQLite and PostgreSQL): `make_deps(clock=…, **settings)`."""
    made: list[Deps] = []

    def make(*, clock: Callable[[], datetime] | None = None, **overrides: Any) -> Deps:
        built = build_deps(settings.model_copy(update=overrides) if overrides else settings)
        built.engine.dispose()
        built.engine = engine
        if clock is not None:
            built.clock = clock
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()
