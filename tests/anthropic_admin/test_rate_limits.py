"""AdminGateway rate limits: the org's per model group, a workspace's overrides, paging, 404s, what counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anthropic
import pytest

from bot.anthropic_admin import AdminGateway, ListingIncomplete, NotFound, UsageRow
from bot.anthropic_admin.rate_limits import (
    INPUT,
    INPUT_CACHE_AWARE,
    OUTPUT,
    REQUESTS,
    Limit,
    group_for_model,
    limits_of,
    minute_peaks,
)
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG, seeded_id


def test_org_rate_limits_per_model_group(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    groups = gateway.list_rate_limits()
    assert [g.name for g in groups] == ["Claude Opus 4.x", "Claude Sonnet 4.x", "Claude Haiku 4.x"]
    sonnet = groups[1]
    assert sonnet.group_type == "model_group" and "claude-sonnet-4-5" in sonnet.models
    assert {v.type: v.value for v in sonnet.limits} == {REQUESTS: 1000, INPUT_CACHE_AWARE: 450_000, OUTPUT: 90_000}
    (request,) = standin.matching("GET", f"{ORG}/rate_limits")
    assert request.query == {"group_type": ["model_group"]}  # no `limit`: one page holds everything

    everything = gateway.list_rate_limits(group_type=None)
    assert {g.group_type for g in everything} == {"model_group", "batch", "token_count"}
    assert next(g for g in everything if g.group_type == "batch").name == "batch"


def test_the_stand_in_is_strict(standin: AnthropicStandIn) -> None:
    client = anthropic.Anthropic(
        api_key=standin.admin_key, base_url=standin.base_url, max_retries=0, _strict_response_validation=True
    )
    org = client.beta.organization
    with pytest.raises(anthropic.NotFoundError):
        org.rate_limits.list(model="claude-nonexistent-9")
    assert [e.group.type for e in org.rate_limits.list(model="claude-opus-4").data] == ["model_group"]
    with pytest.raises(anthropic.BadRequestError):
        org.rate_limits.list(limit=0)
    with pytest.raises(anthropic.BadRequestError):
        org.rate_limits.list(group_type="nonsense")  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):
        org.workspaces.rate_limits.list("wrkspc_01NOPE")
    # Cursor paging: two at a time, every entry once.
    first = org.rate_limits.list(limit=2)
    assert len(first.data) == 2 and first.next_page
    assert len([e for page in first.iter_pages() for e in page.data]) == 5
    client.close()


def test_workspace_overrides_and_inherited_values(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws = seeded_id(standin, "workspace")
    assert gateway.list_workspace_rate_limits(ws, include_inherited=False) == []
    standin.set_workspace_rate_limit(ws, "Claude Sonnet 4.x", REQUESTS, 100)

    (only,) = gateway.list_workspace_rate_limits(ws, include_inherited=False)
    assert only.name == "Claude Sonnet 4.x" and only.workspace_id == ws
    assert [(v.type, v.value, v.org_limit, v.override) for v in only.limits] == [(REQUESTS, 100, 1000, True)]

    groups = {g.name: g for g in gateway.list_workspace_rate_limits(ws)}
    assert set(groups) == {"Claude Opus 4.x", "Claude Sonnet 4.x", "Claude Haiku 4.x"}
    sonnet = {v.type: v for v in groups["Claude Sonnet 4.x"].limits}
    assert sonnet[REQUESTS].override and sonnet[REQUESTS].value == 100
    assert not sonnet[OUTPUT].override and sonnet[OUTPUT].value == 90_000
    sent = standin.matching("GET", f"{ORG}/workspaces/{ws}/rate_limits")[-1]
    assert sent.query["include_inherited"] == ["true"]

    org = {g.name: g for g in gateway.list_rate_limits()}
    limits = {limit.type: limit for limit in limits_of(org["Claude Sonnet 4.x"], groups["Claude Sonnet 4.x"])}
    assert limits[REQUESTS] == Limit(REQUESTS, 1000, 100) and limits[REQUESTS].enforced == 100
    assert limits[OUTPUT].enforced == 90_000 and limits[OUTPUT].workspace is None

    with pytest.raises(NotFound):
        gateway.list_workspace_rate_limits("wrkspc_01NOPE")


def test_paging_guards_apply(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.inject("GET", r"/rate_limits$", status=None, repeat_cursor=True, times=5)
    with pytest.raises(ListingIncomplete):
        gateway.list_rate_limits()


def test_transient_errors_are_retried(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.inject("GET", r"/rate_limits$", status=503)
    assert len(gateway.list_rate_limits()) == 3
    assert standin.count("GET", f"{ORG}/rate_limits") == 2


def _row(minute: int, model: str, **usage: int) -> UsageRow:
    at = datetime(2026, 11, 2, 10, minute, tzinfo=UTC)
    return UsageRow(
        starting_at=at,
        ending_at=at + timedelta(minutes=1),
        uncached_input_tokens=usage.get("uncached", 0),
        cache_read_input_tokens=usage.get("cache_read", 0),
        cache_creation_tokens=usage.get("cache_creation", 0),
        output_tokens=usage.get("output", 0),
        total_tokens=sum(usage.values()),
        requests=usage.get("requests"),
        model=model,
        workspace_id=None,
        api_key_id=None,
        actor_user_id=None,
    )


def test_minute_peaks_sum_a_minute_and_count_what_each_limiter_counts(gateway: AdminGateway) -> None:
    groups = gateway.list_rate_limits()
    assert group_for_model("claude-sonnet-4-5-20250929", groups) is groups[1]
    assert group_for_model("claude-opus-4-1-20250805", groups) is groups[0]
    assert group_for_model("claude-unknown", groups) is None and group_for_model(None, groups) is None
    rows = [
        _row(1, "claude-sonnet-4-5", requests=30, uncached=100, cache_read=10_000, output=5),
        _row(1, "claude-sonnet-4", requests=30, uncached=100, cache_creation=50),
        _row(2, "claude-sonnet-4-5", requests=50, uncached=1_000, output=900),
    ]
    peaks = minute_peaks(rows, [REQUESTS, INPUT_CACHE_AWARE, INPUT, OUTPUT])
    assert peaks[REQUESTS].used == 60 and peaks[REQUESTS].at == rows[0].starting_at
    assert peaks[INPUT_CACHE_AWARE].used == 1_000 and peaks[INPUT_CACHE_AWARE].at == rows[2].starting_at
    assert peaks[INPUT].used == 10_250  # cache reads count here
    assert peaks[OUTPUT].used == 900
    assert minute_peaks([], [REQUESTS])[REQUESTS].at is None


def test_top_usage_buckets_is_one_small_page(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    for n in range(12):
        at = end - timedelta(minutes=n + 1)
        standin.add_usage(starting_at=at, ending_at=at + timedelta(minutes=1), requests=n, model="claude-opus-4")
    standin.add_usage(starting_at=end - timedelta(minutes=3), ending_at=end, requests=100, model="claude-haiku-4")
    report = gateway.top_usage_buckets(
        starting_at=end - timedelta(hours=1),
        ending_at=end,
        bucket_width="1m",
        order_by="requests",
        limit=3,
        models=["claude-opus-4"],
    )
    assert [r.requests for r in report.rows] == [11, 10, 9]  # the other group's model is filtered out
    (request,) = standin.matching("GET", f"{ORG}/analytics/usage")
    assert request.query["order_by"] == ["requests"] and request.query["limit"] == ["3"]
    with pytest.raises(ValueError):
        gateway.top_usage_buckets(
            starting_at=end - timedelta(hours=1), ending_at=end, bucket_width="1m", order_by="requests", limit=0
        )
