"""`/claude-key budget show | set | thresholds` and the "Set as Anthropic spend limit" button."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import col, select

from bot.core.errors import UserError
from bot.deps import Deps
from bot.slack.ids import Action
from bot.slack.reply import Reply
from bot.spend import blocks_budgets, budgets
from storage.db import session_scope
from storage.models import AuditEvent, Budget
from tests.botserver import command_body, post_slack
from tests.conftest import DepsFactory

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


# The services return data; these render it as the listeners do (handlers/budget.py).
def set_budget(deps: Deps, user: str, amount: Decimal, workspace: str | None = None) -> Reply:
    return blocks_budgets.budget_saved(budgets.set_budget(deps, user, amount, workspace))


def show_budgets(deps: Deps, user: str) -> Reply:
    return blocks_budgets.budget_list(budgets.show_budgets(deps, user))


def set_thresholds(deps: Deps, user: str, marks: tuple[int, ...]) -> Reply:
    return blocks_budgets.thresholds_saved(budgets.set_thresholds(deps, user, marks))


def mirror_budget(deps: Deps, user: str, scope_key: str) -> Reply:
    return blocks_budgets.mirror_outcome(budgets.mirror_budget(deps, user, scope_key))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), budgets.BudgetCommand("show")),
        (("show",), budgets.BudgetCommand("show")),
        (("set", "$1,250.50"), budgets.BudgetCommand("set", amount=Decimal("1250.50"))),
        (("set", "300", "workspace", "data", "sci"), budgets.BudgetCommand("set", Decimal(300), "data sci")),
        (("thresholds", "90,50,", "75"), budgets.BudgetCommand("thresholds", thresholds=(50, 75, 90))),
    ],
)
def test_parse_budget(args: tuple[str, ...], expected: budgets.BudgetCommand) -> None:
    assert budgets.parse_budget(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("set",),
        ("set", "abc"),
        ("set", "0"),
        ("set", "-5"),
        ("set", "1.005"),
        ("set", "NaN"),
        ("set", "5", "ws"),
        ("thresholds",),
        ("thresholds", "0,50"),
        ("thresholds", "a,b"),
        ("frobnicate",),
    ],
)
def test_bad_budget_arguments_say_how(args: tuple[str, ...]) -> None:
    with pytest.raises(budgets.BudgetSyntaxError, match="/claude-key budget"):
        budgets.parse_budget(args)


@pytest.fixture
def bdeps(make_deps: DepsFactory) -> Deps:
    return make_deps(monthly_budget_usd=Decimal(1000), clock=lambda: NOW)


def test_show_lists_every_budget_with_spend_and_forecast(bdeps: Deps, anthropic_standin) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    for i in range(9):  # $50 a day, Nov 1-9: $450 by the 10th at noon
        start = datetime(2026, 11, 1, tzinfo=UTC) + i * DAY
        anthropic_standin.add_cost(starting_at=start, ending_at=start + DAY, amount_cents="5000", workspace_id=ws)
    set_budget(bdeps, "U0ADMIN", Decimal(300), "default-ws")
    reply = show_budgets(bdeps, "U0DEV")  # anyone may look
    rendered = json.dumps([b.to_dict() for b in reply.blocks or []])
    assert "*org*: $1,000.00 a month (from MONTHLY_BUDGET_USD)" in rendered
    assert "$450.00 spent (45%)" in rendered
    assert "forecast $1,421.05" in rendered  # 450 / 9.5 days * 30 days, exactly, then rounded
    assert "*workspace default-ws*: $300.00 a month" in rendered and "(150%)" in rendered
    assert "Alerts at 50%, 75%, 90%, 100% of each budget go to <#C0ADMIN>" in rendered


def test_only_admins_set_budgets_and_thresholds(bdeps: Deps) -> None:
    with pytest.raises(UserError, match="Only admins"):
        set_budget(bdeps, "U0DEV", Decimal(5))
    with pytest.raises(UserError, match="Only admins"):
        set_thresholds(bdeps, "U0DEV", (10,))
    with session_scope(bdeps.engine) as session:
        assert session.exec(select(Budget)).all() == []


def test_set_stores_the_budget_bumps_the_revision_and_audits(bdeps: Deps) -> None:
    reply = set_budget(bdeps, "U0ADMIN", Decimal("2500.50"))
    assert reply.text == "Saved: the monthly budget for org is $2,500.50."
    set_budget(bdeps, "U0ADMIN", Decimal("2500.50"))  # same amount: same revision
    reply = set_thresholds(bdeps, "U0ADMIN", (80, 100))
    assert reply.text == "Budget alert thresholds are now 80%, 100%. They apply to every budget."
    with session_scope(bdeps.engine) as session:
        row = session.exec(select(Budget)).one()
        assert (row.amount_usd, row.revision, row.thresholds) == (Decimal("2500.50"), 2, "80,100")
        assert row.updated_by_slack_id == "U0ADMIN"
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
        (view,) = budgets.list_budgets(session, bdeps.settings)
    assert actions == ["budget.set", "budget.set", "budget.thresholds"]
    assert (view.amount, view.thresholds, view.from_settings) == (Decimal("2500.50"), (80, 100), False)


def test_the_mirror_offer_depends_on_spend_limit_access(bdeps: Deps, anthropic_standin) -> None:
    offered = set_budget(bdeps, "U0ADMIN", Decimal(5000))
    assert Action.BUDGET_MIRROR in json.dumps([b.to_dict() for b in offered.blocks or []])
    done = mirror_budget(bdeps, "U0ADMIN", "org")
    assert done.text.startswith("Done: Anthropic now enforces a monthly spend limit of $5,000.00 for org")
    (limit,) = [r for r in anthropic_standin.matching("POST", "/v1/organizations/spend_limits")]
    assert limit.body == {"amount": "500000", "scope": {"type": "organization"}, "period": "monthly"}


def test_without_early_access_it_says_so_plainly(bdeps: Deps, anthropic_standin) -> None:
    anthropic_standin.spend_limit_writes_enabled = False
    refused = mirror_budget(bdeps, "U0ADMIN", "org")
    assert "isn't enabled for this organization (early access)" in refused.text
    assert "won't stop spend" in refused.text and "/settings/limits" in refused.text
    # Now known: the next `budget set` says so at once instead of offering the button.
    again = set_budget(bdeps, "U0ADMIN", Decimal(6000))
    rendered = json.dumps([b.to_dict() for b in again.blocks or []])
    assert Action.BUDGET_MIRROR not in rendered and "can't stop spend" in rendered


def test_listing_refused_means_no_offer(bdeps: Deps, anthropic_standin) -> None:
    anthropic_standin.inject("GET", r"/v1/organizations/spend_limits$", status=404, times=5)
    reply = set_budget(bdeps, "U0ADMIN", Decimal(700))
    rendered = json.dumps([b.to_dict() for b in reply.blocks or []])
    assert Action.BUDGET_MIRROR not in rendered and "early access" in rendered


# --- over HTTP ---------------------------------------------------------------------------------------------------


def _click(action_id: str, value: str, response_url: str, user: str = "U0ADMIN") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0BOT",
        "token": "x",
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "channel": {"id": "C0ADMIN", "name": "admins"},
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C0ADMIN",
            "is_ephemeral": True,
        },
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1700000001.000000",
            }
        ],
    }
    return "payload=" + quote(json.dumps(payload))


def test_budget_set_then_mirror_click_end_to_end(bot_url: str, deps: Deps, slack_standin, anthropic_standin) -> None:
    with httpx.Client(timeout=10) as client:
        url = slack_standin.new_response_url()
        ack = post_slack(client, bot_url, command_body("budget set $5,000", user_id="U0ADMIN", response_url=url))
        assert ack.json()["text"] == "Working on it…"
        answer = slack_standin.wait_for_response()[0].body
        assert answer["text"] == "Saved: the monthly budget for org is $5,000.00."
        button = next(
            b["accessory"] for b in answer["blocks"] if b.get("accessory", {}).get("action_id") == Action.BUDGET_MIRROR
        )
        url2 = slack_standin.new_response_url()
        assert post_slack(client, bot_url, _click(Action.BUDGET_MIRROR, button["value"], url2)).status_code == 200
        done = slack_standin.wait_for_response(predicate=lambda r: r.url_id in url2)[0].body
        assert done["text"].startswith("Done: Anthropic now enforces a monthly spend limit of $5,000.00")
        # A developer clicking the same button is refused after the re-check.
        url3 = slack_standin.new_response_url()
        post_slack(client, bot_url, _click(Action.BUDGET_MIRROR, button["value"], url3, user="U0DEV"))
        refused = slack_standin.wait_for_response(predicate=lambda r: r.url_id in url3)[0].body
        assert refused["text"].startswith("Only admins")
    assert anthropic_standin.count("POST", "/v1/organizations/spend_limits") == 1


def test_malformed_budget_is_answered_in_the_ack(bot_url: str, anthropic_standin) -> None:
    anthropic_standin.reset_requests()
    with httpx.Client(timeout=10) as client:
        ack = post_slack(client, bot_url, command_body("budget set lots"))
    assert "isn't an amount" in ack.json()["text"]
    assert anthropic_standin.requests == []
