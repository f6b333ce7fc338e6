"""`/claude-key claude-code` (alias `cc`): parsing, who sees what, per-day activity, the org's top lists with Slack
mentions from the stored directory, API-key actors, paging across days, the cache, and the answer over HTTP.

Service tests run on SQLite and PostgreSQL (the directory lookup is a query) with an injected clock; the
end-to-end ones go through the bot's HTTP endpoint to the Slack and Admin API stand-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.deps import Deps
from bot.sandbox.anthropic import AnthropicStandIn
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.commands import Sub, parse
from bot.slack.reply import Reply
from bot.spend import blocks_claude_code, claude_code
from bot.spend.claude_code import CCPeriod, CCQuery, CCScope, ClaudeCodeSyntaxError, parse_claude_code
from storage import repositories as repo
from storage.db import session_scope
from storage.models import SlackUser
from tests.botserver import command_body, post_slack
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
PATH = r"/v1/organizations/usage_report/claude_code"


def answer(deps: Deps, slack_user_id: str, query: CCQuery) -> Reply:
    """The service's report, rendered as the task renders it."""
    report = claude_code.claude_code_report(deps, slack_user_id, query)
    if isinstance(report, claude_code.OrgReport):
        return blocks_claude_code.org_reply(report, query.period, deps.settings.tz)
    return blocks_claude_code.person_reply(report, query.period, deps.settings.tz)


def rendered(reply: Reply) -> str:
    return json.dumps([b.to_dict() for b in reply.blocks or []], ensure_ascii=False)


# --- parsing (pure) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), CCQuery(CCScope.ME, CCPeriod.D7)),
        (("me",), CCQuery(CCScope.ME, CCPeriod.D7)),
        (("30d",), CCQuery(CCScope.ME, CCPeriod.D30)),
        (("ORG", "MTD"), CCQuery(CCScope.ORG, CCPeriod.MTD)),
        (("<@U0DEV|dev>", "7d"), CCQuery(CCScope.USER, CCPeriod.D7, slack_user_id="U0DEV")),
    ],
)
def test_parse_claude_code(args: tuple[str, ...], expected: CCQuery) -> None:
    assert parse_claude_code(args) == expected


@pytest.mark.parametrize("args", [("@dev",), ("org", "today"), ("workspace", "x"), ("me", "org"), ("90d",)])
def test_bad_arguments_get_the_usage_line(args: tuple[str, ...]) -> None:
    with pytest.raises(ClaudeCodeSyntaxError, match="/claude-key claude-code"):
        parse_claude_code(args)


def test_the_alias_cc_parses_to_claude_code() -> None:
    assert parse("cc org 30d").sub is Sub.CLAUDE_CODE and parse("cc org 30d").args == ("org", "30d")
    assert parse("CC").sub is Sub.CLAUDE_CODE
    assert parse("claude-code me").sub is Sub.CLAUDE_CODE


def test_periods_are_utc_days_with_today() -> None:
    assert claude_code.period_days(CCPeriod.D7, NOW) == [TODAY - timedelta(days=6 - i) for i in range(7)]
    assert len(claude_code.period_days(CCPeriod.D30, NOW)) == 30
    mtd = claude_code.period_days(CCPeriod.MTD, NOW)
    assert mtd[0] == date(2026, 11, 1) and mtd[-1] == TODAY


# --- services on both databases -------------------------------------------------------------------------------


@pytest.fixture
def cdeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: NOW)


def store_directory(deps: Deps, people: dict[str, str]) -> None:
    """The stored Slack directory (what the `slack-directory` job writes): Slack id -> email."""
    rows = [
        SlackUser(slack_user_id=sid, email=email, name=sid, deleted=False, is_bot=False)
        for sid, email in people.items()
    ]
    with session_scope(deps.engine) as session:
        repo.save_slack_users(session=session, users=rows, at=NOW)


def seed_week(standin: AnthropicStandIn) -> None:
    """Dev on two days (one of them also through a key dev created), the admin, a stranger, and a CI key."""
    dev_id = standin.seeded["developer"]["id"]
    standin.add_api_key(name="dev-laptop", workspace_id=standin.seeded["workspace"]["id"], created_by_user_id=dev_id)
    d1, d3 = TODAY - timedelta(days=1), TODAY - timedelta(days=3)
    standin.add_claude_code(
        day=d3,
        email="Dev@Example.com",
        sessions=4,
        lines_added=300,
        lines_removed=20,
        commits=3,
        pull_requests=1,
        tools={"edit_tool": (9, 1)},
        models=[("claude-sonnet-4-5", 1234, {"input": 100}), ("claude-haiku-4-5", 5, {})],
    )
    standin.add_claude_code(
        day=d1, email="dev@example.com", sessions=1, lines_added=10, models=[("claude-sonnet-4-5", 100, {})]
    )
    standin.add_claude_code(
        day=d1, api_key_name="dev-laptop", sessions=2, lines_added=5, models=[("claude-opus-4", 50, {})]
    )
    standin.add_claude_code(
        day=d1, email="admin@example.com", sessions=9, lines_added=5000, models=[("claude-opus-4", 99999, {})]
    )
    standin.add_claude_code(
        day=d3, email="stranger@example.com", sessions=1, lines_added=7000, models=[("claude-sonnet-4-5", 10, {})]
    )
    standin.add_claude_code(
        day=d1, api_key_name="ci-pipeline", sessions=30, lines_added=1, models=[("claude-sonnet-4-5", 777, {})]
    )


def test_me_is_my_email_plus_the_keys_i_created_per_day(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    seed_week(anthropic_standin)
    reply = answer(cdeps, "U0DEV", CCQuery(CCScope.ME, CCPeriod.D7))
    text = rendered(reply)
    # 1234 + 5 + 100 + 50 cents: dev's own records and dev-laptop's, not the admin's, stranger's or CI's.
    assert reply.text.startswith("Claude Code for you, the last 7 days") and "$13.89" in reply.text
    assert "7 sessions" in text and "+315 / -20 lines" in text and "3 commits" in text and "1 pull requests" in text
    assert "90% of edits accepted (9 of 10)" in text
    assert "`claude-sonnet-4-5` $13.34" in text and "`claude-opus-4` $0.50" in text
    assert "999.99" not in text and "$7.77" not in text
    # Each of the 7 days is listed; days without records say so.
    assert text.count("no activity") == 5
    d3 = TODAY - timedelta(days=3)
    assert f"`{d3:%b} {d3.day}, {d3.year}` $12.39 · 4 sessions" in text
    assert "Data as of" in text and message_problems([b.to_dict() for b in reply.blocks or []]) == []


def test_an_empty_period_says_so(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    reply = answer(cdeps, "U0DEV", CCQuery(CCScope.ME, CCPeriod.MTD))
    assert "No Claude Code activity in this period" in rendered(reply) and "Data as of" in rendered(reply)
    assert anthropic_standin.count("GET", PATH) == 20  # Nov 1 to Nov 20: one call a day


def test_org_totals_and_top_lists_with_mentions_where_the_directory_matches(
    cdeps: Deps, anthropic_standin: AnthropicStandIn
) -> None:
    seed_week(anthropic_standin)
    store_directory(cdeps, {"U0ADMIN": "admin@example.com", "U0DEV": "dev@example.com"})
    reply = answer(cdeps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D30))
    text = rendered(reply)
    assert reply.text.startswith("Claude Code for the organization, the last 30 days")
    # 1234+5+100+50+99999+10+777 cents
    assert "$1,021.75" in reply.text and "3 people" in text and "2 API keys" in text
    cost_top = text.split("Top 10 by estimated cost")[1].split("Top 10 by lines added")[0]
    assert cost_top.index("<@U0ADMIN>") < cost_top.index("<@U0DEV>") < cost_top.index("stranger@example.com")
    lines_top = text.split("Top 10 by lines added")[1].split("API keys using Claude Code")[0]
    # The stranger has no Slack match: shown by email, ranked first by lines.
    assert lines_top.index("stranger@example.com") < lines_top.index("<@U0ADMIN>") < lines_top.index("<@U0DEV>")
    # API keys are actors too, listed apart from people.
    keys = text.split("API keys using Claude Code")[1]
    assert keys.index("API key ci-pipeline") < keys.index("API key dev-laptop")
    assert "<@" not in keys


def test_org_top_lists_stop_at_ten(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    for i in range(25):
        anthropic_standin.add_claude_code(
            day=TODAY, email=f"p{i:02d}@example.com", lines_added=i, models=[("m", 100 + i, {})]
        )
    reply = answer(cdeps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    cost_top = rendered(reply).split("Top 10 by estimated cost")[1].split("Top 10 by lines added")[0]
    assert "p24@example.com" in cost_top and "10. p15@example.com" in cost_top and "p14@" not in cost_top


def test_a_developer_asking_for_the_org_or_someone_else_sees_their_own(
    cdeps: Deps, anthropic_standin: AnthropicStandIn
) -> None:
    seed_week(anthropic_standin)
    for query in (CCQuery(CCScope.ORG, CCPeriod.D7), CCQuery(CCScope.USER, CCPeriod.D7, slack_user_id="U0ADMIN")):
        reply = answer(cdeps, "U0DEV", query)
        text = rendered(reply)
        assert "Only admins and billing viewers can see others" in text
        assert reply.text.startswith("Claude Code for you") and "$13.89" in reply.text
        assert "999.99" not in text and "stranger" not in text


def test_an_admin_sees_another_person_and_billing_sees_the_org(
    cdeps: Deps, anthropic_standin: AnthropicStandIn, slack_standin: Any
) -> None:
    seed_week(anthropic_standin)
    reply = answer(cdeps, "U0ADMIN", CCQuery(CCScope.USER, CCPeriod.D7, slack_user_id="U0DEV"))
    assert reply.text.startswith("Claude Code for <@U0DEV>") and "$13.89" in reply.text
    assert "Only admins" not in rendered(reply)
    anthropic_standin.add_user("billing@example.com", role="billing")
    slack_standin.add_user("U0BILL", name="bill", email="billing@example.com")
    org = answer(cdeps, "U0BILL", CCQuery(CCScope.ORG, CCPeriod.D7))
    assert org.text.startswith("Claude Code for the organization")


def test_days_are_read_side_by_side_all_pages_and_cached(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    for i in range(1500):  # two pages on one day
        anthropic_standin.add_claude_code(
            day=TODAY - timedelta(days=2), email=f"p{i}@example.com", models=[("m", 1, {})]
        )
    reply = answer(cdeps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    assert "1,500 people" in rendered(reply) and "$15.00" in reply.text
    calls = anthropic_standin.count("GET", PATH)
    assert calls == 8  # 7 days, one of them two pages
    answer(cdeps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    answer(cdeps, "U0DEV", CCQuery(CCScope.ME, CCPeriod.D7))
    assert anthropic_standin.count("GET", PATH) == calls  # the days are cached for a few minutes


def test_finished_days_are_kept_and_recent_days_are_read_again(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn
) -> None:
    now = [datetime(2026, 11, 20, 3, 0, tzinfo=UTC)]  # 3 hours after midnight: yesterday is still within the lag
    deps = make_deps(clock=lambda: now[0])
    assert not claude_code.day_is_final(date(2026, 11, 19), now[0])
    assert claude_code.day_is_final(date(2026, 11, 18), now[0])
    anthropic_standin.add_claude_code(day=date(2026, 11, 18), email="a@example.com", models=[("m", 100, {})])
    answer(deps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    assert anthropic_standin.count("GET", PATH) == 7
    anthropic_standin.reset_requests()
    now[0] += timedelta(hours=2)  # past the few minutes of the report cache; yesterday still within the lag
    reply = answer(deps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    asked = sorted(r.query["starting_at"][0] for r in anthropic_standin.matching("GET", PATH))
    assert asked == ["2026-11-19", "2026-11-20"]  # only the days that could still change were read again
    assert "$1.00" in reply.text
    anthropic_standin.reset_requests()
    now[0] += timedelta(hours=13)  # past the finished days' hours in memory: they come from the database now
    reply = answer(deps, "U0ADMIN", CCQuery(CCScope.ORG, CCPeriod.D7))
    asked = sorted(r.query["starting_at"][0] for r in anthropic_standin.matching("GET", PATH))
    # Yesterday was read within the lag, so never stored: read (and stored) now that it is final; today again.
    assert asked == ["2026-11-19", "2026-11-20"]
    assert "$1.00" in reply.text


def test_an_admin_api_failure_is_one_clear_sentence(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    from bot.anthropic_admin import AdminAPIError

    anthropic_standin.inject("GET", "/usage_report/claude_code", status=404, times=50)
    with pytest.raises(AdminAPIError, match="isn't enabled"):
        answer(cdeps, "U0DEV", CCQuery())


# --- end to end over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def test_cc_org_30d_answers_over_http(
    bot_url: str, client: httpx.Client, deps: Deps, slack_standin: Any, anthropic_standin: AnthropicStandIn
) -> None:
    deps.clock = lambda: NOW
    seed_week(anthropic_standin)
    response_url = slack_standin.new_response_url()
    ack = post_slack(client, bot_url, command_body("cc org 30d", user_id="U0ADMIN", response_url=response_url))
    assert ack.status_code == 200 and ack.json()["text"] == "Working on it…"
    body = slack_standin.wait_for_response()[0].body
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Claude Code for the organization, the last 30 days") and "$1,021.75" in body["text"]
    assert "Top 10 by estimated cost" in json.dumps(body["blocks"])


def test_malformed_claude_code_is_answered_in_the_ack_without_any_api_call(
    bot_url: str, client: httpx.Client, anthropic_standin: AnthropicStandIn
) -> None:
    anthropic_standin.reset_requests()
    ack = post_slack(client, bot_url, command_body("claude-code everyone"))
    assert ack.status_code == 200 and "/claude-key claude-code [me | org | @user]" in ack.json()["text"]
    assert anthropic_standin.requests == []


# --- `/claude-key usage` splits cost into API and Claude Code (the analytics `product` dimension) ----------------


def test_usage_splits_cost_into_api_and_claude_code(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    from bot.spend import blocks_usage, usage
    from bot.spend.model import Period, ScopeKind, UsageQuery

    day = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    add = anthropic_standin.add_cost
    add(
        starting_at=day,
        ending_at=day + timedelta(days=1),
        amount_cents="7500",
        model="m",
        dims={"product": "claude_code"},
    )
    add(
        starting_at=day,
        ending_at=day + timedelta(days=1),
        amount_cents="2000",
        model="m",
        dims={"product": "messages_api"},
    )
    add(starting_at=day, ending_at=day + timedelta(days=1), amount_cents="500.5", model="n")  # no product named
    reply = blocks_usage.usage_reply(usage.usage_report(cdeps, "U0ADMIN", UsageQuery(ScopeKind.ORG, Period.D7)))
    text = rendered(reply)
    assert "$100.01" in reply.text
    assert "*By product:* API and other $25.01 (25%) · Claude Code $75.00 (74%)" in text
    asked = anthropic_standin.matching("GET", r"/v1/organizations/analytics/cost")
    assert any("product" in r.query.get("group_by[]", []) for r in asked)


def test_usage_shows_no_split_without_claude_code_spend(cdeps: Deps, anthropic_standin: AnthropicStandIn) -> None:
    from bot.spend import blocks_usage, usage
    from bot.spend.model import Period, ScopeKind, UsageQuery

    day = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    anthropic_standin.add_cost(starting_at=day, ending_at=day + timedelta(days=1), amount_cents="2000", model="m")
    reply = blocks_usage.usage_reply(usage.usage_report(cdeps, "U0ADMIN", UsageQuery(ScopeKind.ORG, Period.D7)))
    assert "$20.00" in reply.text and "By product" not in rendered(reply)


# --- the weekly digest's Claude Code section ----------------------------------------------------------------------

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the digest reports Nov 16-22


def _digest(make_deps: DepsFactory, anthropic_standin: AnthropicStandIn, slack_standin: Any) -> str:
    from bot.registry import run_job

    deps = make_deps(clock=lambda: MONDAY)
    start = datetime(2026, 11, 16, tzinfo=UTC)
    anthropic_standin.add_cost(starting_at=start, ending_at=start + timedelta(days=1), amount_cents="5000", model="m")
    result = run_job("weekly-digest", deps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent == 1
    (message,) = slack_standin.messages("C0ADMIN")
    assert message_problems(message.blocks) == []
    return str(message.text) + json.dumps(message.blocks, ensure_ascii=False)


def test_the_digest_has_a_claude_code_section(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn, slack_standin: Any
) -> None:
    anthropic_standin.add_claude_code(day="2026-11-17", email="dev@example.com", sessions=3, models=[("m", 1250, {})])
    anthropic_standin.add_claude_code(day="2026-11-22", email="x@example.com", sessions=1, models=[("m", 50, {})])
    anthropic_standin.add_claude_code(day="2026-11-23", email="x@example.com", models=[("m", 99900, {})])  # this week
    message = _digest(make_deps, anthropic_standin, slack_standin)
    assert "*Claude Code:* $13.00 estimated · 2 people · 4 sessions" in message
    assert "dev@example.com $12.50" in message and "999" not in message
    days = [r.query["starting_at"][0] for r in anthropic_standin.matching("GET", PATH)]
    assert sorted(days) == [f"2026-11-{d}" for d in range(16, 23)]


def test_the_digest_skips_the_section_without_activity(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn, slack_standin: Any
) -> None:
    assert "Claude Code:" not in _digest(make_deps, anthropic_standin, slack_standin)


def test_the_digest_goes_out_when_the_claude_code_report_fails(
    make_deps: DepsFactory, anthropic_standin: AnthropicStandIn, slack_standin: Any
) -> None:
    anthropic_standin.inject("GET", "/usage_report/claude_code", status=403, times=50)
    message = _digest(make_deps, anthropic_standin, slack_standin)
    assert "Weekly Claude spend" in message and "Claude Code:" not in message
