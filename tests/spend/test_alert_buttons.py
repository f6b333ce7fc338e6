"""A budget alert's View usage: the usage answer for that scope, ephemeral, for whoever clicks (each sees only
what they may see); over HTTP against the stand-ins, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from bot.config import Settings
from bot.deps import Deps
from bot.registry import run_job
from bot.sandbox.slack.blockkit import message_problems
from bot.slack.ids import Action
from tests.botserver import BotServer
from tests.conftest import Clock, DepsFactory
from tests.keys.support import buttons, click

OCT1 = datetime(2026, 10, 1, tzinfo=UTC)


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


def test_view_usage_answers_each_clicker_with_what_they_may_see(
    bbot: str, bdeps: Deps, anthropic_standin, slack_standin
) -> None:
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
    result = run_job("budget-alerts", bdeps, out=lambda _: None)
    assert result is not None and result.errors == [] and result.sent >= 1, result
    alert = next(m for m in slack_standin.messages("C0ADMIN") if (m.text or "").startswith("Org budget:"))
    assert message_problems(alert.blocks) == []
    (view,) = buttons(alert.blocks, Action.BUDGET_VIEW_USAGE)
    assert view["text"]["text"] == "View usage"
    message = {"ts": alert.ts, "text": alert.text, "blocks": alert.blocks}
    with httpx.Client(timeout=10) as http:
        admin = click(
            http,
            bbot,
            slack_standin,
            action_id=Action.BUDGET_VIEW_USAGE,
            value=view["value"],
            user="U0ADMIN",
            message=message,
        )
        developer = click(
            http,
            bbot,
            slack_standin,
            action_id=Action.BUDGET_VIEW_USAGE,
            value=view["value"],
            user="U0DEV",
            message=message,
        )
    assert admin["response_type"] == "ephemeral" and admin.get("replace_original") is False
    assert "$" in json.dumps(admin) and "Only admins" not in json.dumps(admin)
    assert "Only admins and billing viewers" in json.dumps(developer)  # the org's figures are not theirs to see
