"""The budget-alerts job over a simulated month (injected clock, stand-in cost data), on SQLite and PostgreSQL.

Each threshold alerts exactly once; reruns and two schedulers at once send nothing more; a raised budget
re-arms only the thresholds above spend; the forecast waits for 3 days of data; spikes; new periods.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.directory import remember_user
from bot.jobs.context import JobResult
from bot.registry import run_job
from bot.spend import budgets, positions
from storage.db import session_scope
from storage.models import LedgerEntry
from tests.conftest import Clock, DepsFactory

OCT1 = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)
CHANNEL = "C0ADMIN"  # ALERT_CHANNEL_ID defaults to the admin channel


@pytest.fixture
def clock(anthropic_standin) -> Clock:
    return Clock(OCT1, anthropic_standin)


@pytest.fixture
def bdeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    """Deps on both databases with MONTHLY_BUDGET_USD=1000 and the simulated clock."""
    return make_deps(monthly_budget_usd=Decimal(1000), clock=clock)


def daily_costs(standin, first: datetime, amounts_cents: list[str], model: str = "claude-opus-4") -> None:
    ws = standin.seeded["workspace"]["id"]
    for i, cents in enumerate(amounts_cents):
        start = first + i * DAY
        standin.add_cost(starting_at=start, ending_at=start + DAY, amount_cents=cents, model=model, workspace_id=ws)


def alerts(slack_standin, prefix: str = "") -> list[str]:
    """Fallback texts of the alerts posted so far, optionally only those starting with `prefix`."""
    texts = [m.text or "" for m in slack_standin.messages(CHANNEL) if m.thread_ts is None]
    return [t for t in texts if t.startswith(prefix)]


THRESHOLD, FORECAST, SPIKE = "Org budget", "Forecast alert", "Spend spike"


def run(deps: Deps, **kwargs) -> JobResult:
    result = run_job("budget-alerts", deps, out=lambda _: None, **kwargs)
    assert result is not None
    assert result.errors == []
    return result


def test_a_simulated_month_alerts_each_threshold_exactly_once(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1 - 30 * DAY, ["4000"] * 61)  # $40 a day; $1,000 is reached on the 25th
    sent = []
    for step in range(31 * 4):  # every 6 hours through October
        clock.set(OCT1 + step * timedelta(hours=6) + timedelta(minutes=5))
        sent.append(run(bdeps).sent)
    texts = alerts(slack_standin)
    threshold_texts = [t for t in texts if t.startswith(THRESHOLD)]
    assert [t.split("crossed the ")[1].split("%")[0] for t in threshold_texts] == ["50", "75", "90", "100"]
    assert len([t for t in texts if t.startswith("Forecast alert")]) == 1
    assert not [t for t in texts if t.startswith("Spend spike")]  # a flat $40 a day is no spike
    assert sum(sent) == len(texts) == 5
    # The 50 % alert came on the 13th ($520 by then; $480 on the 12th), with the numbers spelled out.
    first = next(m for m in slack_standin.messages(CHANNEL) if (m.text or "").startswith(THRESHOLD))
    rendered = str(first.blocks)
    assert "$520.00" in rendered and "$1,000.00" in rendered and "52%" in rendered
    assert "ends Oct 31" in rendered and "Data as of" in rendered and "Talk to" in rendered
    # A rerun at the same moment sends nothing.
    assert run(bdeps).sent == 0
    assert len(alerts(slack_standin)) == 5


def test_crossing_several_thresholds_at_once_names_the_highest(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1, ["95000"])  # $950 on day one
    clock.set(OCT1 + DAY + timedelta(hours=1))
    run(bdeps)
    (text,) = alerts(slack_standin, THRESHOLD)
    assert text == "Org budget: 95% used — $950.00 of $1,000.00 for October 2026; crossed the 90% alert."
    assert alerts(slack_standin, SPIKE) == ["Spend spike: org spent $950.00 on Oct 1, 2026."]  # after a silent week
    assert run(bdeps).sent == 0
    with session_scope(bdeps.engine) as session:
        keys = {e.key for e in session.exec(select(LedgerEntry).where(LedgerEntry.job == "budget-alerts"))}
    assert {"threshold:org:2026-10:50:r1", "threshold:org:2026-10:75:r1", "threshold:org:2026-10:90:r1"} <= keys


def test_two_schedulers_at_once_send_each_alert_once(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1 - 10 * DAY, ["4000"] * 30)  # $800 by the 21st: 50 % and 75 % crossed
    anthropic_standin.latency = 0.05  # keep the first run busy while the second one arrives
    clock.set(OCT1 + 20 * DAY + timedelta(hours=1))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def replica(holder: str) -> None:
        barrier.wait()
        for _ in range(3):
            results.append(run_job("budget-alerts", bdeps, holder=holder, out=lambda _: None))

    threads = [threading.Thread(target=replica, args=(f"replica-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 6
    texts = alerts(slack_standin)
    assert len([t for t in texts if t.startswith(THRESHOLD)]) == 1  # 50 and 75 at once: one message, 75
    assert "crossed the 75% alert" in texts[0] or "crossed the 75% alert" in texts[1]
    assert len([t for t in texts if t.startswith("Forecast alert")]) == 1
    assert len(texts) == 2


def test_a_budget_raised_mid_month_re_arms_only_thresholds_above_spend(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1, ["80000"])  # $800 on the 1st
    clock.set(OCT1 + DAY + timedelta(hours=1))
    run(bdeps)
    assert alerts(slack_standin, THRESHOLD) == [
        "Org budget: 80% used — $800.00 of $1,000.00 for October 2026; crossed the 75% alert."
    ]
    # Raised to $1,200: 50 % ($600) is still below spend and stays announced; 75 % ($900) is armed again.
    budgets.set_budget(bdeps, "U0ADMIN", Decimal(1200))
    assert run(bdeps).sent == 0
    daily_costs(anthropic_standin, OCT1 + DAY, ["11000"])  # $910 by the 3rd
    clock.set(OCT1 + 2 * DAY + timedelta(hours=1))
    run(bdeps)
    assert alerts(slack_standin, THRESHOLD)[1:] == [
        "Org budget: 75% used — $910.00 of $1,200.00 for October 2026; crossed the 75% alert."
    ]
    assert run(bdeps).sent == 0


def test_a_budget_set_when_the_api_is_down_is_settled_by_the_job(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1, ["80000"])
    clock.set(OCT1 + DAY + timedelta(hours=1))
    run(bdeps)
    anthropic_standin.inject("GET", r"/analytics/cost", status=503, times=3, headers={"x-should-retry": "false"})
    budgets.set_budget(bdeps, "U0ADMIN", Decimal(1200))
    anthropic_standin.clear_faults()
    assert run(bdeps).sent == 0  # 50 % carried over by the job, 75 % above spend


def test_the_forecast_stays_quiet_with_under_three_days_of_data(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    daily_costs(anthropic_standin, OCT1, ["10000", "10000", "10000"])  # $100 a day: $3,100 projected
    clock.set(OCT1 + 3 * DAY - timedelta(minutes=1))
    run(bdeps)
    assert alerts(slack_standin, FORECAST) == []
    clock.set(OCT1 + 3 * DAY + timedelta(minutes=1))
    run(bdeps)
    forecasts = alerts(slack_standin, FORECAST)
    assert forecasts == [
        "Forecast alert — Org budget: on track to spend $3,099.28 of $1,000.00 by Oct 31, 2026; 30% used so far."
    ]
    clock.set(OCT1 + 10 * DAY)
    run(bdeps)
    assert len(alerts(slack_standin, FORECAST)) == 1  # once per period


def test_forecast_arithmetic_is_exact() -> None:
    start, end = OCT1, OCT1 + 31 * DAY
    assert positions.forecast(Decimal("300"), start, end, OCT1 + 3 * DAY) == Decimal("3100")
    assert positions.forecast(Decimal("300"), start, end, OCT1 + 3 * DAY - timedelta(microseconds=1)) is None
    assert positions.crossed(Decimal("499.99"), Decimal(1000), [50, 75]) == []
    assert positions.crossed(Decimal("500.00"), Decimal(1000), [50, 75]) == [50]


@pytest.mark.parametrize(
    ("trailing_cents", "yesterday_cents", "spike"),
    [("500", "10000", True), ("500", "1200", False), ("0", "900", False), ("0", "1001", True)],
)
def test_spike_alert(
    bdeps: Deps,
    clock: Clock,
    anthropic_standin,
    slack_standin,
    trailing_cents: str,
    yesterday_cents: str,
    spike: bool,
) -> None:
    # Seven days of $5 (or $0), then yesterday; the budget is large enough that no threshold fires.
    bdeps.settings = bdeps.settings.model_copy(update={"monthly_budget_usd": Decimal(100000)})
    first = datetime(2026, 10, 10, tzinfo=UTC)
    daily_costs(anthropic_standin, first, [trailing_cents] * 7 + [yesterday_cents])
    clock.set(first + 8 * DAY + timedelta(hours=2))
    run(bdeps)
    spikes = [t for t in alerts(slack_standin) if t.startswith("Spend spike")]
    expected = f"Spend spike: org spent ${Decimal(yesterday_cents) / 100:,.2f} on Oct 17, 2026."
    assert spikes == ([expected] if spike else [])
    run(bdeps)
    assert len([t for t in alerts(slack_standin) if t.startswith("Spend spike")]) == len(spikes)


def test_a_spike_waits_until_yesterday_is_complete(bdeps: Deps, clock: Clock, anthropic_standin, slack_standin) -> None:
    bdeps.settings = bdeps.settings.model_copy(update={"monthly_budget_usd": Decimal(100000)})
    first = datetime(2026, 10, 10, tzinfo=UTC)
    daily_costs(anthropic_standin, first, ["500"] * 7 + ["10000"])
    clock.set(first + 8 * DAY + timedelta(hours=2))
    anthropic_standin.data_refreshed_at = first + 7 * DAY + timedelta(hours=20)  # data lags into yesterday
    run(bdeps)
    assert not [t for t in alerts(slack_standin) if t.startswith("Spend spike")]


def test_a_new_period_is_quiet_unless_the_last_one_went_over(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    nov1 = datetime(2026, 11, 1, tzinfo=UTC)
    clock.set(nov1 + timedelta(minutes=15))
    assert run(bdeps).sent == 0  # October was quiet: nothing to say
    daily_costs(anthropic_standin, OCT1, ["110000"])  # now October went over
    clock.set(OCT1 + 2 * DAY)
    run(bdeps)
    clock.set(nov1 + timedelta(minutes=30))
    assert run(bdeps).sent == 1
    assert alerts(slack_standin)[-1] == "Back under budget: new period started for org."
    clock.set(nov1 + timedelta(hours=5))
    assert run(bdeps).sent == 0


def test_dry_run_prints_and_records_nothing(bdeps: Deps, clock: Clock, anthropic_standin, slack_standin) -> None:
    daily_costs(anthropic_standin, OCT1 - 7 * DAY, ["6000"] * 7 + ["60000"])  # $600 on Oct 1
    clock.set(OCT1 + timedelta(hours=20))  # Oct 1 is still today: no spike judged yet
    printed: list[str] = []
    result = run_job("budget-alerts", bdeps, dry_run=True, out=printed.append)
    assert result is not None and result.sent == 1
    assert printed == [
        f"would post to {CHANNEL}: Org budget: 60% used — $600.00 of $1,000.00 for October 2026; crossed the 50% alert."
    ]
    assert alerts(slack_standin) == []
    assert run(bdeps).sent == 1


def test_no_budget_means_no_alerts(bdeps: Deps, clock: Clock, anthropic_standin, slack_standin) -> None:
    bdeps.settings = bdeps.settings.model_copy(update={"monthly_budget_usd": None})
    daily_costs(anthropic_standin, OCT1, ["500000"])
    clock.set(OCT1 + DAY + timedelta(hours=1))
    result = run(bdeps)
    assert result.sent == 0 and result.notes == ["no budgets"]
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/.*") == 0


def test_workspace_budgets_alert_on_their_own_spend(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    other = anthropic_standin.add_workspace("research")["id"]
    anthropic_standin.add_cost(starting_at=OCT1, ending_at=OCT1 + DAY, amount_cents="6000", workspace_id=other)
    daily_costs(anthropic_standin, OCT1, ["100"])
    clock.set(OCT1 + timedelta(hours=12))
    budgets.set_budget(bdeps, "U0ADMIN", Decimal(100), "Research")
    run(bdeps)
    assert alerts(slack_standin) == [
        "Workspace research budget: 60% used — $60.00 of $100.00 for October 2026; crossed the 50% alert."
    ]


def test_an_alert_in_the_admin_channel_names_the_org_admins_not_the_channel(
    bdeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    """MONTHLY_BUDGET_USD has no one who set it and ADMIN_SLACK_USER_IDS is empty: the org's admins, by name."""
    assert bdeps.settings.alert_channel == bdeps.settings.admin_channel_id == CHANNEL
    bdeps.settings = bdeps.settings.model_copy(update={"admin_slack_user_ids": []})
    anthropic_standin.add_user("boss@example.com", name="Boss", role="admin")
    remember_user(bdeps, {"id": "U0BOSS", "profile": {"email": "boss@example.com"}, "deleted": False})
    daily_costs(anthropic_standin, OCT1, ["80000"])
    clock.set(OCT1 + DAY + timedelta(hours=1))
    run(bdeps)
    (alert,) = posted_alerts(slack_standin, THRESHOLD)
    talk = alert.blocks[-1]["elements"][0]["text"]
    assert talk == "Questions about this budget? Talk to <@U0BOSS>."
    assert f"<#{CHANNEL}>" not in json.dumps(alert.blocks)


def posted_alerts(slack_standin, prefix: str) -> list[Any]:
    return [m for m in slack_standin.messages(CHANNEL) if (m.text or "").startswith(prefix) and m.thread_ts is None]
