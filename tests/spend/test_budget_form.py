"""A budget alert's Change budget: the button opens a modal (a loading view at once, then the form for an admin or
the command's refusal for anyone else), the submission goes through `budget set` and re-arms the alerts as the
command does; over HTTP against the stand-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from bot.config import Settings
from bot.deps import Deps
from bot.registry import run_job
from bot.sandbox.slack.blockkit import message_problems, view_problems
from bot.slack.ids import Action, Callback
from bot.spend import budgets
from bot.spend.budget_form import (
    AMOUNT_BLOCK,
    AMOUNT_INPUT,
    FORM_NOT_OPENED,
    THRESHOLDS_BLOCK,
    THRESHOLDS_INPUT,
    BudgetForm,
    BudgetFormMeta,
    budget_modal,
    refusal_modal,
)
from bot.spend.model import BudgetView
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AuditEvent, Budget
from tests.botserver import BotServer, post_slack
from tests.conftest import Clock, DepsFactory
from tests.keys.support import buttons, click

OCT1 = datetime(2026, 10, 1, tzinfo=UTC)
REFUSAL = "Only admins can change budgets."


@pytest.fixture
def bdeps(make_deps: DepsFactory, anthropic_standin) -> Deps:
    return make_deps(
        monthly_budget_usd=Decimal(1000), clock=Clock(OCT1 + timedelta(days=20, hours=1), anthropic_standin)
    )


@pytest.fixture
def bbot(settings: Settings, bdeps: Deps) -> Iterator[str]:
    from bot.app import create_app
    from bot.http import create_web_app

    server = BotServer(create_web_app(create_app(settings, bdeps), bdeps)).start()
    yield server.url
    server.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _post(http: httpx.Client, url: str, payload: dict[str, Any]) -> httpx.Response:
    response = post_slack(http, url, "payload=" + quote(json.dumps(payload)))
    assert response.status_code == 200, response.text
    return response


def click_change(http: httpx.Client, url: str, slack: Any, value: str, user: str) -> dict[str, Any]:
    """Click Change budget as Slack sends it; return the modal once the bot replaced its loading view."""
    before = len([c for c in slack.calls if c.method == "views.update"])
    _post(
        http,
        url,
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": "T0STANDIN"},
            "api_app_id": "A0BOT",
            "token": "x",
            "trigger_id": slack.new_trigger_id(user_id=user),
            "response_url": slack.new_response_url(),
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "channel": {"id": "C0ADMIN", "name": "admins"},
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0ADMIN"},
            "message": {"ts": "1700000000.000100", "text": "x", "blocks": []},
            "actions": [
                {
                    "type": "button",
                    "action_id": Action.BUDGET_CHANGE,
                    "block_id": "budget_next_steps",
                    "value": value,
                    "action_ts": "1700000001.000000",
                }
            ],
        },
    )
    opened = slack.wait_for("views.open")[-1]
    updated = slack.wait_for("views.update", count=before + 1)[before]
    assert opened.response["view"]["id"] == updated.body["view_id"]  # the modal the click opened
    return dict(slack.views[updated.body["view_id"]])


def submit(
    http: httpx.Client, url: str, view: dict[str, Any], user: str, amount: str, marks: str | None = None
) -> httpx.Response:
    values: dict[str, Any] = {AMOUNT_BLOCK: {AMOUNT_INPUT: {"type": "plain_text_input", "value": amount}}}
    values[THRESHOLDS_BLOCK] = {THRESHOLDS_INPUT: {"type": "plain_text_input", "value": marks}}
    return _post(
        http,
        url,
        {
            "type": "view_submission",
            "user": {"id": user, "team_id": "T0STANDIN"},
            "api_app_id": "A0BOT",
            "team": {"id": "T0STANDIN"},
            "trigger_id": "1.2.3",
            "view": {
                "id": view.get("id", "V1"),
                "type": "modal",
                "callback_id": Callback.BUDGET_MODAL,
                "private_metadata": view["private_metadata"],
                "state": {"values": values},
                "team_id": "T0STANDIN",
                "app_installed_team_id": "T0STANDIN",
            },
        },
    )


def seed_spend(anthropic_standin: Any) -> None:
    """$40 a day from Sep 26: $800 of October by Oct 20, 80% of the $1,000 org budget."""
    ws = anthropic_standin.seeded["workspace"]["id"]
    for i in range(25):
        start = OCT1 - timedelta(days=5) + i * timedelta(days=1)
        anthropic_standin.add_cost(
            starting_at=start,
            ending_at=start + timedelta(days=1),
            amount_cents="4000",
            model="claude-opus-4",
            workspace_id=ws,
        )


def org_row(deps: Deps) -> Budget | None:
    with session_scope(deps.engine) as session:
        row = session.exec(select(Budget).where(Budget.scope_key == budgets.ORG_SCOPE)).first()
        if row is not None:
            session.expunge(row)
        return row


def audits(deps: Deps, action: str) -> list[AuditEvent]:
    with session_scope(deps.engine) as session:
        rows = list(session.exec(select(AuditEvent).where(col(AuditEvent.action) == action)))
        for row in rows:
            session.expunge(row)
        return rows


def ephemerals_to(slack: Any, user: str) -> list[Any]:
    return [c for c in slack.calls if c.method == "chat.postEphemeral" and c.body.get("user") == user]


def test_an_admin_changes_the_budget_from_the_alert_and_the_alerts_re_arm(
    bbot: str, bdeps: Deps, anthropic_standin, slack_standin, http: httpx.Client
) -> None:
    seed_spend(anthropic_standin)
    result = run_job("budget-alerts", bdeps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent == 2, result  # 75% and the forecast
    for message in slack_standin.messages("C0ADMIN"):  # every budget alert offers it
        assert message_problems(message.blocks) == [] and len(buttons(message.blocks, Action.BUDGET_CHANGE)) == 1
    (alert,) = [m for m in slack_standin.messages("C0ADMIN") if (m.text or "").startswith("Org budget:")]
    (change,) = buttons(alert.blocks, Action.BUDGET_CHANGE)
    assert change["text"]["text"] == "Change budget" and json.loads(change["value"]) == {"s": "org"}

    modal = click_change(http, bbot, slack_standin, change["value"], "U0ADMIN")
    assert modal["callback_id"] == Callback.BUDGET_MODAL and view_problems(modal) == []
    inputs = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"] if b["type"] == "input"}
    assert inputs == {AMOUNT_BLOCK: "1,000.00", THRESHOLDS_BLOCK: "50,75,90,100"}
    assert BudgetFormMeta.model_validate_json(modal["private_metadata"]) == BudgetFormMeta(s="org", c="C0ADMIN")

    bad = submit(http, bbot, modal, "U0ADMIN", "lots", "50,75,90,100")
    assert bad.json()["response_action"] == "errors" and set(bad.json()["errors"]) == {AMOUNT_BLOCK}
    assert org_row(bdeps) is None  # nothing stored on a field error

    good = submit(http, bbot, modal, "U0ADMIN", "$850", "50,75,90,100")
    assert good.status_code == 200 and good.text == ""  # the modal closes
    slack_standin.wait_for("chat.postEphemeral", predicate=lambda c: c.body.get("user") == "U0ADMIN")
    (note,) = ephemerals_to(slack_standin, "U0ADMIN")
    assert note.body["channel"] == "C0ADMIN"
    assert note.body["text"] == "Saved: the monthly budget for org is $850.00."
    row = org_row(bdeps)
    assert row is not None and row.amount_usd == Decimal("850.00") and row.revision == 2
    assert row.thresholds is None  # unchanged thresholds are not written
    (audit,) = audits(bdeps, "budget.set")
    assert (audit.actor_slack_id, audit.subject_id) == ("U0ADMIN", "org")
    # Re-armed as `budget set` does: 50% and 75% were told at $1,000 and stay told; 90% of $850 is new.
    with session_scope(bdeps.engine) as session:
        assert repo.ledger_has(session=session, job="budget-alerts", key="threshold:org:2026-10:75:r2")
        assert not repo.ledger_has(session=session, job="budget-alerts", key="threshold:org:2026-10:90:r2")
    again = run_job("budget-alerts", bdeps, out=lambda _: None)
    assert again is not None and again.sent == 1, again
    latest = [m for m in slack_standin.messages("C0ADMIN") if (m.text or "").startswith("Org budget:")][-1]
    assert "90%" in (latest.text or "")


def test_the_thresholds_change_too_when_edited(
    bbot: str, bdeps: Deps, slack_standin, http: httpx.Client, anthropic_standin
) -> None:
    modal = click_change(http, bbot, slack_standin, json.dumps({"s": "org"}), "U0ADMIN")
    wrong = submit(http, bbot, modal, "U0ADMIN", "abc", "0,2000")
    assert set(wrong.json()["errors"]) == {AMOUNT_BLOCK, THRESHOLDS_BLOCK}
    assert submit(http, bbot, modal, "U0ADMIN", "1,250.50", "60, 80,100").text == ""
    slack_standin.wait_for("chat.postEphemeral", predicate=lambda c: c.body.get("user") == "U0ADMIN")
    (note,) = ephemerals_to(slack_standin, "U0ADMIN")
    assert note.body["text"] == (
        "Saved: the monthly budget for org is $1,250.50. Alert thresholds are now 60%, 80%, 100%; they apply to "
        "every budget."
    )
    row = org_row(bdeps)
    assert row is not None and (row.amount_usd, row.thresholds) == (Decimal("1250.50"), "60,80,100")
    assert len(audits(bdeps, "budget.set")) == 1 and len(audits(bdeps, "budget.thresholds")) == 1


def test_a_workspace_budget_is_changed_by_its_id(
    bbot: str, bdeps: Deps, slack_standin, http: httpx.Client, anthropic_standin
) -> None:
    ws = anthropic_standin.seeded["workspace"]
    budgets.set_budget(bdeps, "U0ADMIN", Decimal(300), ws["name"])
    value = json.dumps({"s": f"workspace:{ws['id']}"})
    modal = click_change(http, bbot, slack_standin, value, "U0ADMIN")
    amount = next(b for b in modal["blocks"] if b.get("block_id") == AMOUNT_BLOCK)
    assert amount["label"]["text"] == f"Monthly budget for workspace {ws['name']} (USD)"
    assert amount["element"]["initial_value"] == "300.00"
    assert ws["name"] not in modal["private_metadata"]  # the scope key only, never a name
    assert submit(http, bbot, modal, "U0ADMIN", "450").text == ""
    slack_standin.wait_for("chat.postEphemeral", predicate=lambda c: c.body.get("user") == "U0ADMIN")
    with session_scope(bdeps.engine) as session:
        row = repo.get_budget_row(session=session, scope_key=f"workspace:{ws['id']}")
        assert row is not None and row.amount_usd == Decimal("450.00") and row.revision == 2


def test_a_developer_is_refused_on_click_and_on_a_forged_submission(
    bbot: str, bdeps: Deps, slack_standin, http: httpx.Client, anthropic_standin
) -> None:
    modal = click_change(http, bbot, slack_standin, json.dumps({"s": "org"}), "U0DEV")
    assert modal["callback_id"] == "" and modal["submit"] is None  # no form to submit
    assert REFUSAL in json.dumps(modal) and view_problems(modal) == []
    forged = {"private_metadata": BudgetFormMeta(s="org", c="C0ADMIN").model_dump_json()}
    assert submit(http, bbot, forged, "U0DEV", "1").text == ""
    slack_standin.wait_for("chat.postEphemeral", predicate=lambda c: c.body.get("user") == "U0DEV")
    (note,) = ephemerals_to(slack_standin, "U0DEV")
    assert REFUSAL in note.body["text"]
    assert org_row(bdeps) is None and audits(bdeps, "budget.set") == []


def test_a_stale_form_changes_nothing(bbot: str, bdeps: Deps, slack_standin, http: httpx.Client) -> None:
    forged = {"private_metadata": BudgetFormMeta(s="team:x", c="C0ADMIN").model_dump_json()}
    assert submit(http, bbot, forged, "U0ADMIN", "100").text == ""
    slack_standin.wait_for("chat.postEphemeral", predicate=lambda c: c.body.get("user") == "U0ADMIN")
    (note,) = ephemerals_to(slack_standin, "U0ADMIN")
    assert "no longer valid" in note.body["text"]
    assert org_row(bdeps) is None and audits(bdeps, "budget.set") == []


FRAGMENTS = ["&", "<", ">", "<!channel>", "<@U0EVIL|boss>", "*", "`", "🔥", "\n", "x", "é"]
hostile = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join) | st.text(max_size=3000)


@settings(max_examples=25, deadline=None)
@given(name=hostile, amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100000000), places=2))
def test_the_modal_fits_block_kit_limits(name: str, amount: Decimal) -> None:
    budget = BudgetView("workspace:wrkspc_1", amount, (50, 75), 1, workspace_id="wrkspc_1", workspace_name=name)
    meta = BudgetFormMeta(s=budget.scope_key, c="C0ADMIN")
    assert view_problems(budget_modal(BudgetForm(budget, tuple(range(1, 11))), meta).to_dict()) == []
    assert view_problems(refusal_modal(name * 3 or "x").to_dict()) == []


def test_a_form_slack_would_not_open_is_said_plainly(bbot: str, slack_standin, http: httpx.Client) -> None:
    # An expired or foreign trigger id (Slack refuses it): the clicker is told, nothing else happens.
    answer = click(http, bbot, slack_standin, action_id=Action.BUDGET_CHANGE, value='{"s": "org"}', user="U0ADMIN")
    assert answer["text"] == FORM_NOT_OPENED and answer["response_type"] == "ephemeral"
    assert [c for c in slack_standin.calls if c.method == "views.update"] == []
