"""The Claude Code Analytics report through the gateway: paging, actors, exact money, strict reading, retries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from bot.anthropic_admin import AdminGateway, FeatureUnavailable, ListingIncomplete, Unavailable
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG, Recorder

DAY = date(2026, 11, 3)
PATH = f"{ORG}/usage_report/claude_code"


def test_every_page_of_a_day_is_read_with_the_documented_parameters(
    gateway: AdminGateway, standin: AnthropicStandIn
) -> None:
    for i in range(2345):
        standin.add_claude_code(day=DAY, email=f"Person{i:04d}@Example.com", lines_added=i)
    day = gateway.claude_code_day(DAY)
    assert len(day.records) == 2345
    assert {r.email for r in day.records} == {f"person{i:04d}@example.com" for i in range(2345)}  # lower-cased
    asked = standin.matching("GET", PATH)
    assert len(asked) == 3  # 1000 a page
    assert asked[0].query == {"starting_at": ["2026-11-03"], "limit": ["1000"]}
    assert "page" in asked[1].query and asked[1].query["page"] != asked[2].query["page"]


def test_an_empty_day_is_no_records(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    standin.add_claude_code(day=date(2026, 11, 2), email="ana@example.com")
    assert gateway.claude_code_day(DAY).records == ()


def test_people_and_api_keys_with_metrics_and_exact_cost(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    standin.add_claude_code(
        day=DAY,
        email="ana@example.com",
        sessions=15,
        lines_added=342,
        lines_removed=128,
        commits=8,
        pull_requests=2,
        tools={"edit_tool": (25, 3), "multi_edit_tool": (12, 1), "notebook_edit_tool": (5, 2), "write_tool": (8, 0)},
        models=[
            ("claude-sonnet-4-5", 186, {"input": 45230, "output": 12450, "cache_read": 8790, "cache_creation": 2340}),
            ("claude-haiku-4-5", 42, {"input": 23100}),
        ],
        customer_type="subscription",
        subscription_type="enterprise",
    )
    standin.add_claude_code(day=DAY, api_key_name="ci-pipeline", models=[("claude-sonnet-4-5", 7, {})])
    ana, key = gateway.claude_code_day(DAY).records
    assert (ana.actor_kind, ana.email, ana.api_key_name) == ("user", "ana@example.com", None)
    assert (ana.sessions, ana.lines_added, ana.lines_removed, ana.commits, ana.pull_requests) == (15, 342, 128, 8, 2)
    assert (ana.tool_accepted, ana.tool_rejected) == (50, 6)
    assert ana.cost_usd == Decimal("2.28")
    assert ana.models[0].input_tokens == 45230 and ana.models[0].cache_creation_tokens == 2340
    assert ana.customer_type == "subscription" and ana.day == DAY
    assert (key.actor_kind, key.email, key.api_key_name) == ("api_key", None, "ci-pipeline")
    assert key.cost_usd == Decimal("0.07")


def test_fractional_cents_stay_exact(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    record = standin.add_claude_code(day=DAY, email="ana@example.com")
    record["model_breakdown"] = [
        {"estimated_cost": {"amount": 0.1, "currency": "USD"}, "model": "m", "tokens": _tokens()},
        {"estimated_cost": {"amount": 0.2, "currency": "USD"}, "model": "n", "tokens": _tokens()},
    ]
    (only,) = gateway.claude_code_day(DAY).records
    assert only.cost_usd == Decimal("0.003")  # 0.1 + 0.2 cents, not 0.30000000000000004


def _tokens() -> dict[str, int]:
    return {"input": 0, "output": 0, "cache_read": 0, "cache_creation": 0}


def test_a_count_of_the_wrong_type_is_a_malformed_answer(
    gateway: AdminGateway, standin: AnthropicStandIn, recorder: Recorder
) -> None:
    record = standin.add_claude_code(day=DAY, email="ana@example.com")
    record["core_metrics"]["num_sessions"] = "15"
    with pytest.raises(Unavailable):
        gateway.claude_code_day(DAY)
    assert ("usage_report.claude_code", "malformed_response") in recorder.calls


def test_unknown_fields_are_ignored(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    record = standin.add_claude_code(day=DAY, email="ana@example.com", sessions=3)
    record["core_metrics"]["something_new"] = 1
    record["brand_new_field"] = {"x": 1}
    assert gateway.claude_code_day(DAY).records[0].sessions == 3


def test_a_transient_failure_is_retried_within_the_bound(
    gateway: AdminGateway, standin: AnthropicStandIn, recorder: Recorder
) -> None:
    standin.add_claude_code(day=DAY, email="ana@example.com")
    standin.inject("GET", "/usage_report/claude_code", status=529, times=2)
    assert len(gateway.claude_code_day(DAY).records) == 1
    assert len(recorder.sleeps) == 2
    assert [o for e, o in recorder.calls if e == "usage_report.claude_code"] == [529, 529, 200]


def test_a_repeated_cursor_stops_the_listing(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    for i in range(1500):
        standin.add_claude_code(day=DAY, email=f"p{i}@example.com")
    standin.inject("GET", "/usage_report/claude_code", status=None, repeat_cursor=True, times=100)
    with pytest.raises(ListingIncomplete):
        gateway.claude_code_day(DAY)


def test_too_many_pages_stop_the_listing(make_gateway: Callable[..., AdminGateway], standin: AnthropicStandIn) -> None:
    for i in range(3001):
        standin.add_claude_code(day=DAY, email=f"p{i}@example.com")
    with pytest.raises(ListingIncomplete):
        make_gateway(max_pages=3).claude_code_day(DAY)


def test_a_404_reads_as_a_feature_the_org_lacks(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    standin.inject("GET", "/usage_report/claude_code", status=404)
    with pytest.raises(FeatureUnavailable):
        gateway.claude_code_day(DAY)


def test_a_datetime_is_refused_before_any_call(gateway: AdminGateway, standin: AnthropicStandIn) -> None:
    from datetime import UTC, datetime

    with pytest.raises(TypeError):
        gateway.claude_code_day(datetime(2026, 11, 3, tzinfo=UTC))
    assert standin.count("GET", PATH) == 0
