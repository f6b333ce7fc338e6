"""The `slack-directory` job stores `users.list` (paged, deleted people and bots included); the whole-org key jobs
read it instead of one `users.lookupByEmail` per owner, look up only a capped number of misses, and stop at the
first 429 that outlasts the client's retries (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select

from bot.deps import Deps
from bot.directory import PAGE_SIZE, remember_user
from bot.keys.owners import MAX_LOOKUPS
from bot.registry import run_job
from storage import repositories as repo
from storage.db import session_scope
from storage.models import SlackUser
from tests.botserver import BotServer, event_body, signed_headers
from tests.conftest import DepsFactory
from tests.keys.support import add_key, ids

_now = datetime.now(UTC)
# A Monday 09:00 UTC in the future: the stand-in's real clock agrees with the bot about every key's status.
MONDAY = (_now + timedelta(days=7 - _now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def ddeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: MONDAY)


def _people(slack_standin, count: int) -> None:
    for i in range(count):
        slack_standin.add_user(f"U1{i:05d}", name=f"p{i}", email=f"Person{i}@Example.com")


def _map(deps: Deps) -> dict[str, str]:
    with session_scope(deps.engine) as session:
        return repo.slack_ids_by_email(session=session)


def test_the_directory_is_paged_and_stored(ddeps: Deps, slack_standin) -> None:
    _people(slack_standin, 2 * PAGE_SIZE + 50)
    slack_standin.add_user("U0GONE", name="gone", email="gone@example.com", deleted=True)
    slack_standin.add_user("U0BOT", name="robot", email="robot@example.com", is_bot=True)
    slack_standin.reset_calls()
    result = run_job("slack-directory", ddeps, out=lambda _: None)
    assert result is not None and not result.errors
    assert len(slack_standin.calls_to("users.list")) >= 3  # 200 a page
    found = _map(ddeps)
    assert found["person7@example.com"] == "U100007" and found["dev@example.com"] == "U0DEV"
    assert "gone@example.com" not in found and "robot@example.com" not in found
    with session_scope(ddeps.engine) as session:
        gone = session.get(SlackUser, "U0GONE")
        assert gone is not None and gone.deleted
    again = run_job("slack-directory", ddeps, out=lambda _: None)  # a rerun updates, never duplicates
    assert again is not None and not again.errors and _map(ddeps) == found


def test_a_dry_run_stores_nothing(ddeps: Deps, slack_standin) -> None:
    printed: list[str] = []
    run_job("slack-directory", ddeps, dry_run=True, out=printed.append)
    assert any("would store" in line for line in printed)
    with session_scope(ddeps.engine) as session:
        assert session.exec(select(SlackUser)).all() == []


def test_a_rate_limit_stops_the_directory_run(ddeps: Deps, slack_standin) -> None:
    _people(slack_standin, PAGE_SIZE + 10)
    slack_standin.inject("users.list", retry_after=120, times=3)
    result = run_job("slack-directory", ddeps, out=lambda _: None)
    assert result is not None and any("rate-limited" in e and "next run" in e for e in result.errors)
    assert len(slack_standin.calls_to("users.list")) == 1  # a 120 s Retry-After is not slept through


def test_reminders_read_the_directory_not_one_lookup_per_owner(ddeps: Deps, slack_standin, anthropic_standin) -> None:
    _, _, ws = ids(anthropic_standin)
    for i in range(30):
        slack_standin.add_user(f"U2{i:04d}", name=f"o{i}", email=f"owner{i}@example.com")
        owner = anthropic_standin.add_user(f"owner{i}@example.com", role="developer")["id"]
        add_key(anthropic_standin, f"k{i}", owner=owner, workspace=ws, created=MONDAY - timedelta(days=89))
    run_job("slack-directory", ddeps, out=lambda _: None)
    slack_standin.reset_calls()
    result = run_job("rotation-reminders", ddeps, out=lambda _: None)
    assert result is not None and result.sent >= 30
    assert slack_standin.calls_to("users.lookupByEmail") == []


def test_lookups_stop_at_the_first_lasting_429_and_resume(ddeps: Deps, slack_standin, anthropic_standin) -> None:
    """No directory yet: 40 owners, Slack answers 429 with Retry-After 60: one call, not 40."""
    _, _, ws = ids(anthropic_standin)
    for i in range(40):
        slack_standin.add_user(f"U3{i:04d}", name=f"r{i}", email=f"rl{i}@example.com")
        owner = anthropic_standin.add_user(f"rl{i}@example.com", role="developer")["id"]
        add_key(anthropic_standin, f"r{i}", owner=owner, workspace=ws, created=MONDAY - timedelta(days=89))
    slack_standin.inject("users.lookupByEmail", retry_after=60, times=100)
    result = run_job("rotation-reminders", ddeps, out=lambda _: None)
    assert result is not None
    assert len(slack_standin.calls_to("users.lookupByEmail")) == 1
    assert any("wait for the next run" in n for n in result.notes)
    assert [d for i in range(40) if (d := slack_standin.dms_to(f"U3{i:04d}"))] == []


def test_lookups_of_misses_are_capped_once_the_directory_is_stored(
    ddeps: Deps, slack_standin, anthropic_standin
) -> None:
    _, _, ws = ids(anthropic_standin)
    run_job("slack-directory", ddeps, out=lambda _: None)  # the directory knows the seeded people only
    for i in range(MAX_LOOKUPS + 10):
        owner = anthropic_standin.add_user(f"nobody{i}@example.com", role="developer")["id"]
        add_key(anthropic_standin, f"n{i}", owner=owner, workspace=ws, created=MONDAY - timedelta(days=89))
    slack_standin.reset_calls()
    result = run_job("rotation-reminders", ddeps, out=lambda _: None)
    assert result is not None
    assert len(slack_standin.calls_to("users.lookupByEmail")) == MAX_LOOKUPS


def test_a_user_change_event_updates_one_person(ddeps: Deps, settings, slack_standin) -> None:
    from bot.app import create_app
    from bot.http import create_web_app

    remember_user(ddeps, {"id": "U0PAT", "profile": {"email": "pat@example.com"}, "real_name": "Pat"})
    assert _map(ddeps)["pat@example.com"] == "U0PAT"
    server = BotServer(create_web_app(create_app(settings, ddeps), ddeps)).start()
    try:
        event = {
            "type": "user_change",
            "user": {"id": "U0PAT", "deleted": True, "profile": {"email": "pat@example.com"}},
        }
        body = event_body(event, event_id="EvUSERCHANGE1")
        with httpx.Client() as client:
            answer = client.post(
                f"{server.url}/slack/events",
                content=body,
                headers=signed_headers(body, content_type="application/json"),
            )
        assert answer.status_code == 200
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while "pat@example.com" in _map(ddeps) and datetime.now(UTC) < deadline:
            time.sleep(0.05)  # polling the database with a deadline
        assert "pat@example.com" not in _map(ddeps)
        with session_scope(ddeps.engine) as session:
            assert session.exec(select(SlackUser).where(col(SlackUser.deleted))).all()
    finally:
        server.stop()
