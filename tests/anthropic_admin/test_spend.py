"""AdminGateway spend limits and increase requests: exact cents, lost answers read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.anthropic_admin import AdminGateway, BadRequest, FeatureUnavailable
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import NOV_1, ORG, Recorder, seeded_id


def test_spend_limits(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws_id = seeded_id(standin, "workspace")

    org_limit = gateway.set_spend_limit(amount_usd=Decimal("500.00"), scope_type="organization")
    assert (org_limit.scope_type, org_limit.amount_usd, org_limit.period) == ("organization", Decimal("500"), "monthly")
    ws_limit = gateway.set_spend_limit(amount_usd=Decimal("99.99"), scope_type="workspace", workspace_id=ws_id)
    assert (ws_limit.workspace_id, ws_limit.amount_usd) == (ws_id, Decimal("99.99"))
    bodies = [r.body for r in standin.matching("POST", f"{ORG}/spend_limits")]
    assert bodies == [
        {"amount": "50000", "scope": {"type": "organization"}, "period": "monthly"},
        {"amount": "9999", "scope": {"type": "workspace", "workspace_id": ws_id}, "period": "monthly"},
    ]

    limits = {s.scope_type: s for s in gateway.list_spend_limits()}
    assert limits["usage_tier"].amount_usd == Decimal("5000")  # "500000" minor units
    assert limits["organization"].id == org_limit.id and limits["organization"].is_enabled
    assert limits["workspace"].currency == "USD"


@pytest.mark.parametrize(
    ("amount", "minor_units"),
    [("0", "0"), ("0.01", "1"), ("1234.5", "123450"), ("1E+3", "100000"), ("500.00", "50000")],
)
def test_dollars_become_exact_integer_cents(
    standin: AnthropicStandIn, gateway: AdminGateway, amount: str, minor_units: str
) -> None:
    gateway.set_spend_limit(amount_usd=Decimal(amount), scope_type="organization")
    assert standin.matching("POST", f"{ORG}/spend_limits")[-1].body["amount"] == minor_units


@pytest.mark.parametrize("amount", ["12.345", "0.001", "-1", "NaN", "Infinity"])
def test_fractions_of_a_cent_and_nonsense_are_refused_locally(
    standin: AnthropicStandIn, gateway: AdminGateway, amount: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        gateway.set_spend_limit(amount_usd=Decimal(amount), scope_type="organization")
    assert caught.value.user_message.endswith(".")
    with pytest.raises(TypeError):
        gateway.set_spend_limit(amount_usd=12.5, scope_type="organization")  # type: ignore[arg-type]
    assert standin.count("POST") == 0


def test_spend_limit_writes_without_early_access(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.spend_limit_writes_enabled = False
    with pytest.raises(FeatureUnavailable) as caught:
        gateway.set_spend_limit(amount_usd=Decimal("100"), scope_type="organization")
    assert caught.value.status == 403
    assert caught.value.error_code == "spend_limits_admin_api_writes_not_enabled"
    assert "Claude Console" in caught.value.user_message


def test_increase_requests(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.org_type = "enterprise"
    standin.add_spend_limit("organization", amount="50000")
    ana = standin.add_user("ana@example.com", name="Ana", role="user")
    bo = standin.add_user("bo@example.com", name="Bo", role="user")
    standin.set_period_spend(ana["id"], "1234.567")
    first = standin.add_increase_request(ana["id"], created_at=NOV_1)
    second = standin.add_increase_request(bo["id"], created_at=NOV_1 + timedelta(hours=1))
    standin.add_increase_request(bo["id"], status="denied", created_at=NOV_1 - timedelta(days=3))

    pending = gateway.list_increase_requests()
    assert [r.id for r in pending] == [second["id"], first["id"]]  # newest first
    ana_request = pending[1]
    assert (ana_request.requester_user_id, ana_request.requester_email, ana_request.requester_name) == (
        ana["id"],
        "ana@example.com",
        "Ana",
    )
    assert ana_request.current_limit_usd == Decimal("500") and ana_request.currency == "USD"
    assert ana_request.period_to_date_spend_usd == Decimal("12.34567")
    assert (ana_request.status, ana_request.period) == ("pending", "monthly")
    assert len(gateway.list_increase_requests(statuses=None)) == 3

    approved = gateway.approve_increase_request(first["id"], amount_usd=Decimal("750"), notify=False)
    assert approved.status == "approved" and approved.resolved_at is not None
    (post,) = standin.matching("POST", rf"{ORG}/spend_limit_increase_requests/.+/approve")
    assert post.body == {"amount": "75000", "suppress_notification": True}
    user_limits = [s for s in gateway.list_spend_limits() if s.user_id == ana["id"]]
    assert [s.amount_usd for s in user_limits] == [Decimal("750")]

    assert gateway.deny_increase_request(second["id"]).status == "denied"
    assert gateway.deny_increase_request(second["id"]).status == "denied"  # idempotent
    assert gateway.list_increase_requests() == []
    with pytest.raises(BadRequest):
        gateway.deny_increase_request(first["id"])  # an approved request can't be denied


def test_approve_whose_answer_was_lost_is_read_back(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway]
) -> None:
    standin.org_type = "enterprise"
    user = standin.add_user("cy@example.com", role="user")
    request = standin.add_increase_request(user["id"])
    recorder = Recorder(really_sleep=True)
    gateway = make_gateway(timeout=0.3, sleep=recorder.sleep, on_call=recorder.on_call, org_type="enterprise")
    standin.inject("POST", r"/approve$", status=None, delay=0.6)

    approved = gateway.approve_increase_request(request["id"], amount_usd=Decimal("20"))

    assert approved.status == "approved"
    assert [c[1] for c in recorder.calls] == ["timeout", 400, 200]
