"""Spend-limit amounts are in the org's billing currency: shown with it, never compared with spend reported in
another currency, and a USD budget is never written as a limit in another currency."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx

from bot.core.format import money
from bot.deps import Deps
from bot.spend import blocks_budgets, budgets
from tests.keys.support import T0, add_key, command, ids, rendered


def test_money_names_any_currency_but_dollars() -> None:
    assert money(Decimal("1234.505"), "USD") == "$1,234.51"
    assert money(Decimal("1234.5"), "eur") == "1,234.50 EUR"


def test_check_never_compares_a_limit_in_another_currency(
    kbot: str, http: httpx.Client, slack_standin, anthropic_standin, kdeps: Deps
) -> None:
    dev, _, ws = ids(anthropic_standin)
    anthropic_standin.currency = "EUR"
    anthropic_standin.usage_tier_amount = None
    anthropic_standin.add_spend_limit("organization", amount="50000")  # 500.00 EUR
    key = add_key(anthropic_standin, "dev-dev-eur", owner=dev, workspace=ws, created=T0 - timedelta(days=5))
    start = T0.replace(day=1, hour=0)
    anthropic_standin.add_cost(starting_at=start, ending_at=start + timedelta(days=1), amount_cents="60000")  # $600
    reply = command(http, kbot, slack_standin, f"check {key['id']}")["reply"]
    text = reply["text"] + rendered(reply.get("blocks"))
    assert "monthly spend limit of 500.00 EUR" in text
    assert "reached its monthly spend limit" not in text and "$500.00" not in text


def test_a_usd_budget_is_not_mirrored_onto_an_org_billed_in_another_currency(kdeps: Deps, anthropic_standin) -> None:
    anthropic_standin.currency = "EUR"
    budgets.set_budget(kdeps, "U0ADMIN", Decimal(5000))
    text = blocks_budgets.mirror_outcome(budgets.mirror_budget(kdeps, "U0ADMIN", "org")).text
    assert "billed in EUR" in text and "never convert" in text
    assert anthropic_standin.count("POST", "/v1/organizations/spend_limits") == 0
