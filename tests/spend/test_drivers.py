"""Alerts that explain themselves: the drivers of threshold, forecast and spike alerts (keys, models, workspaces,
people with Slack mentions, exact figures), Mark as planned (silences the day, leaves the baseline, admins only,
audited), and hostile Console names inside Block Kit limits. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.core.errors import UserError
from bot.deps import Deps
from bot.jobs.context import JobResult
from bot.registry import run_job
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.ids import Action
from bot.spend import blocks_budgets, planned
from bot.spend.blocks_drivers import PLANNED_BLOCK
from bot.spend.driver_model import Basis, Driver, DriverKind, Drivers
from bot.spend.model import AlertKind, BudgetAlert, BudgetView, Contacts, Spike
from bot.spend.positions import position
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AuditEvent, SlackUser
from tests.conftest import Clock, DepsFactory
from tests.test_builders_strict import mrkdwn_texts

DAY = timedelta(days=1)
CHANNEL = "C0ADMIN"
FIRST = datetime(2026, 10, 10, tzinfo=UTC)  # seven quiet days, then Oct 17
SPIKE_DAY = date(2026, 10, 17)


@pytest.fixture
def clock(anthropic_standin) -> Clock:
    return Clock(FIRST, anthropic_standin)


@pytest.fixture
def ddeps(make_deps: DepsFactory, clock: Clock) -> Deps:
    """A budget large enough that only spikes fire (tests that want thresholds lower it)."""
    return make_deps(monthly_budget_usd=Decimal(100000), clock=clock)


class Org:
    """Two keys in two workspaces, owned by two people; Bob is in the stored Slack directory as U0BOB."""

    def __init__(self, standin: Any, deps: Deps) -> None:
        self.standin = standin
        self.ws = standin.seeded["workspace"]["id"]
        self.research = standin.add_workspace("research")["id"]
        dev = standin.seeded["developer"]["id"]
        self.bob = standin.add_user("bob@example.com", name="Bob Builder")["id"]
        self.search = standin.add_api_key(
            name="prod-search", workspace_id=self.ws, created_by_user_id=dev, partial_key_hint="sk-ant-api03-ab...4f2a"
        )["id"]
        self.batch = standin.add_api_key(name="batch-import", workspace_id=self.research, created_by_user_id=self.bob)[
            "id"
        ]
        with session_scope(deps.engine) as session:
            session.add(SlackUser(slack_user_id="U0BOB", email="bob@example.com", name="Bob"))

    def cost(self, day: datetime, cents: str, *, key: str, model: str, ws: str, actor: str | None = None) -> None:
        self.standin.add_cost(
            starting_at=day,
            ending_at=day + DAY,
            amount_cents=cents,
            model=model,
            workspace_id=ws,
            api_key_id=key,
            actor_user_id=actor,
        )

    def quiet_week_then_spike(self) -> None:
        """$5 a day on prod-search for a week; on Oct 17 $10 there and $90 on batch-import (sonnet, research)."""
        for i in range(7):
            self.cost(FIRST + i * DAY, "500", key=self.search, model="claude-opus-4", ws=self.ws)
        spike = FIRST + 7 * DAY
        self.cost(spike, "1000", key=self.search, model="claude-opus-4", ws=self.ws)
        self.cost(spike, "9000", key=self.batch, model="claude-sonnet-4", ws=self.research)


@pytest.fixture
def org(anthropic_standin, ddeps: Deps) -> Org:
    return Org(anthropic_standin, ddeps)


def run(deps: Deps) -> JobResult:
    result = run_job("budget-alerts", deps, out=lambda _: None)
    assert result is not None and result.errors == []
    return result


def posted(slack_standin, prefix: str) -> list[Any]:
    return [m for m in slack_standin.messages(CHANNEL) if (m.text or "").startswith(prefix) and m.thread_ts is None]


def rendered(message: Any) -> str:
    return json.dumps(message.blocks)


def fields_of(message: Any) -> dict[str, str]:
    """The drivers section's fields by title ("Keys", "Models", "Workspaces", "People")."""
    out = {}
    for block in message.blocks:
        for field in block.get("fields") or []:
            title, _, body = field["text"].partition("\n")
            out[title.strip("*")] = body
    return out


# --- spike ----------------------------------------------------------------------------------------------------


def test_a_spike_names_its_drivers_with_exact_figures(
    ddeps: Deps, clock: Clock, org: Org, anthropic_standin, slack_standin
) -> None:
    org.quiet_week_then_spike()
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    anthropic_standin.reset_requests()
    run(ddeps)
    (spike,) = posted(slack_standin, "Spend spike")
    assert spike.text == "Spend spike: org spent $100.00 on Oct 17, 2026."
    fields = fields_of(spike)
    assert fields["Keys"].splitlines() == [
        f"• `batch-import` (sk-ant-api03-{org.batch[-4:]}...AA): $90.00, +$90.00 on $0.00/day",
        "• `prod-search` (sk-ant-api03-ab...4f2a): $10.00, +$5.00 on $5.00/day",
    ]
    assert fields["Models"].splitlines() == [
        "• `claude-sonnet-4`: $90.00, +$90.00 on $0.00/day",
        "• `claude-opus-4`: $10.00, +$5.00 on $5.00/day",
    ]
    assert fields["Workspaces"].splitlines() == [
        "• research: $90.00, +$90.00 on $0.00/day",
        "• default-ws: $10.00, +$5.00 on $5.00/day",
    ]
    # People: the keys' creators; Bob is matched in the stored directory, the developer by name.
    assert fields["People"].splitlines() == [
        "• <@U0BOB>: $90.00, +$90.00 on $0.00/day",
        "• Dev Eloper: $10.00, +$5.00 on $5.00/day",
    ]
    text = rendered(spike)
    assert "Oct 17, 2026 against the daily mean of the 7 days before ($5.00/day)" in text
    assert "Drivers: data as of" in text
    # One grouped cost call names every driver (the job's own daily call is the other one).
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/cost") == 2
    groups = [r for r in anthropic_standin.requests if "/analytics/cost" in r.path]
    assert any(set(r.query.get("group_by[]", [])) == {"api_key_id", "model", "workspace_id", "actor"} for r in groups)


def test_no_alert_means_no_drivers_call(ddeps: Deps, clock: Clock, org: Org, anthropic_standin, slack_standin) -> None:
    for i in range(8):
        org.cost(FIRST + i * DAY, "500", key=org.search, model="claude-opus-4", ws=org.ws)
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    anthropic_standin.reset_requests()
    assert run(ddeps).sent == 0
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/cost") == 1
    assert anthropic_standin.count("GET", r"/v1/organizations/api_keys") == 0


def test_a_person_attributed_directly_is_named_without_a_key(
    ddeps: Deps, clock: Clock, org: Org, anthropic_standin, slack_standin
) -> None:
    """Console or Claude Code spend: no key, a user actor; a person with no Slack match is named."""
    carol = anthropic_standin.add_user("carol@example.com", name="Carol Console")["id"]
    anthropic_standin.add_cost(
        starting_at=FIRST + 7 * DAY,
        ending_at=FIRST + 8 * DAY,
        amount_cents="4000",
        model="claude-opus-4",
        workspace_id=org.ws,
        actor_user_id=carol,
    )
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    run(ddeps)
    (spike,) = posted(slack_standin, "Spend spike")
    fields = fields_of(spike)
    assert fields["Keys"].splitlines() == ["• `no API key (Console, Claude Code)`: $40.00, +$40.00 on $0.00/day"]
    assert fields["People"].splitlines() == ["• Carol Console: $40.00, +$40.00 on $0.00/day"]


# --- threshold and forecast -----------------------------------------------------------------------------------


def test_a_threshold_alert_names_drivers_by_share_of_the_period(
    make_deps: DepsFactory, clock: Clock, org: Org, slack_standin
) -> None:
    deps = make_deps(monthly_budget_usd=Decimal(1000), clock=clock)
    oct1 = datetime(2026, 10, 1, tzinfo=UTC)
    org.cost(oct1, "30000", key=org.search, model="claude-opus-4", ws=org.ws)
    org.cost(oct1 + DAY, "20000", key=org.batch, model="claude-sonnet-4", ws=org.research)
    org.cost(oct1 + DAY, "10000", key=org.search, model="claude-sonnet-4", ws=org.ws)
    clock.set(oct1 + 2 * DAY + timedelta(hours=1))
    run(deps)
    (alert,) = posted(slack_standin, "Org budget")
    assert alert.text == "Org budget: 60% used — $600.00 of $1,000.00 for October 2026; crossed the 50% alert."
    fields = fields_of(alert)
    assert fields["Keys"].splitlines() == [
        "• `prod-search` (sk-ant-api03-ab...4f2a): $400.00 (66%)",
        f"• `batch-import` (sk-ant-api03-{org.batch[-4:]}...AA): $200.00 (33%)",
    ]
    assert fields["Models"].splitlines() == ["• `claude-opus-4`: $300.00 (50%)", "• `claude-sonnet-4`: $300.00 (50%)"]
    assert fields["People"].splitlines() == ["• Dev Eloper: $400.00 (66%)", "• <@U0BOB>: $200.00 (33%)"]
    assert "share of the period's $600.00" in rendered(alert)


def test_a_forecast_alert_names_what_rose_yesterday(
    make_deps: DepsFactory, clock: Clock, org: Org, anthropic_standin, slack_standin
) -> None:
    deps = make_deps(monthly_budget_usd=Decimal(5000), clock=clock)
    oct1 = datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(4):
        org.cost(oct1 + i * DAY, "2000", key=org.search, model="claude-opus-4", ws=org.ws)  # $20 a day
    org.cost(oct1 + 3 * DAY, "70000", key=org.batch, model="claude-sonnet-4", ws=org.research)  # $700 on Oct 4
    clock.set(oct1 + 4 * DAY + timedelta(hours=1))
    anthropic_standin.reset_requests()
    run(deps)
    (forecast,) = posted(slack_standin, "Forecast alert")  # $780 by Oct 5: about $6,000 by Oct 31
    fields = fields_of(forecast)
    # Oct 4 against the mean of Sep 27 to Oct 3: $60 over 7 days, $8.571428… a day (exact until shown).
    assert fields["Keys"].splitlines() == [
        f"• `batch-import` (sk-ant-api03-{org.batch[-4:]}...AA): $700.00, +$700.00 on $0.00/day",
        "• `prod-search` (sk-ant-api03-ab...4f2a): $20.00, +$11.43 on $8.57/day",
    ]
    assert fields["Workspaces"].splitlines() == [
        "• research: $700.00, +$700.00 on $0.00/day",
        "• default-ws: $20.00, +$11.43 on $8.57/day",
    ]
    assert "Oct 4, 2026 against the daily mean of the 7 days before ($8.57/day)" in rendered(forecast)
    # The spike alert about the same day shares the forecast's drivers call.
    (spike,) = posted(slack_standin, "Spend spike")
    assert fields_of(spike) == fields
    assert anthropic_standin.count("GET", r"/v1/organizations/analytics/cost") == 2


# --- mark as planned ------------------------------------------------------------------------------------------


def test_mark_as_planned_silences_the_day_and_leaves_the_baseline(
    ddeps: Deps, clock: Clock, org: Org, slack_standin
) -> None:
    org.quiet_week_then_spike()
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    run(ddeps)
    (spike,) = posted(slack_standin, "Spend spike")
    actions = next(b for b in spike.blocks if b.get("block_id") == PLANNED_BLOCK)
    button = actions["elements"][0]
    assert button["action_id"] == Action.SPIKE_PLANNED and button["confirm"]["text"]["type"] == "plain_text"
    value = json.loads(button["value"])
    assert value == {"s": "org", "d": "2026-10-17"}

    done = planned.mark_planned(
        ddeps,
        slack_user_id="U0ADMIN",
        scope_key="org",
        day=SPIKE_DAY,
        channel=CHANNEL,
        ts=spike.ts,
        blocks=spike.blocks,
    )
    assert not done.already
    edited = next(m for m in slack_standin.messages(CHANNEL) if m.ts == spike.ts)
    assert "Marked as planned by <@U0ADMIN>" in rendered(edited)
    assert PLANNED_BLOCK not in rendered(edited)
    with session_scope(ddeps.engine) as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "budget.spike_planned")).all()
        assert [(a.actor_slack_id, a.subject_id, json.loads(a.after or "{}")) for a in audit] == [
            ("U0ADMIN", "org", {"planned_day": "2026-10-17"})
        ]
        assert repo.ledger_has(session=session, job="budget-alerts", key="planned:org:2026-10-17")
    # A second click says so and records nothing more.
    again = planned.mark_planned(ddeps, slack_user_id="U0ADMIN", scope_key="org", day=SPIKE_DAY)
    assert again.already

    # Oct 18: $20. With Oct 17 in the baseline the mean is $18.57 (no spike: $20 < 3x); without it, $5: a spike.
    org.cost(FIRST + 8 * DAY, "2000", key=org.search, model="claude-opus-4", ws=org.ws)
    clock.set(FIRST + 9 * DAY + timedelta(hours=2))
    run(ddeps)
    spikes = posted(slack_standin, "Spend spike")
    assert [m.text for m in spikes] == [
        "Spend spike on Oct 17, 2026: marked as planned.",  # the first alert, edited
        "Spend spike: org spent $20.00 on Oct 18, 2026.",
    ]
    later = rendered(spikes[1])
    assert "daily average of $5.00 over the 6 days before" in later  # Oct 17 left the baseline
    assert "Oct 18, 2026 against the daily mean of the 6 days before ($5.00/day)" in later
    assert "+$15.00 on $5.00/day" in later  # the drivers' baseline leaves it out too


def test_a_day_marked_planned_before_its_check_sends_no_spike(
    ddeps: Deps, clock: Clock, org: Org, slack_standin
) -> None:
    org.quiet_week_then_spike()
    clock.set(FIRST + 8 * DAY + timedelta(minutes=30))
    planned.mark_planned(ddeps, slack_user_id="U0ADMIN", scope_key="org", day=SPIKE_DAY)
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    run(ddeps)
    assert posted(slack_standin, "Spend spike") == []


def test_without_the_mark_the_spike_stays_in_the_baseline(ddeps: Deps, clock: Clock, org: Org, slack_standin) -> None:
    org.quiet_week_then_spike()
    org.cost(FIRST + 8 * DAY, "2000", key=org.search, model="claude-opus-4", ws=org.ws)
    clock.set(FIRST + 9 * DAY + timedelta(hours=2))  # judges Oct 18 only
    run(ddeps)
    assert posted(slack_standin, "Spend spike") == []  # Oct 18's $20 against a mean of $18.57


@pytest.mark.parametrize("who", ["U0DEV", "U0OUTSIDER"])
def test_a_non_admin_cannot_mark_a_spike_as_planned(
    ddeps: Deps, clock: Clock, org: Org, slack_standin, who: str
) -> None:
    slack_standin.add_user("U0OUTSIDER", name="out", real_name="Out Sider", email="outsider@example.com")
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    with pytest.raises(UserError, match="Only admins can mark a spend spike as planned"):
        planned.mark_planned(ddeps, slack_user_id=who, scope_key="org", day=SPIKE_DAY)
    with session_scope(ddeps.engine) as session:
        assert not repo.ledger_has(session=session, job="budget-alerts", key="planned:org:2026-10-17")
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "budget.spike_planned")).all() == []


def test_planned_refuses_a_future_day_or_an_unknown_budget(ddeps: Deps, clock: Clock, org: Org) -> None:
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    with pytest.raises(UserError, match="past day"):
        planned.mark_planned(ddeps, slack_user_id="U0ADMIN", scope_key="org", day=date(2026, 10, 18))
    with pytest.raises(UserError, match="no longer exists"):
        planned.mark_planned(ddeps, slack_user_id="U0ADMIN", scope_key="workspace:wrkspc_gone", day=SPIKE_DAY)
    with pytest.raises(UserError, match="no longer valid"):
        planned.parse_day("yesterday")


# --- hostile names ------------------------------------------------------------------------------------------------


def test_hostile_console_names_stay_inside_block_kit_limits(
    ddeps: Deps, clock: Clock, anthropic_standin, slack_standin
) -> None:
    """Key, workspace and user names typed in the Console: pings, links, markup, and 3,000 characters each."""
    evil = "<!channel> *bold* https://evil.example/login <@U0ADMIN> &amp; " * 50
    ws = anthropic_standin.add_workspace(evil[:3000])["id"]
    person = anthropic_standin.add_user("evil@example.com", name=evil[:3000])["id"]
    for n in range(5):
        key = anthropic_standin.add_api_key(name=f"{n}{evil}"[:3000], workspace_id=ws, created_by_user_id=person)["id"]
        anthropic_standin.add_cost(
            starting_at=FIRST + 7 * DAY,
            ending_at=FIRST + 8 * DAY,
            amount_cents=str(5000 + n),
            model=evil[:200],
            workspace_id=ws,
            api_key_id=key,
        )
    clock.set(FIRST + 8 * DAY + timedelta(hours=2))
    run(ddeps)  # the strict Slack stand-in refuses a message over any Block Kit limit
    (spike,) = posted(slack_standin, "Spend spike")
    text = rendered(spike)
    assert "<!channel>" not in text and "<@U0ADMIN>" not in text
    assert "https://evil" not in text
    assert any(b.get("fields") for b in spike.blocks)


# --- the builder on its own, fed hostile text (pure; hypothesis) ---------------------------------------------------

FRAGMENTS = ["&", "<", ">", "&amp;", "<!channel>", "<@U0EVIL|boss>", "<https://evil.example|x>", "www.evil.example"]
FRAGMENTS += ["https://evil.example/login", "@here", "*", "`", ":tada:", "🔥", "\n", " ", "x", "é"]
hostile = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join) | st.text(max_size=80)
long_hostile = st.one_of(hostile, st.sampled_from(["&", "<", "x", "🔥"]).map(lambda c: c * 1000))


@given(names=st.lists(long_hostile, min_size=4, max_size=4), kind=st.sampled_from(list(AlertKind)))
@settings(max_examples=25, deadline=None)
def test_every_alert_with_drivers_is_sendable(names: list[str], kind: AlertKind) -> None:
    key, model, ws, person = names
    day = date(2026, 10, 17)
    budget = BudgetView("workspace:wrkspc_1", Decimal(1000), (50, 75), 1, workspace_id="wrkspc_1", workspace_name=ws)
    pos = position(budget, Decimal("612.345"), datetime(2026, 10, 18, tzinfo=UTC), UTC)
    basis = Basis.SHARE if kind is AlertKind.THRESHOLD else Basis.CHANGE
    one = Driver(key, Decimal("90.005"), detail=key, baseline=Decimal("1.5"), share=Decimal("0.4"))
    by_kind = {
        DriverKind.KEY: (one, one, one),
        DriverKind.MODEL: (Driver(model, Decimal(3), baseline=Decimal(1), share=Decimal("0.1")),) * 3,
        DriverKind.WORKSPACE: (Driver(ws, Decimal(3), baseline=Decimal(1), share=Decimal("0.1")),) * 3,
        DriverKind.PERSON: (
            Driver(person, Decimal(3), baseline=Decimal(0)),
            Driver(person, Decimal(1), slack_user_id="U0BOB"),
        ),
    }
    drivers = Drivers(
        basis, Decimal(100), by_kind, day=day, baseline_days=6, data_as_of=datetime(2026, 10, 18, tzinfo=UTC)
    )
    spike = Spike(day, Decimal(100), Decimal(5), 3, 6) if kind is AlertKind.SPIKE else None
    alert = BudgetAlert(
        kind, pos, Contacts(admin_channel_id="C0ADMIN"), UTC, threshold=50, spike=spike, drivers=drivers
    )
    reply = blocks_budgets.budget_alert(alert)
    dicts = [b.to_dict() for b in reply.blocks or []]
    assert message_problems(dicts) == []
    text = json.dumps(mrkdwn_texts(dicts))  # plain_text (the confirm dialog) never renders markup
    assert not any(markup in text for markup in ("<!channel", "<!here", "<https://evil", "<@U0EVIL"))
    if kind is AlertKind.SPIKE:
        (actions,) = [b for b in dicts if b.get("block_id") == PLANNED_BLOCK]
        assert actions["elements"][0]["confirm"]["text"]["type"] == "plain_text"
