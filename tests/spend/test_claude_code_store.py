"""Finished Claude Code days in the database (bot/spend/claude_code_store.py): stored the first time they are
read, read back without an Admin API call by any later answer (a fresh process's deps: an empty memory cache),
never stored while still within the report's lag, and giving answers identical to the API's. SQLite and
PostgreSQL (the `make_deps` fixture is parametrised)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.deps import Deps
from bot.sandbox.anthropic import AnthropicStandIn
from bot.spend import blocks_claude_code, claude_code, claude_code_store
from bot.spend.claude_code import CCPeriod, CCQuery, CCScope
from storage import repositories as repo
from storage.db import session_scope
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PATH = r"/v1/organizations/usage_report/claude_code"


def org_answer(deps: Deps, period: CCPeriod = CCPeriod.D7) -> tuple[str, str]:
    report = claude_code.claude_code_report(deps, "U0ADMIN", CCQuery(CCScope.ORG, period))
    assert isinstance(report, claude_code.OrgReport)
    reply = blocks_claude_code.org_reply(report, period, deps.settings.tz)
    return reply.text or "", json.dumps([b.to_dict() for b in reply.blocks or []])


def me_answer(deps: Deps) -> str:
    report = claude_code.claude_code_report(deps, "U0DEV", CCQuery(CCScope.ME, CCPeriod.D7))
    assert isinstance(report, claude_code.PersonReport)
    reply = blocks_claude_code.person_reply(report, CCPeriod.D7, deps.settings.tz)
    return json.dumps([b.to_dict() for b in reply.blocks or []])


def stored(deps: Deps, days: list[date]) -> dict[date, int]:
    with session_scope(deps.engine) as session:
        return {d: len(rows) for d, (_, rows) in repo.claude_code_days(session=session, days=days).items()}


def seed(standin: AnthropicStandIn) -> None:
    """Two records of one person on one day (two terminals), an API key, a person's key, a euro cost, and days
    of the week with no records at all."""
    dev_id = standin.seeded["developer"]["id"]
    standin.add_api_key(name="dev-laptop", workspace_id=standin.seeded["workspace"]["id"], created_by_user_id=dev_id)
    d2, d4 = TODAY - timedelta(days=2), TODAY - timedelta(days=4)
    standin.add_claude_code(
        day=d4,
        email="Dev@Example.com",
        sessions=4,
        lines_added=300,
        lines_removed=20,
        commits=3,
        pull_requests=1,
        tools={"edit_tool": (9, 1), "write_tool": (2, 2)},
        models=[("claude-sonnet-4-5", 1234, {"input": 100}), ("claude-haiku-4-5", 5, {})],
    )
    standin.add_claude_code(
        day=d4, email="dev@example.com", sessions=1, terminal_type="iterm", models=[("claude-sonnet-4-5", 1, {})]
    )
    standin.add_claude_code(day=d2, api_key_name="dev-laptop", sessions=2, models=[("claude-opus-4", 50, {})])
    standin.add_claude_code(day=d2, api_key_name="ci", sessions=30, lines_added=1, models=[("claude-opus-4", 777, {})])
    euro = standin.add_claude_code(day=d2, email="eu@example.com", lines_added=70, models=[("claude-opus-4", 9, {})])
    euro["model_breakdown"][0]["estimated_cost"]["currency"] = "EUR"
    standin.add_claude_code(day=TODAY, email="dev@example.com", sessions=5, models=[("claude-sonnet-4-5", 300, {})])


def test_a_stored_day_is_read_without_an_api_call_in_a_fresh_process(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn
) -> None:
    seed(anthropic_standin)
    first = make_deps(clock=lambda: NOW)
    from_api = org_answer(first)
    mine_from_api = me_answer(first)
    assert anthropic_standin.count("GET", PATH) == 7
    week = claude_code.period_days(CCPeriod.D7, NOW)
    # Every finished day is stored (empty ones too, so they aren't asked for again); today is not.
    assert stored(first, week) == {
        d: {TODAY - timedelta(days=4): 1, TODAY - timedelta(days=2): 3}.get(d, 0) for d in week if d != TODAY
    }
    anthropic_standin.reset_requests()
    again = make_deps(clock=lambda: NOW)  # another worker, or after a restart: nothing in memory
    assert org_answer(again) == from_api
    assert me_answer(again) == mine_from_api
    asked = [r.query["starting_at"][0] for r in anthropic_standin.matching("GET", PATH)]
    assert asked == [TODAY.isoformat()]  # only the day that can still change


def test_stored_sums_are_exact_and_per_actor(make_deps: DepsFactory, anthropic_standin: AnthropicStandIn) -> None:
    seed(anthropic_standin)
    deps = make_deps(clock=lambda: NOW)
    claude_code.fetch_days(deps, [TODAY - timedelta(days=4), TODAY - timedelta(days=2)])
    fresh = make_deps(clock=lambda: NOW)
    days = claude_code_store.stored_days(fresh, [TODAY - timedelta(days=4), TODAY - timedelta(days=2)])
    (dev,) = days[TODAY - timedelta(days=4)].actors
    assert (dev.kind, dev.actor, dev.sessions, dev.lines_added, dev.tool_accepted, dev.tool_rejected) == (
        "user",
        "dev@example.com",
        5,
        300,
        11,
        3,
    )
    assert sorted(dev.costs) == [
        ("USD", "claude-haiku-4-5", Decimal("0.05"), 1),
        ("USD", "claude-sonnet-4-5", Decimal("12.35"), 2),
    ]
    kinds = sorted((a.kind, a.actor) for a in days[TODAY - timedelta(days=2)].actors)
    assert kinds == [("api_key", "ci"), ("api_key", "dev-laptop"), ("user", "eu@example.com")]
    euro = next(a for a in days[TODAY - timedelta(days=2)].actors if a.actor == "eu@example.com")
    assert euro.costs == (("EUR", "claude-opus-4", Decimal("0.09"), 1),)


def test_a_day_within_the_lag_is_never_stored(make_deps: DepsFactory, anthropic_standin: AnthropicStandIn) -> None:
    now = [datetime(2026, 11, 20, 5, 58, tzinfo=UTC)]  # 2 minutes before yesterday's lag ends
    yesterday = date(2026, 11, 19)
    anthropic_standin.add_claude_code(day=yesterday, email="a@example.com", models=[("m", 100, {})])
    deps = make_deps(clock=lambda: now[0])
    org_answer(deps)
    assert yesterday not in stored(deps, [yesterday]) and date(2026, 11, 20) not in stored(deps, [date(2026, 11, 20)])
    assert date(2026, 11, 18) in stored(deps, [date(2026, 11, 18)])
    # Read within the lag and still in memory once the day is final: not stored from that early read either.
    now[0] += timedelta(minutes=3)
    assert claude_code.day_is_final(yesterday, now[0])
    org_answer(deps)
    assert yesterday not in stored(deps, [yesterday])
    # Read again once final (the early read has left the memory cache): stored, with the figures of then.
    anthropic_standin.add_claude_code(day=yesterday, email="late@example.com", models=[("m", 50, {})])
    now[0] += timedelta(minutes=10)
    text, _ = org_answer(deps)
    assert stored(deps, [yesterday]) == {yesterday: 2} and "$1.50" in text


def test_a_second_writer_of_the_same_day_keeps_the_first_copy(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn
) -> None:
    day = TODAY - timedelta(days=3)
    anthropic_standin.add_claude_code(day=day, email="a@example.com", models=[("m", 100, {})])
    one, two = make_deps(clock=lambda: NOW), make_deps(clock=lambda: NOW)
    (read_one,), _ = claude_code.fetch_days(one, [day])
    (read_two,), _ = claude_code.fetch_days(two, [day])  # read from the database: no second copy attempted
    assert read_two == read_one
    assert claude_code_store.store_days(two, [read_one]) == 0  # a late second writer is a no-op, not an error
    assert stored(one, [day]) == {day: 1}
