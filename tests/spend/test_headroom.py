"""The `rate-limit-headroom` job on SQLite and PostgreSQL: an alert once per (workspace, model group, day) naming
the keys behind it, nothing below the threshold or in a quiet hour, a dry run that sends and records nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.deps import Deps
from bot.jobs.context import JobResult
from bot.registry import run_job
from tests.conftest import Clock, DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHANNEL = "C0ADMIN"  # ALERT_CHANNEL_ID defaults to the admin channel
JOB = "rate-limit-headroom"


@pytest.fixture
def clock(anthropic_standin) -> Clock:
    return Clock(NOW, anthropic_standin)


@pytest.fixture
def hdeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    return make_deps(clock=clock)


def run(deps: Deps, **kwargs) -> JobResult:
    result = run_job(JOB, deps, out=lambda _: None, **kwargs)
    assert result is not None and result.errors == []
    return result


def alerts(slack_standin) -> list[str]:
    return [m.text or "" for m in slack_standin.messages(CHANNEL) if (m.text or "").startswith("Rate limits:")]


def busy_minute(standin, ws: str, at: datetime, *, keys: dict[str, int], model: str = "claude-sonnet-4-5") -> None:
    """Requests per key in one minute of `ws`."""
    for key_id, requests in keys.items():
        standin.add_usage(
            starting_at=at,
            ending_at=at + timedelta(minutes=1),
            requests=requests,
            input_tokens=100,
            model=model,
            workspace_id=ws,
            api_key_id=key_id,
        )


def test_one_alert_per_workspace_group_and_day_naming_the_keys(
    hdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    dev = anthropic_standin.seeded["developer"]["id"]
    loud = anthropic_standin.add_api_key(name="search-prod", workspace_id=ws, created_by_user_id=dev)["id"]
    quiet = anthropic_standin.add_api_key(name="batch-nightly", workspace_id=ws, created_by_user_id=dev)["id"]
    anthropic_standin.set_workspace_rate_limit(ws, "Claude Sonnet 4.x", "requests_per_minute", 100)
    busy_minute(anthropic_standin, ws, NOW - timedelta(minutes=20), keys={loud: 70, quiet: 15})  # 85 of 100

    assert run(hdeps).sent == 1
    (text,) = alerts(slack_standin)
    assert text == "Rate limits: default-ws reached 80% of a Claude Sonnet 4.x limit in the last hour"
    (message,) = [m for m in slack_standin.messages(CHANNEL) if (m.text or "").startswith("Rate limits:")]
    blocks = json.dumps(message.blocks, ensure_ascii=False)
    assert "requests/min: *100* :pushpin: _workspace override_ (org 1,000) · busiest minute 85 (85%)" in blocks
    assert blocks.index("search-prod") < blocks.index("batch-nightly")  # the key that drove it most comes first
    assert "`search-prod`" in blocks and ": 70" in blocks and "Message Batches API" in blocks
    assert "higher limit" in blocks and "Data as of" in blocks

    # A rerun, and a later busier hour the same day: no second alert.
    assert run(hdeps).sent == 0
    clock.advance(hours=3)
    busy_minute(anthropic_standin, ws, clock.now - timedelta(minutes=5), keys={loud: 99})
    result = run(hdeps)
    assert result.sent == 0 and result.skipped == 1
    assert len(alerts(slack_standin)) == 1
    # The next day it may alert again.
    clock.set(NOW + timedelta(days=1))
    busy_minute(anthropic_standin, ws, clock.now - timedelta(minutes=5), keys={loud: 90})
    assert run(hdeps).sent == 1 and len(alerts(slack_standin)) == 2


def test_the_org_as_a_whole_against_its_own_limit(hdeps: Deps, anthropic_standin, slack_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    other = anthropic_standin.add_workspace("other-ws")["id"]
    at = NOW - timedelta(minutes=10)
    busy_minute(anthropic_standin, ws, at, keys={"apikey_01A": 450})
    busy_minute(anthropic_standin, other, at, keys={"apikey_01B": 450})  # 900 of the org's 1,000
    assert run(hdeps).sent == 1
    assert alerts(slack_standin) == [
        "Rate limits: the organization reached 80% of a Claude Sonnet 4.x limit in the last hour"
    ]


def test_below_the_threshold_or_a_quiet_hour_sends_nothing_with_the_fewest_calls(
    hdeps: Deps, anthropic_standin, slack_standin
) -> None:
    anthropic_standin.reset_requests()
    assert run(hdeps).sent == 0
    assert [r.path for r in anthropic_standin.requests] == ["/v1/organizations/analytics/usage"]  # a quiet hour

    ws = anthropic_standin.seeded["workspace"]["id"]
    busy_minute(anthropic_standin, ws, NOW - timedelta(minutes=30), keys={"apikey_01A": 790})  # 79 %
    anthropic_standin.reset_requests()
    assert run(hdeps).sent == 0
    assert sorted(r.path for r in anthropic_standin.requests) == [
        "/v1/organizations/analytics/usage",
        "/v1/organizations/rate_limits",
        f"/v1/organizations/workspaces/{ws}/rate_limits",
    ]
    assert alerts(slack_standin) == []


def test_a_higher_setting_is_quieter(make_deps: DepsFactory, clock: Clock, anthropic_standin, slack_standin) -> None:
    deps = make_deps(clock=clock, rate_limit_alert_percent=95)
    ws = anthropic_standin.seeded["workspace"]["id"]
    busy_minute(anthropic_standin, ws, NOW - timedelta(minutes=30), keys={"apikey_01A": 900})
    assert run(deps).sent == 0
    busy_minute(anthropic_standin, ws, NOW - timedelta(minutes=29), keys={"apikey_01A": 960})
    assert run(deps).sent == 2  # the workspace, and the org (its only busy workspace)


def test_dry_run_prints_and_records_nothing(hdeps: Deps, anthropic_standin, slack_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    busy_minute(anthropic_standin, ws, NOW - timedelta(minutes=30), keys={"apikey_01A": 950})
    printed: list[str] = []
    result = run_job(JOB, hdeps, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 2  # the workspace and the org (it is the org's only workspace)
    assert printed[0].startswith(f"would post to {CHANNEL}: Rate limits: ")
    assert alerts(slack_standin) == []
    assert run(hdeps).sent == 2  # nothing was recorded by the dry run
