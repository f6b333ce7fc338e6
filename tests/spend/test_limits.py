"""`/claude-key limits`: org and workspace limits per model group, overrides marked, the busiest minute as a share
of what applies, who may see what; services on SQLite and PostgreSQL, end to end over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.anthropic_admin.rate_limits import INPUT_CACHE_AWARE, OUTPUT, REQUESTS, Peak
from bot.core.errors import UserError
from bot.deps import Deps
from bot.slack.reply import Reply
from bot.spend import blocks_limits, limits
from bot.spend.limits import GroupLimits, LimitLine, LimitsReport, LimitsSyntaxError, parse_limits
from tests.botserver import command_body, post_slack
from tests.conftest import DepsFactory
from tests.test_builders_strict import QUICK, assert_sendable, hostile

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BUSY = NOW - timedelta(hours=3)


def rendered(reply: Reply) -> str:
    return json.dumps([b.to_dict() for b in reply.blocks or []], ensure_ascii=False)


def answer(deps: Deps, slack_user_id: str, workspace: str | None = None) -> Reply:
    reply = blocks_limits.limits_reply(limits.limits_report(deps, slack_user_id, workspace))
    assert_sendable(reply.blocks or [])
    return reply


@pytest.mark.parametrize(("args", "expected"), [((), None), (("workspace", "data", "sci"), "data sci")])
def test_parse_limits(args: tuple[str, ...], expected: str | None) -> None:
    assert parse_limits(args) == expected


@pytest.mark.parametrize("args", [("workspace",), ("org", "7d"), ("everything",)])
def test_bad_limits_arguments_get_the_usage_line(args: tuple[str, ...]) -> None:
    with pytest.raises(LimitsSyntaxError, match="/claude-key limits"):
        parse_limits(args)


@pytest.fixture
def ldeps(make_deps: DepsFactory, anthropic_standin) -> Deps:
    anthropic_standin.clock_now = anthropic_standin.data_refreshed_at = NOW
    return make_deps(clock=lambda: NOW)


def seed_busy_minute(anthropic_standin, ws: str) -> None:
    """A Sonnet minute in the workspace at 80 requests, 300k input tokens (cache reads don't count) and 9k out."""
    for model, requests, uncached in (("claude-sonnet-4-5-20250929", 50, 200_000), ("claude-sonnet-4", 30, 100_000)):
        anthropic_standin.add_usage(
            starting_at=BUSY,
            ending_at=BUSY + timedelta(minutes=1),
            input_tokens=uncached,
            cache_read=5_000_000,
            output_tokens=4_500,
            requests=requests,
            model=model,
            workspace_id=ws,
        )
    # Older than 24 hours: not counted.
    anthropic_standin.add_usage(
        starting_at=NOW - timedelta(hours=30),
        ending_at=NOW - timedelta(hours=30) + timedelta(minutes=1),
        requests=999,
        model="claude-sonnet-4-5",
        workspace_id=ws,
    )


def test_org_limits_with_the_busiest_minute(ldeps: Deps, anthropic_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    seed_busy_minute(anthropic_standin, ws)
    report = limits.limits_report(ldeps, "U0ADMIN", None)
    assert [g.name for g in report.groups] == ["Claude Opus 4.x", "Claude Sonnet 4.x", "Claude Haiku 4.x"]
    sonnet = {line.type: line for line in report.groups[1].lines}
    assert sonnet[REQUESTS].enforced == 1000 and sonnet[REQUESTS].peak == Peak(80, BUSY)
    assert sonnet[REQUESTS].share == pytest.approx(0.08)
    assert sonnet[INPUT_CACHE_AWARE].peak.used == 300_000  # the cache reads are left out of this limiter
    assert sonnet[OUTPUT].peak.used == 9_000
    assert all(line.peak.at is None for line in report.groups[0].lines)  # no Opus use
    assert report.as_of == NOW
    text = rendered(answer(ldeps, "U0ADMIN"))
    assert "requests/min: *1,000* · busiest minute 80 (8%)" in text
    assert "input tokens/min: *450,000* · busiest minute 300,000 (66%)" in text
    assert "no use in the last 24 h" in text and "data as of <!date^" in text and "|Nov 20, 2026 at 12:00 UTC>" in text
    # The limits once; per model group, its top 5 minutes by each of four orders: one small page each.
    assert anthropic_standin.count("GET", "/v1/organizations/rate_limits") == 1
    usage = anthropic_standin.matching("GET", "/v1/organizations/analytics/usage")
    assert len(usage) == 3 * 4
    assert all(u.query["time_bucket_width"] == ["1m"] and u.query["limit"] == ["5"] for u in usage)
    assert {u.query["order_by"][0] for u in usage} == {
        "requests",
        "output_tokens",
        "uncached_input_tokens",
        "total_tokens",
    }
    assert {tuple(u.query["models[]"]) for u in usage if "claude-sonnet-4" in u.query["models[]"]}
    assert "group_by[]" not in usage[0].query


def test_a_workspace_with_overrides_marked(ldeps: Deps, anthropic_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    seed_busy_minute(anthropic_standin, ws)
    other = anthropic_standin.add_workspace("other-ws")["id"]
    anthropic_standin.add_usage(
        starting_at=BUSY,
        ending_at=BUSY + timedelta(minutes=1),
        requests=500,
        model="claude-sonnet-4-5",
        workspace_id=other,
    )
    anthropic_standin.set_workspace_rate_limit(ws, "Claude Sonnet 4.x", REQUESTS, 100)
    anthropic_standin.set_workspace_rate_limit(ws, "Claude Sonnet 4.x", OUTPUT, 500_000)  # above the org's 90k

    report = limits.limits_report(ldeps, "U0ADMIN", "default-ws")
    sonnet = {line.type: line for line in report.groups[1].lines}
    assert (sonnet[REQUESTS].org, sonnet[REQUESTS].override, sonnet[REQUESTS].enforced) == (1000, 100, 100)
    assert sonnet[REQUESTS].peak.used == 80 and sonnet[REQUESTS].share == pytest.approx(0.8)  # other-ws not counted
    assert sonnet[OUTPUT].enforced == 90_000  # the lower of the two applies
    text = rendered(answer(ldeps, "U0ADMIN", "default-ws"))
    assert "Rate limits: default-ws" in text
    assert "requests/min: *100* :pushpin: _workspace override_ (org 1,000) · busiest minute 80 (80%) :warning:" in text
    assert "output tokens/min: *90,000* :pushpin: _workspace override_ (org 90,000)" in text
    assert "input tokens/min: *450,000* (org)" in text
    assert "the lower one is enforced" in text
    usage = anthropic_standin.matching("GET", "/v1/organizations/analytics/usage")
    assert usage and all(u.query["workspace_ids[]"] == [ws] for u in usage)


def test_developers_see_the_workspaces_they_belong_to(ldeps: Deps, anthropic_standin, slack_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    with pytest.raises(UserError, match="Only admins and billing viewers see the organization"):
        limits.limits_report(ldeps, "U0DEV", None)
    with pytest.raises(UserError, match="workspaces you belong to"):
        limits.limits_report(ldeps, "U0DEV", "default-ws")
    anthropic_standin.add_member(ws, anthropic_standin.seeded["developer"]["id"])
    assert limits.limits_report(ldeps, "U0DEV", "default-ws").scope == "default-ws"
    with pytest.raises(UserError, match="no workspace called `nope`"):
        limits.limits_report(ldeps, "U0DEV", "nope")
    anthropic_standin.add_user("billing@example.com", role="billing")
    slack_standin.add_user("U0BILL", name="bill", email="billing@example.com")
    assert limits.limits_report(ldeps, "U0BILL", None).workspace_id is None


@QUICK
@given(names=st.lists(hostile, max_size=60), scope=hostile, models=st.lists(hostile, max_size=8))
def test_the_answer_is_sendable_whatever_the_names(names: list[str], scope: str, models: list[str]) -> None:
    line = LimitLine(REQUESTS, "requests/min", 10**12, 5, 5, Peak(10**13, NOW), 2 * 10**12)
    groups = tuple(GroupLimits(name, (line,) * 5) for name in names)
    report = LimitsReport(scope, "wrkspc_1", groups, NOW, None, UTC, tuple(models))
    reply = blocks_limits.limits_reply(report)
    assert_sendable(reply.blocks or [])
    assert "<!channel" not in reply.text


# --- end to end over HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def test_limits_command_end_to_end(
    bot_url: str, client: httpx.Client, deps: Deps, slack_standin, anthropic_standin
) -> None:
    deps.clock = lambda: NOW
    anthropic_standin.clock_now = NOW
    seed_busy_minute(anthropic_standin, anthropic_standin.seeded["workspace"]["id"])
    response_url = slack_standin.new_response_url()
    ack = post_slack(client, bot_url, command_body("limits", user_id="U0ADMIN", response_url=response_url))
    assert ack.status_code == 200 and ack.json()["text"] == "Working on it…"
    body = slack_standin.wait_for_response()[0].body
    assert body["response_type"] == "ephemeral" and body["text"].startswith("Rate limits: the organization")
    assert "busiest minute 80 (8%)" in json.dumps(body["blocks"], ensure_ascii=False)

    anthropic_standin.reset_requests()
    ack = post_slack(client, bot_url, command_body("limits workspace"))
    assert "/claude-key limits workspace &lt;name&gt;" in ack.json()["text"]
    assert anthropic_standin.requests == []


@QUICK
@given(scope=hostile, group=hostile, keys=st.lists(st.tuples(hostile, hostile), max_size=8))
def test_the_headroom_alert_is_sendable_whatever_the_names(scope: str, group: str, keys: list[tuple[str, str]]) -> None:
    from bot.spend.limits import HeadroomAlert, KeyShare

    line = LimitLine(REQUESTS, "requests/min", 1000, 100, 100, Peak(95, NOW), 0.95)
    shares = tuple(KeyShare(f"apikey_{n}", name or None, hint or None, 10**9) for n, (name, hint) in enumerate(keys))
    alert = HeadroomAlert("k", scope, "wrkspc_1", GroupLimits(group, (line,) * 3), shares, 80, None)
    reply = blocks_limits.headroom_alert(alert, UTC)
    assert_sendable(reply.blocks or [])
    assert "<!channel" not in reply.text
