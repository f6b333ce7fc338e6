"""The requester's status card and the admin card, as pure builders: hostile names fit Slack's limits, the
request's number is said once, and the steps read as people say them."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.access.blocks import notices
from bot.access.blocks.message import build_request_message
from bot.access.blocks.status import build_status_card, default_status
from bot.access.model import AddedToWorkspace, GrantStep, RequesterContext, WorkspaceRoleChanged
from bot.core.format import role_name
from storage.models import AccessRequest, RequestState
from tests.test_builders_strict import QUICK, _request, assert_sendable, hostile, long_hostile

S = RequestState


@QUICK
@given(workspace=hostile, email=hostile, state=st.sampled_from(list(S)), status=long_hostile)
def test_status_card_with_hostile_names_fits_slack(workspace: str, email: str, state: str, status: str) -> None:
    request = _request("why", workspace, state, invite_id="inv_1" if len(email) % 2 else None)
    link = "https://standin.slack.com/archives/C0ADMIN/p1" if len(workspace) % 2 else None
    assert_sendable(build_status_card(request, notices.escape(status), admin_link=link))
    invite = _request("why", workspace, state, kind="invite", invitee_email=f"{email[:60]}@example.com")
    assert_sendable(build_status_card(invite, default_status(invite), admin_link=None))


def test_status_card_says_the_number_once_and_offers_cancel_only_while_pending() -> None:
    pending = _request("why", "default-ws")
    rendered = json.dumps([b.to_dict() for b in build_status_card(pending, "Waiting.", admin_link=None)])
    assert rendered.count("#7") == 1 and "request_cancel" in rendered and "/archives/" not in rendered
    granted = _request("why", "default-ws", S.GRANTED, invite_id="inv_1")
    rendered = json.dumps(
        [b.to_dict() for b in build_status_card(granted, "You have access.", admin_link="https://x/archives/C/p1")],
        ensure_ascii=False,
    )
    assert "request_cancel" not in rendered and "https://x/archives/C/p1" in rendered
    assert "✓ Sent → ✓ Approved → ✓ Invite accepted → ✓ Access granted → ○ Key created" in rendered


def test_admin_card_says_the_number_once_and_keeps_the_context_after_the_decision() -> None:
    context = RequesterContext(
        org_role="developer", keys=[("prod-dev-a", "4f2a")], month_to_date_usd=Decimal("12.5"), data_as_of=None
    )
    for state in (S.PENDING, S.FULFILLED, S.DENIED):
        request: AccessRequest = _request("for the batch jobs", "default-ws", state, decided_by_slack_id="U0ADMIN")
        rendered = json.dumps([b.to_dict() for b in build_request_message(request, context)])
        assert rendered.count("#7") == 1, rendered
        assert "for the batch jobs" in rendered and "prod-dev-a" in rendered and "$12.50" in rendered
        assert "as developer" in rendered and "workspace_developer" not in rendered
        assert ("When they asked" in rendered) == (state != S.PENDING)
    denied = json.dumps([b.to_dict() for b in build_request_message(request, context)])
    assert "Denied (denied by <@U0ADMIN>)" in denied


def test_roles_are_said_as_people_say_them() -> None:
    assert [role_name(r) for r in ("workspace_developer", "workspace_admin", "workspace_billing", "developer")] == [
        "developer",
        "workspace admin",  # not to be mistaken for an org admin
        "billing",
        "developer",
    ]
    steps: list[GrantStep] = [
        AddedToWorkspace(workspace="ws", role="workspace_developer"),
        WorkspaceRoleChanged("workspace_user", "workspace_developer"),
    ]
    assert notices.granted(steps) == "Added to ws as developer. Workspace role changed from user to developer."
