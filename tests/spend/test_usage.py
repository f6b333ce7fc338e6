"""`/claude-key usage` and the App Home line: parsing, scopes and roles, exact money, the cache, the chart.

Service tests run on SQLite and PostgreSQL with an injected clock; the end-to-end ones go through the
bot's HTTP endpoint to the Slack and Admin API stand-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from bot.core.errors import UserError
from bot.core.format import cents, percent, tokens, usd
from bot.deps import Deps
from bot.identity import resolve_actor
from bot.slack.reply import Reply
from bot.spend import analytics, blocks_usage, usage
from bot.spend.model import ChartRequest, Period, ScopeKind, UsageQuery
from bot.spend.usage import UsageSyntaxError, parse_usage
from tests.botserver import command_body, post_slack
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Answer:
    """What the listener sends: the rendered reply, and the chart that follows it."""

    reply: Reply
    chart: ChartRequest | None


def usage_answer(deps: Deps, slack_user_id: str, query: UsageQuery) -> Answer:
    """The service's report, rendered as the listener renders it."""
    report = usage.usage_report(deps, slack_user_id, query)
    return Answer(blocks_usage.usage_reply(report), blocks_usage.usage_chart(report))


# --- parsing (pure) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), UsageQuery(ScopeKind.ME, Period.MTD)),
        (("me",), UsageQuery(ScopeKind.ME, Period.MTD)),
        (("7d",), UsageQuery(ScopeKind.ME, Period.D7)),
        (("org", "30d"), UsageQuery(ScopeKind.ORG, Period.D30)),
        (("ORG", "Today"), UsageQuery(ScopeKind.ORG, Period.TODAY)),
        (("workspace", "data", "sci", "mtd"), UsageQuery(ScopeKind.WORKSPACE, Period.MTD, workspace="data sci")),
        (("<@U0DEV|dev>", "7d"), UsageQuery(ScopeKind.USER, Period.D7, slack_user_id="U0DEV")),
        (("<@U0DEV>",), UsageQuery(ScopeKind.USER, Period.MTD, slack_user_id="U0DEV")),
    ],
)
def test_parse_usage(args: tuple[str, ...], expected: UsageQuery) -> None:
    assert parse_usage(args) == expected


@pytest.mark.parametrize("args", [("workspace",), ("@dev",), ("org", "yesterday"), ("everyone",), ("me", "org")])
def test_bad_usage_arguments_get_the_usage_line(args: tuple[str, ...]) -> None:
    with pytest.raises(UsageSyntaxError, match="/claude-key usage"):
        parse_usage(args)


# --- money (pure) --------------------------------------------------------------------------------------------


def test_fractional_cents_round_half_up_once_when_shown() -> None:
    assert usd(Decimal("0.005")) == "$0.01"
    assert usd(Decimal("2.675")) == "$2.68"  # a float would say 2.67
    assert usd(Decimal("12.34565")) == "$12.35"
    assert usd(Decimal("1234567.891")) == "$1,234,567.89"
    assert usd(Decimal("-0.004")) == "$0.00"
    assert cents(Decimal("0.0049")) == Decimal("0.00")
    assert percent(Decimal("99.99"), Decimal(100)) == "99%"  # never reads as a crossed 100 %
    assert percent(Decimal("100"), Decimal(100)) == "100%"
    assert tokens(1_234_567) == "1.2M" and tokens(999) == "999"


def test_periods_start_at_local_midnight_across_dst() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    start, end = usage.period_bounds(Period.D7, now, berlin)
    assert start == datetime(2026, 10, 28, 0, 0, tzinfo=berlin)  # still CEST then: 22:00 UTC the day before
    assert start.astimezone(UTC) == datetime(2026, 10, 27, 23, 0, tzinfo=UTC)
    assert usage.month_start(now, berlin).astimezone(UTC) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert analytics.daily_width(start, end) == "1h"  # local days are not UTC days: summed from hours
    assert analytics.daily_width(*usage.period_bounds(Period.D7, now, UTC)) == "1d"


# --- services on both databases -------------------------------------------------------------------------------


@pytest.fixture
def udeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: NOW)


def _ids(anthropic_standin) -> tuple[str, str, str]:
    seeded = anthropic_standin.seeded
    return seeded["developer"]["id"], seeded["admin"]["id"], seeded["workspace"]["id"]


def seed_person(anthropic_standin) -> dict[str, str]:
    """Dev's key, an admin's key, and costs: some dev's by key, some as actor, some both, some not dev's."""
    dev, admin, ws = _ids(anthropic_standin)
    mine = anthropic_standin.add_api_key(name="dev-key", workspace_id=ws, created_by_user_id=dev)["id"]
    theirs = anthropic_standin.add_api_key(name="admin-key", workspace_id=ws, created_by_user_id=admin)["id"]
    day = NOW.replace(hour=0) - 2 * DAY

    def add(**kwargs) -> None:
        anthropic_standin.add_cost(workspace_id=ws, **kwargs)

    add(starting_at=day, ending_at=day + DAY, amount_cents="1234.565", model="claude-opus-4", api_key_id=mine)
    add(starting_at=day, ending_at=day + DAY, amount_cents="0.435", model="claude-haiku-4", api_key_id=mine)
    add(starting_at=day + DAY, ending_at=day + 2 * DAY, amount_cents="500", model="claude-opus-4", actor_user_id=dev)
    # Attributed to dev AND made with dev's key: counted once.
    add(
        starting_at=day,
        ending_at=day + DAY,
        amount_cents="100",
        model="claude-opus-4",
        api_key_id=mine,
        actor_user_id=dev,
    )
    add(starting_at=day, ending_at=day + DAY, amount_cents="999999", model="claude-opus-4", api_key_id=theirs)
    anthropic_standin.add_usage(
        starting_at=day,
        ending_at=day + DAY,
        input_tokens=1000,
        output_tokens=200,
        cache_read=3000,
        model="claude-opus-4",
        api_key_id=mine,
    )
    return {"mine": mine, "theirs": theirs}


def test_me_is_my_keys_plus_usage_attributed_to_me_counted_once(udeps: Deps, anthropic_standin) -> None:
    seed_person(anthropic_standin)
    answer = usage_answer(udeps, "U0DEV", UsageQuery(ScopeKind.ME, Period.MTD))
    rendered = json.dumps([b.to_dict() for b in answer.reply.blocks or []])
    # 1234.565 + 0.435 + 500 + 100 cents = $18.35 exactly; the admin's $9,999.99 is not dev's.
    assert "$18.35" in answer.reply.text
    assert "9,999.99" not in rendered
    assert "`claude-opus-4` $18.35" in rendered  # 1834.565 cents, rounded once
    assert "`claude-haiku-4` $0.00" in rendered  # 0.435 cents
    assert "1.0k in" in rendered and "3.0k cache" in rendered
    assert "Data as of" in rendered
    assert answer.chart is not None and sum(sum(d.values()) for d in answer.chart.daily.values()) == Decimal("18.35")


def test_sums_are_exact_decimals(udeps: Deps, anthropic_standin) -> None:
    day = NOW.replace(hour=0) - DAY
    for amount in ("0.1", "0.2", "0.001", "0.0005"):
        anthropic_standin.add_cost(starting_at=day, ending_at=day + DAY, amount_cents=amount, model="m")
    summary = analytics.spend_summary(udeps, usage.ORG, day, NOW)
    assert summary.total == Decimal("0.003015")  # 0.3015 cents; floats would give 0.30150000000000005
    assert isinstance(summary.total, Decimal)


def test_org_scope_is_for_admins_and_billing_only(udeps: Deps, anthropic_standin, slack_standin) -> None:
    with pytest.raises(UserError, match="Only admins and billing"):
        usage_answer(udeps, "U0DEV", UsageQuery(ScopeKind.ORG, Period.D30))
    with pytest.raises(UserError, match="Only admins and billing"):
        usage_answer(udeps, "U0DEV", UsageQuery(ScopeKind.USER, Period.D30, slack_user_id="U0ADMIN"))
    anthropic_standin.add_user("billing@example.com", role="billing")
    slack_standin.add_user("U0BILL", name="bill", email="billing@example.com")
    answer = usage_answer(udeps, "U0BILL", UsageQuery(ScopeKind.ORG, Period.D30))
    assert answer.reply.text.startswith("Usage for the organization")


def test_user_and_workspace_scopes(udeps: Deps, anthropic_standin) -> None:
    seed_person(anthropic_standin)
    by_user = usage_answer(udeps, "U0ADMIN", UsageQuery(ScopeKind.USER, Period.D7, slack_user_id="U0DEV"))
    assert "<@U0DEV>" in by_user.reply.text and "$18.35" in by_user.reply.text
    by_ws = usage_answer(udeps, "U0ADMIN", UsageQuery(ScopeKind.WORKSPACE, Period.D7, workspace="DEFAULT-WS"))
    assert "workspace default-ws" in by_ws.reply.text and "$10,018.34" in by_ws.reply.text
    with pytest.raises(UserError, match="no workspace called `nope`"):
        usage_answer(udeps, "U0ADMIN", UsageQuery(ScopeKind.WORKSPACE, Period.D7, workspace="nope"))


def test_today_has_no_chart_and_a_non_member_is_told_what_to_do(udeps: Deps, slack_standin) -> None:
    today = usage_answer(udeps, "U0DEV", UsageQuery(ScopeKind.ME, Period.TODAY))
    assert today.chart is None
    slack_standin.add_user("U0NEW", name="new", email="new@example.com")
    with pytest.raises(UserError, match="/claude-key request"):
        usage_answer(udeps, "U0NEW", UsageQuery())


def test_report_pages_are_cached_for_a_few_minutes(udeps: Deps, anthropic_standin) -> None:
    seed_person(anthropic_standin)
    query = UsageQuery(ScopeKind.ORG, Period.D30)
    usage_answer(udeps, "U0ADMIN", query)
    calls = anthropic_standin.count("GET", r"/v1/organizations/analytics/.*")
    assert calls >= 2
    usage_answer(udeps, "U0ADMIN", query)
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/.*") == calls
    udeps.clock = lambda: NOW + analytics.CACHE_TTL + timedelta(seconds=1)
    usage_answer(udeps, "U0ADMIN", query)
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/.*") == 2 * calls


def test_home_usage_line(udeps: Deps, anthropic_standin) -> None:
    seed_person(anthropic_standin)
    dev = resolve_actor(udeps, "U0DEV")
    line = usage.home_usage_line(udeps, dev)
    assert line is not None and line.startswith("*Your spend this month:* $18.35")
    assert "tokens" in line and "data as of" in line
    anthropic_standin.inject("GET", r"/analytics/", status=500, times=20, headers={"x-should-retry": "false"})
    analytics.clear_cache(udeps)
    assert usage.home_usage_line(udeps, dev) is None  # unavailable: the Home shows nothing, not an error


# --- end to end over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def test_usage_org_30d_answers_then_uploads_a_chart_to_the_dm(
    bot_url: str, client: httpx.Client, deps: Deps, slack_standin, anthropic_standin
) -> None:
    deps.clock = lambda: NOW
    seed_person(anthropic_standin)
    slack_standin.inject("files.getUploadURLExternal", delay=1.0)  # a slow upload must not hold the answer
    response_url = slack_standin.new_response_url()
    ack = post_slack(client, bot_url, command_body("usage org 30d", user_id="U0ADMIN", response_url=response_url))
    assert ack.status_code == 200 and ack.json()["text"] == "Working on it…"
    answer = slack_standin.wait_for_response()[0].body
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Usage for the organization, the last 30 days: $10,018.34"
    assert "on its way to your DMs" in json.dumps(answer["blocks"])
    assert not any(u.completed for u in slack_standin.uploads.values())  # the answer did not wait for the chart
    slack_standin.wait_for("files.completeUploadExternal", timeout=20)
    (upload,) = slack_standin.uploads.values()
    assert upload.completed and upload.data is not None and upload.data.startswith(PNG_MAGIC)
    assert upload.channel_id == slack_standin.dm_channel_id("U0ADMIN")
    assert upload.title is not None and upload.title.startswith("Spend per day: the organization")


def test_usage_by_a_developer_for_the_org_is_refused_plainly(
    bot_url: str, client: httpx.Client, deps: Deps, slack_standin
) -> None:
    deps.clock = lambda: NOW
    response_url = slack_standin.new_response_url()
    post_slack(client, bot_url, command_body("usage org", user_id="U0DEV", response_url=response_url))
    answer = slack_standin.wait_for_response()[0].body
    assert answer["text"].startswith("Only admins and billing viewers")
    assert slack_standin.calls_to("files.getUploadURLExternal") == []


def test_malformed_usage_is_answered_in_the_ack_without_any_api_call(
    bot_url: str, client: httpx.Client, anthropic_standin
) -> None:
    anthropic_standin.reset_requests()
    ack = post_slack(client, bot_url, command_body("usage workspace"))
    assert ack.status_code == 200 and "/claude-key usage workspace &lt;name&gt;" in ack.json()["text"]
    assert anthropic_standin.requests == []


def test_the_first_instant_of_a_period_is_an_empty_answer_not_an_error(udeps: Deps) -> None:
    udeps.clock = lambda: datetime(2026, 11, 1, tzinfo=UTC)
    answer = usage_answer(udeps, "U0DEV", UsageQuery(ScopeKind.ME, Period.MTD))
    assert answer.reply.text == "Usage for you, this month: $0.00" and answer.chart is None
