"""The usage chart of a budget scope: cumulative spend against the budget line and the forecast to the period's
end (AWS Budgets' burn chart) beside spend per day by model. Service on SQLite and PostgreSQL; the PNG itself.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.deps import Deps
from bot.spend import blocks_usage, charts, usage
from bot.spend.model import BurnChart, Period, ScopeKind, UsageQuery
from handlers.tasks import Task, chart_args, chart_from_args
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOV1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert png[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture
def bdeps(make_deps: DepsFactory) -> Deps:
    return make_deps(clock=lambda: NOW, monthly_budget_usd=Decimal(1500))


def seed_month(standin) -> None:
    ws = standin.seeded["workspace"]["id"]
    for i in range(19):  # Nov 1 to 19: $50 a day on opus, $10.005 on haiku
        day = NOV1 + i * DAY
        standin.add_cost(
            starting_at=day, ending_at=day + DAY, amount_cents="5000", model="claude-opus-4", workspace_id=ws
        )
        standin.add_cost(
            starting_at=day, ending_at=day + DAY, amount_cents="1000.5", model="claude-haiku-4", workspace_id=ws
        )


@pytest.mark.parametrize("period", [Period.MTD, Period.D7])
def test_an_org_usage_chart_carries_the_budget_burn(bdeps: Deps, anthropic_standin, period: Period) -> None:
    seed_month(anthropic_standin)
    report = usage.usage_report(bdeps, "U0ADMIN", UsageQuery(ScopeKind.ORG, period))
    chart = blocks_usage.usage_chart(report)
    assert chart is not None and chart.burn is not None
    burn = chart.burn
    assert (burn.first_day, burn.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert burn.budget == Decimal(1500)
    assert sum(burn.daily.values(), Decimal(0)) == Decimal("1140.095")  # 19 days of $60.005, exact
    assert report.position is not None and burn.forecast == report.position.forecast
    assert burn.forecast is not None and burn.forecast > burn.budget  # on track to go over
    assert "budget's cumulative spend" in chart.comment
    # The bars keep the report's own period (7 days: Nov 14 to 20).
    expected_start = date(2026, 11, 1) if period is Period.MTD else date(2026, 11, 14)
    assert chart.start == expected_start
    # Through the task queue's JSON and back, exact.
    again = chart_from_args(json.loads(Task("usage.chart", chart_args(chart)).to_json())["args"])
    assert again == chart


def test_usage_me_has_no_burn(bdeps: Deps, anthropic_standin) -> None:
    seed_month(anthropic_standin)
    report = usage.usage_report(bdeps, "U0DEV", UsageQuery(ScopeKind.ME, Period.MTD))
    assert report.burn is None


def test_the_burn_chart_renders_beside_the_bars() -> None:
    daily = {date(2026, 11, 1) + timedelta(days=i): {"claude-opus-4": Decimal("50.5")} for i in range(20)}
    burn = BurnChart(
        date(2026, 11, 1),
        date(2026, 11, 30),
        {d: sum(v.values(), Decimal(0)) for d, v in daily.items()},
        Decimal(1000),
        Decimal("1515.00"),
    )
    plain = charts.daily_spend_png(daily, date(2026, 11, 1), date(2026, 11, 20), title="Spend per day")
    both = charts.daily_spend_png(daily, date(2026, 11, 1), date(2026, 11, 20), title="Spend per day", burn=burn)
    assert png_size(plain) == (900, 420)
    assert png_size(both) == (1500, 460)  # two panels side by side
    assert 10_000 < len(both) < 1_000_000
    assert both != plain


def test_a_burn_chart_without_a_forecast_or_spend_still_renders() -> None:
    burn = BurnChart(date(2026, 11, 1), date(2026, 11, 30), {}, Decimal(1000), None)
    png = charts.daily_spend_png({}, date(2026, 11, 1), date(2026, 11, 2), title="x", burn=burn)
    assert png_size(png) == (1500, 460)
