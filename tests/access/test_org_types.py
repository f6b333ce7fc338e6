"""Access requests and invites on a Claude Enterprise org: its roles (`user`, `managed`), never `developer`;
what it lacks is said in a sentence. (tests/access/test_requests.py covers a Console org.)"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from bot.app import create_app
from bot.config import Settings
from bot.http import create_web_app
from bot.slack.ids import Action
from bot.spend import blocks_budgets, budgets
from storage.models import RequestState
from tests.access.test_requests import Flow
from tests.botserver import BotServer
from tests.conftest import DepsFactory

S = RequestState
ORG = "/v1/organizations"


@pytest.fixture
def enterprise(settings: Settings, make_deps: DepsFactory, slack_standin, anthropic_standin) -> Iterator[Flow]:
    anthropic_standin.org_type = "enterprise"
    deps = make_deps()  # ANTHROPIC_ORG_TYPE=auto: the bot finds out from the API
    slack_standin.add_user("U0NEW", name="newbie", email="new@example.com")
    server = BotServer(create_web_app(create_app(settings, deps), deps)).start()
    with httpx.Client(timeout=15) as client:
        yield Flow(server.url, deps, slack_standin, anthropic_standin, client)
    server.stop()


def _posts(flow: Flow, path: str) -> list[object]:
    return [r.body for r in flow.admin.matching("POST", path)]


def test_a_non_member_is_invited_as_user_on_an_enterprise_org(enterprise: Flow) -> None:
    assert "Request #1 sent" in enterprise.command("request default-ws to try the API", user="U0NEW")
    enterprise.click(Action.APPROVE_REQUEST, 1)
    enterprise.wait_state(1, S.INVITED)
    assert _posts(enterprise, f"{ORG}/invites") == [{"email": "new@example.com", "role": "user"}]


def test_an_enterprise_user_is_added_without_a_role_raise(enterprise: Flow) -> None:
    enterprise.admin.add_user("viewer@example.com", role="user")
    enterprise.slack.add_user("U0VIEW", name="viewer", email="viewer@example.com")
    enterprise.command("request default-ws batch pipeline keys", user="U0VIEW")
    enterprise.click(Action.APPROVE_REQUEST, 1)
    enterprise.wait_state(1, S.GRANTED)
    assert enterprise.admin.count("POST", rf"{ORG}/users/.+") == 0  # no `developer` on this org
    assert _posts(enterprise, rf"{ORG}/workspaces/.+/members")[-1]["workspace_role"] == "workspace_developer"  # type: ignore[index]


def test_inviting_with_a_role_the_org_lacks_is_refused_in_a_sentence(enterprise: Flow) -> None:
    answer = enterprise.command("invite pat@example.com developer", user="U0ADMIN")
    assert "Claude Enterprise org, which has no `developer` role" in answer and "`user`, `managed`" in answer
    assert enterprise.admin.count("POST", f"{ORG}/invites") == 0
    assert "Invited pat@example.com as user" in enterprise.command("invite pat@example.com", user="U0ADMIN")


def test_mirroring_an_org_budget_on_enterprise_says_it_is_not_available(enterprise: Flow) -> None:
    deps = enterprise.deps
    budgets.set_budget(deps, "U0ADMIN", Decimal(5000))
    text = blocks_budgets.mirror_outcome(budgets.mirror_budget(deps, "U0ADMIN", "org")).text
    assert "Organization spend limits aren't available on a Claude Enterprise org" in text
    assert "rejected" not in text.lower()
    assert enterprise.admin.count("POST", f"{ORG}/spend_limits") == 0
