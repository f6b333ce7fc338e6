"""AdminGateway calls about the organization: users, invites, workspaces and their members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.anthropic_admin import (
    AdminGateway,
    AlreadyMember,
    BadRequest,
    EmailDomainNotAllowed,
    Invite,
    InviteAlreadyPending,
    NotFound,
    OrgUser,
    RoleNotAssignable,
    SeatLimitReached,
    Workspace,
    WorkspaceFull,
    WorkspaceMember,
)
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG, Recorder, seeded_id

# ------------------------------------------------------------------------------- users and invites


def test_users(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    dev_id = seeded_id(standin, "developer")
    billing = standin.add_user("Bill@Example.com", name="Bill Ing", role="billing")

    found = gateway.find_user_by_email("bill@EXAMPLE.com")
    assert found is not None
    assert (found.id, found.email, found.name, found.role) == (billing["id"], "Bill@Example.com", "Bill Ing", "billing")
    assert found.added_at.tzinfo is not None
    assert gateway.find_user_by_email("nobody@example.com") is None

    user = gateway.get_user(dev_id)
    assert isinstance(user, OrgUser) and user.email == "dev@example.com" and user.role == "developer"

    assert {u.email for u in gateway.list_users()} == {"admin@example.com", "dev@example.com", "Bill@Example.com"}
    assert [u.email for u in gateway.list_users(roles=["admin", "billing"])] == [
        "admin@example.com",
        "Bill@Example.com",
    ]
    (last,) = standin.matching("GET", f"{ORG}/users")[-1:]
    assert last.query["roles[]"] == ["admin", "billing"] and last.query["limit"] == ["1000"]

    assert gateway.update_user_role(dev_id, "billing").role == "billing"
    assert gateway.get_user(dev_id).role == "billing"

    gateway.remove_user(dev_id)
    with pytest.raises(NotFound) as caught:
        gateway.get_user(dev_id)
    assert caught.value.status == 404 and "not found" in caught.value.user_message


@pytest.mark.parametrize("role", ["admin", "owner", "primary_owner", "workspace_admin"])
def test_unassignable_org_roles_are_refused_locally(
    standin: AnthropicStandIn, gateway: AdminGateway, role: Any
) -> None:
    before = standin.count()
    with pytest.raises(RoleNotAssignable) as on_update:
        gateway.update_user_role(seeded_id(standin, "developer"), role)
    with pytest.raises(RoleNotAssignable):
        gateway.create_invite("new@example.com", role=role)
    assert standin.count() == before  # nothing was sent
    assert isinstance(on_update.value, BadRequest) and on_update.value.user_message.endswith(".")
    if role == "admin":
        assert "Claude Console" in on_update.value.user_message


def test_invites(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    invite = gateway.create_invite(" new.dev@example.com ")
    assert isinstance(invite, Invite)
    assert (invite.email, invite.role, invite.status, invite.accepted_at) == (
        "new.dev@example.com",
        "developer",
        "pending",
        None,
    )
    assert invite.expires_at > invite.invited_at
    (post,) = standin.matching("POST", f"{ORG}/invites")
    assert post.body == {"email": "new.dev@example.com", "role": "developer"}

    billing = gateway.create_invite("billing@example.com", role="billing")
    old = standin.add_invite("old@example.com", status="expired")

    assert [i.id for i in gateway.list_invites(email="NEW.dev@example.com")] == [invite.id]
    assert {i.id for i in gateway.list_invites(statuses=["pending"])} == {invite.id, billing.id}
    assert [i.id for i in gateway.list_invites(statuses=["expired"])] == [old["id"]]
    assert len(gateway.list_invites()) == 3

    standin.accept_invite(invite.id)
    (accepted,) = gateway.list_invites(email="new.dev@example.com", statuses=["accepted"])
    assert accepted.status == "accepted" and accepted.accepted_at is not None

    gateway.delete_invite(billing.id)
    assert gateway.list_invites(email="billing@example.com", statuses=["pending"]) == []


def test_invite_refusals_from_the_api(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    with pytest.raises(AlreadyMember) as member:
        gateway.create_invite("dev@example.com")
    assert member.value.error_code == "already_member"
    assert member.value.user_message == "That person is already a member of the Anthropic organization."

    standin.add_invite("waiting@example.com")
    with pytest.raises(InviteAlreadyPending) as pending:
        gateway.create_invite("waiting@example.com")  # a first-attempt duplicate is a real duplicate
    assert "already pending" in pending.value.user_message

    standin.allowed_email_domains = {"example.com"}
    with pytest.raises(EmailDomainNotAllowed):
        gateway.create_invite("someone@gmail.com")

    standin.member_limit = 3  # two members and one pending invite
    with pytest.raises(SeatLimitReached) as seats:
        gateway.create_invite("one.more@example.com")
    assert "free seats" in seats.value.user_message


def test_invite_whose_answer_was_lost_is_not_duplicated(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway]
) -> None:
    # The first POST is served (the invite is created) but only after the client gave up waiting; the
    # retry then meets that invite as `invite_already_exists`, and the gateway returns it as the result.
    recorder = Recorder(really_sleep=True)  # let the slow first attempt finish before the retry lands
    gateway = make_gateway(timeout=0.3, sleep=recorder.sleep, on_call=recorder.on_call)
    standin.inject("POST", r"/invites$", status=None, delay=0.6)

    invite = gateway.create_invite("slow@example.com")

    assert standin.count("POST", f"{ORG}/invites") == 2
    assert [c[1] for c in recorder.calls if c[0] == "invites.create"] == ["timeout", 400]
    (stored,) = [i for i in gateway.list_invites(email="slow@example.com")]
    assert invite == stored and invite.status == "pending"


# ----------------------------------------------------------------------------- workspaces, members


def test_workspaces(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws_id = seeded_id(standin, "workspace")
    archived = standin.add_workspace("old-ws", archived=True)

    default, only = gateway.list_workspaces()
    assert (default.id, default.name) == (standin.default_workspace_id, "Default")
    assert isinstance(only, Workspace) and (only.id, only.name, only.archived_at) == (ws_id, "default-ws", None)
    everything = gateway.list_workspaces(include_archived=True)
    assert [w.name for w in everything] == ["Default", "default-ws", "old-ws"]
    assert everything[2].archived_at is not None

    got = gateway.get_workspace(archived["id"])
    assert got.name == "old-ws" and got.created_at.tzinfo is not None
    with pytest.raises(NotFound):
        gateway.get_workspace("wrkspc_missing")


def test_workspace_members(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws_id, dev_id, admin_id = (seeded_id(standin, n) for n in ("workspace", "developer", "admin"))

    assert gateway.get_workspace_member(ws_id, dev_id) is None
    added = gateway.add_workspace_member(ws_id, dev_id)
    assert added == WorkspaceMember(workspace_id=ws_id, user_id=dev_id, workspace_role="workspace_developer")
    assert gateway.get_workspace_member(ws_id, dev_id) == added

    gateway.add_workspace_member(ws_id, admin_id, role="workspace_admin")
    assert {(m.user_id, m.workspace_role) for m in gateway.list_workspace_members(ws_id)} == {
        (dev_id, "workspace_developer"),
        (admin_id, "workspace_admin"),
    }

    updated = gateway.update_workspace_member(ws_id, dev_id, "workspace_billing")
    assert updated.workspace_role == "workspace_billing"

    gateway.remove_workspace_member(ws_id, dev_id)
    assert gateway.get_workspace_member(ws_id, dev_id) is None
    assert [m.user_id for m in gateway.list_workspace_members(ws_id)] == [admin_id]

    before = standin.count()
    with pytest.raises(RoleNotAssignable):
        gateway.add_workspace_member(ws_id, dev_id, role="workspace_billing")
    assert standin.count() == before

    standin.workspace_member_limit = 1
    with pytest.raises(WorkspaceFull) as full:
        gateway.add_workspace_member(ws_id, dev_id)
    assert full.value.user_message == "That workspace is full; ask an admin to make room."


def test_lost_answers_on_member_add_and_remove_are_treated_as_done(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway]
) -> None:
    ws_id, dev_id = seeded_id(standin, "workspace"), seeded_id(standin, "developer")
    recorder = Recorder(really_sleep=True)
    gateway = make_gateway(timeout=0.3, sleep=recorder.sleep, on_call=recorder.on_call)

    standin.inject("POST", r"/members$", status=None, delay=0.6)
    member = gateway.add_workspace_member(ws_id, dev_id)  # retry gets "already a member" (400)
    assert member.workspace_role == "workspace_developer"

    standin.inject("DELETE", r"/members/", status=None, delay=0.6)
    gateway.remove_workspace_member(ws_id, dev_id)  # retry gets 404
    assert standin.count("DELETE") == 2
    assert gateway.get_workspace_member(ws_id, dev_id) is None
