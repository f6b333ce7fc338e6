"""The org type (ANTHROPIC_ORG_TYPE): detected once from the API's own answer when `auto`, and the roles and
spend-limit features each type has, refused in a sentence before any call when the org doesn't have them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import anthropic
import pytest

from bot.anthropic_admin import AdminGateway, FeatureUnavailable, RoleNotAssignable, Unavailable
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG

Make = Callable[..., AdminGateway]


def _probes(standin: AnthropicStandIn) -> int:
    return len([r for r in standin.matching("GET", f"{ORG}/users") if r.query.get("roles[]") == ["developer"]])


@pytest.mark.parametrize(("kind", "key_role"), [("console", "developer"), ("enterprise", "user")])
def test_auto_detects_the_org_type_once(
    standin: AnthropicStandIn, make_gateway: Make, kind: str, key_role: str
) -> None:
    standin.org_type = kind
    gateway = make_gateway()
    assert gateway.org_type() == kind and gateway.key_creating_role() == key_role
    assert gateway.org_type() == kind
    (probe,) = standin.matching("GET", f"{ORG}/users")
    assert probe.query["roles[]"] == ["developer"] and probe.query["limit"] == ["1"]


def test_a_set_org_type_asks_nothing(standin: AnthropicStandIn, make_gateway: Make) -> None:
    gateway = make_gateway(org_type="enterprise")
    assert (gateway.org_type(), gateway.assignable_org_roles()) == ("enterprise", ("user", "managed"))
    assert standin.count() == 0
    with pytest.raises(ValueError):
        make_gateway(org_type="team")


def test_a_failed_detection_is_not_kept(standin: AnthropicStandIn, make_gateway: Make) -> None:
    standin.org_type = "enterprise"
    gateway = make_gateway(max_retries=0)
    standin.inject("GET", r"/users$", status=503)
    with pytest.raises(Unavailable):
        gateway.org_type()
    assert gateway.org_type() == "enterprise" and _probes(standin) == 2


def test_enterprise_invites_and_raises_use_its_own_roles(standin: AnthropicStandIn, make_gateway: Make) -> None:
    standin.org_type = "enterprise"
    gateway = make_gateway()
    invite = gateway.create_invite("new@example.com")
    assert invite.role == "user"
    assert standin.matching("POST", f"{ORG}/invites")[-1].body == {"email": "new@example.com", "role": "user"}
    member = standin.add_user("m@example.com", role="user")
    for refused in (
        lambda: gateway.create_invite("other@example.com", "developer"),
        lambda: gateway.update_user_role(member["id"], "developer"),
    ):
        with pytest.raises(RoleNotAssignable) as caught:
            refused()
        assert "Claude Enterprise org, which has no `developer` role" in caught.value.user_message
        assert "`user`, `managed`" in caught.value.user_message
    assert standin.count("POST", f"{ORG}/invites") == 1 and standin.count("POST", rf"{ORG}/users/.+") == 0


def test_console_refuses_managed_in_a_sentence(standin: AnthropicStandIn, make_gateway: Make) -> None:
    gateway = make_gateway(org_type="console")
    with pytest.raises(RoleNotAssignable, match="Claude Console org, which has no `managed` role"):
        gateway.create_invite("x@example.com", "managed")
    assert gateway.create_invite("x@example.com").role == "developer"


def test_spend_features_follow_the_org_type(standin: AnthropicStandIn, make_gateway: Make) -> None:
    enterprise = make_gateway(org_type="enterprise")
    for scope in ("organization", "workspace"):
        with pytest.raises(FeatureUnavailable, match="aren't available on a Claude Enterprise org"):
            enterprise.set_spend_limit(amount_usd=Decimal("100"), scope_type=scope, workspace_id="wrkspc_x")
    console = make_gateway(org_type="console")
    with pytest.raises(FeatureUnavailable, match="increase requests aren't available on a Claude Console org"):
        console.list_increase_requests()
    with pytest.raises(FeatureUnavailable, match="Console org"):
        console.deny_increase_request("silr_x")
    assert standin.count() == 0  # refused before any call


def test_the_standin_refuses_what_each_org_type_lacks(standin: AnthropicStandIn) -> None:
    client = anthropic.Anthropic(
        api_key=standin.admin_key, base_url=standin.base_url, max_retries=0, _strict_response_validation=True
    )
    org = client.beta.organization
    standin.org_type = "enterprise"
    with pytest.raises(anthropic.BadRequestError, match="role"):
        org.invites.create(email="a@example.com", role="developer")
    user = standin.add_user("u@example.com", role="user")
    with pytest.raises(anthropic.BadRequestError, match="role"):
        org.users.update(user["id"], role="developer")
    with pytest.raises(anthropic.BadRequestError) as refused:
        org.spend_limits.set(amount="100", scope={"type": "organization"})
    assert refused.value.error_code == "organization_type_not_supported"
    assert org.spend_limits.increase_requests.list().data == []
    standin.org_type = "console"
    with pytest.raises(anthropic.BadRequestError) as refused:
        org.spend_limits.increase_requests.list()
    assert refused.value.error_code == "organization_type_not_supported"
    client.close()
