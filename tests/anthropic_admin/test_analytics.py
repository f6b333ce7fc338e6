"""AdminGateway cost and usage reports: exact amounts, every page, range checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.anthropic_admin import AdminGateway, BadRequest, FeatureUnavailable
from bot.anthropic_admin.windows import analytics_floor
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import NOV_1, NOV_8, ORG, seeded_id


def test_cost_report_amounts_are_exact(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    dev_id, ws_id = seeded_id(standin, "developer"), seeded_id(standin, "workspace")
    standin.data_refreshed_at = datetime(2026, 11, 7, 6, 0, tzinfo=UTC)
    day = datetime(2026, 11, 2, tzinfo=UTC)
    standin.add_cost(
        starting_at=day,
        ending_at=day + timedelta(days=1),
        amount_cents="1234.567",
        list_amount_cents="1500.001",
        model="claude-sonnet-4-5",
        workspace_id=ws_id,
        api_key_id="apikey_A",
        actor_user_id=dev_id,
    )
    standin.add_cost(starting_at=day, ending_at=day + timedelta(days=1), amount_cents="0.001", api_key_id="apikey_B")

    report = gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, group_by=["api_key_id"])

    assert report.data_refreshed_at == datetime(2026, 11, 7, 6, 0, tzinfo=UTC)
    by_key = {row.api_key_id: row for row in report.rows}
    assert by_key["apikey_A"].amount_usd == Decimal("12.34567")
    assert by_key["apikey_A"].list_amount_usd == Decimal("15.00001")
    assert by_key["apikey_B"].amount_usd == Decimal("0.00001")
    assert by_key["apikey_A"].currency == "USD"
    assert sum((r.amount_usd for r in report.rows), Decimal(0)) == Decimal("12.34568")

    grouped = gateway.cost_report(
        starting_at=NOV_1,
        ending_at=NOV_8,
        group_by=["actor", "model", "workspace_id", "token_type"],
        bucket_width="1d",
        api_key_ids=["apikey_A"],
    )
    (row,) = grouped.rows
    assert (row.actor_user_id, row.model, row.workspace_id, row.cost_type) == (
        dev_id,
        "claude-sonnet-4-5",
        ws_id,
        None,
    )
    assert (row.starting_at, row.ending_at) == (day, day + timedelta(days=1))
    request = standin.matching("GET", f"{ORG}/analytics/cost")[-1]
    assert request.query["group_by[]"] == ["actor", "model", "workspace_id", "token_type"]
    assert request.query["time_bucket_width"] == ["1d"] and request.query["limit"] == ["1000"]
    assert request.query["starting_at"] == ["2026-11-01T00:00:00+00:00"]


def test_cost_report_reads_every_page(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    day = datetime(2026, 11, 3, tzinfo=UTC)
    for i in range(1500):
        standin.add_cost(
            starting_at=day, ending_at=day + timedelta(hours=1), amount_cents="0.333", api_key_id=f"apikey_{i:04d}"
        )
    standin.reset_requests()

    report = gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, group_by=["api_key_id"])

    assert len(report.rows) == 1500
    assert sum((r.amount_usd for r in report.rows), Decimal(0)) == Decimal("4.995")
    assert standin.count("GET", f"{ORG}/analytics/cost") == 2


def test_usage_report(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    dev_id = seeded_id(standin, "developer")
    day = datetime(2026, 11, 4, tzinfo=UTC)
    standin.add_usage(
        starting_at=day,
        ending_at=day + timedelta(hours=1),
        input_tokens=100,
        output_tokens=50,
        cache_read=10,
        cache_creation_5m=3,
        cache_creation_1h=2,
        requests=4,
        model="claude-opus-4-1",
        api_key_id="apikey_A",
        actor_user_id=dev_id,
        workspace_id="wrkspc_X",
    )

    report = gateway.usage_report(
        starting_at=NOV_1, ending_at=NOV_8, group_by=["actor", "api_key_id", "model", "workspace_id"]
    )

    (row,) = report.rows
    assert (row.uncached_input_tokens, row.output_tokens, row.cache_read_input_tokens) == (100, 50, 10)
    assert (row.cache_creation_tokens, row.total_tokens, row.requests) == (5, 165, 4)
    assert (row.model, row.api_key_id, row.actor_user_id, row.workspace_id) == (
        "claude-opus-4-1",
        "apikey_A",
        dev_id,
        "wrkspc_X",
    )
    assert report.data_refreshed_at is not None

    (total,) = gateway.usage_report(starting_at=NOV_1, ending_at=NOV_8).rows
    assert total.total_tokens == 165 and total.model is None


def test_naive_datetimes_are_refused(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    before = standin.count()
    with pytest.raises(ValueError, match="timezone-aware"):
        gateway.cost_report(starting_at=datetime(2026, 11, 1), ending_at=NOV_8)
    with pytest.raises(ValueError, match="timezone-aware"):
        gateway.usage_report(starting_at=NOV_1, ending_at=datetime(2026, 11, 8))
    with pytest.raises(ValueError):
        gateway.usage_report(starting_at=NOV_8, ending_at=NOV_1)
    assert standin.count() == before


def test_analytics_that_are_not_switched_on_read_as_feature_unavailable(
    standin: AnthropicStandIn, gateway: AdminGateway
) -> None:
    standin.inject("GET", r"/analytics/usage$", status=404)
    with pytest.raises(FeatureUnavailable):
        gateway.usage_report(starting_at=NOV_1, ending_at=NOV_8)


def test_empty_filters_are_refused_before_any_call(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    # The SDK would drop an empty list from the query string, and the API would answer for the whole org.
    standin.add_cost(starting_at=NOV_1, ending_at=NOV_1 + timedelta(days=1), amount_cents="500", api_key_id="k")
    before = standin.count()
    for name in ("api_key_ids", "workspace_ids", "models", "actor_ids"):
        empty: dict[str, Any] = {name: []}
        with pytest.raises(ValueError, match="whole organization"):
            gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, **empty)
        with pytest.raises(ValueError, match="whole organization"):
            gateway.usage_report(starting_at=NOV_1, ending_at=NOV_8, **empty)
    assert standin.count() == before
    # An empty *entry* is a real filter (key-less usage) and is sent.
    keyless = gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, api_key_ids=[""]).rows
    assert sum((r.amount_usd for r in keyless), Decimal(0)) == 0
    assert gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8).rows[0].amount_usd == Decimal("5")
    assert standin.matching("GET", f"{ORG}/analytics/cost")[-2].query["api_key_ids[]"] == [""]


def test_analytics_floor_is_the_later_of_2026_and_365_days_back() -> None:
    assert analytics_floor(datetime(2026, 6, 1, tzinfo=UTC)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert analytics_floor(datetime(2027, 6, 1, tzinfo=UTC)) == datetime(2026, 6, 1, tzinfo=UTC)


def test_the_standin_refuses_ranges_older_than_365_days(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.clock_now = datetime(2027, 6, 1, tzinfo=UTC)
    with pytest.raises(BadRequest, match="365 days"):
        gateway.usage_report(starting_at=datetime(2026, 5, 1, tzinfo=UTC), ending_at=datetime(2026, 5, 20, tzinfo=UTC))
    floor = analytics_floor(standin.clock_now)
    assert (
        sum(r.total_tokens for r in gateway.usage_report(starting_at=floor, ending_at=floor + timedelta(days=1)).rows)
        == 0
    )
