"""Contract test: the real `anthropic` SDK (strict response validation) against the Admin API stand-in.

Every served endpoint is called through `client.beta.organization...`; results are asserted, not just the
absence of exceptions. No network beyond 127.0.0.1 and no SDK mocking.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import pytest
from anthropic.types import ConcurrentMembershipChangeError, OrgMemberLimitExceededError
from anthropic.types.beta.organization import BetaSpendLimitsAdminAPIWritesNotEnabledError
from anthropic.types.organization import (
    AlreadyMemberError,
    CannotRemoveLastMemberError,
    EmailDomainNotAllowedError,
    InviteAlreadyExistsError,
    OrgAPIKeyLimitExceededError,
    WorkspaceAPIKeyLimitExceededError,
    WorkspaceCreatedIncompleteError,
    WorkspaceMemberLimitExceededError,
)

from bot.sandbox.anthropic import ANALYTICS_BETA, SPEND_LIMIT_READS_BETA, AnthropicStandIn

REPO = Path(__file__).resolve().parents[2]
NOV = datetime(2026, 11, 1, tzinfo=UTC)


def make_client(standin: AnthropicStandIn, **kwargs: object) -> anthropic.Anthropic:
    options: dict = {"max_retries": 0, "timeout": 10.0, **kwargs}
    return anthropic.Anthropic(
        api_key=options.pop("api_key", standin.admin_key),
        base_url=standin.base_url,
        _strict_response_validation=True,
        **options,
    )


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def client(anthropic_standin: AnthropicStandIn) -> anthropic.Anthropic:
    return make_client(anthropic_standin)


@pytest.fixture
def org(client: anthropic.Anthropic):  # client.beta.organization
    return client.beta.organization


def raw_request(
    standin: AnthropicStandIn, method: str, path: str, headers: dict[str, str] | None = None, body: object = None
) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection("127.0.0.1", standin.port, timeout=10)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data) if data else None
    finally:
        conn.close()


# ------------------------------------------------------------------------------------- auth & basics


def test_me_and_wire_headers(anthropic_standin: AnthropicStandIn, org) -> None:
    me = org.retrieve()
    assert me.name == "Stand-in Org"
    assert me.type == "organization"
    (sent,) = anthropic_standin.matching("GET", "/v1/organizations/me")
    assert sent.headers["authorization"] == f"Bearer {anthropic_standin.admin_key}"
    assert "x-api-key" not in sent.headers
    assert sent.headers["anthropic-version"]
    assert sent.query == {}


def test_wrong_key_and_x_api_key_only_are_rejected(anthropic_standin: AnthropicStandIn) -> None:
    with pytest.raises(anthropic.AuthenticationError) as exc:
        make_client(anthropic_standin, api_key="sk-ant-admin01-wrong").beta.organization.users.list()
    assert exc.value.status_code == 401
    assert exc.value.type == "authentication_error"
    assert exc.value.request_id and exc.value.request_id.startswith("req_")

    status, headers, body = raw_request(
        anthropic_standin, "GET", "/v1/organizations/me", headers={"x-api-key": anthropic_standin.admin_key}
    )
    assert status == 401
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert headers["request-id"] == body["request_id"]


def test_error_body_shape_and_unknown_paths(anthropic_standin: AnthropicStandIn, org) -> None:
    auth = {"authorization": f"Bearer {anthropic_standin.admin_key}"}
    status, headers, body = raw_request(anthropic_standin, "GET", "/v1/organizations/users/user_nope", auth)
    assert status == 404
    assert set(body) == {"type", "error", "request_id"}
    assert body["error"]["type"] == "not_found_error" and body["error"]["message"]
    assert headers["request-id"] == body["request_id"]
    assert headers["content-type"] == "application/json"
    status, _, body = raw_request(anthropic_standin, "GET", "/v1/organizations/nothing_here", auth)
    assert status == 404
    with pytest.raises(anthropic.NotFoundError) as exc:
        org.users.retrieve("user_nope")
    assert exc.value.request_id and exc.value.request_id != body["request_id"]
    assert exc.value.type == "not_found_error" and exc.value.api_message
    status, _, body = raw_request(anthropic_standin, "POST", "/v1/organizations/invites", auth, body=None)
    assert status == 400  # empty body -> missing email


# ------------------------------------------------------------------------------------------- users


def test_users_list_pages_filters_and_mutations(anthropic_standin: AnthropicStandIn, org) -> None:
    for i in range(3):
        anthropic_standin.add_user(f"person{i}@example.com", role="user" if i == 0 else "developer")
    anthropic_standin.reset_requests()

    users = list(org.users.list(limit=2))
    assert [u.email for u in users] == [
        "admin@example.com",
        "dev@example.com",
        "person0@example.com",
        "person1@example.com",
        "person2@example.com",
    ]
    pages = anthropic_standin.matching("GET", "/v1/organizations/users")
    assert len(pages) == 3
    assert "after_id" not in pages[0].query
    assert pages[1].query["after_id"] == [users[1].id]
    assert pages[2].query["after_id"] == [users[3].id]

    first = org.users.list(limit=2)
    assert first.has_more is True and first.first_id == users[0].id and first.last_id == users[1].id
    back = org.users.list(before_id=users[4].id, limit=2)
    assert [u.id for u in back.data] == [users[2].id, users[3].id] and back.has_more is True
    assert [u.id for u in org.users.list(before_id=users[2].id, limit=5).data] == [users[0].id, users[1].id]
    anthropic_standin.reset_requests()
    backwards = list(org.users.list(before_id=users[4].id, limit=2))  # auto-pages backwards via first_id
    assert [u.id for u in backwards] == [users[2].id, users[3].id, users[0].id, users[1].id]
    assert [r.query.get("before_id") for r in anthropic_standin.matching("GET", "/v1/organizations/users")] == [
        [users[4].id],
        [users[2].id],
    ]

    assert [u.email for u in org.users.list(email="  DEV@Example.COM ")] == ["dev@example.com"]
    assert {u.email for u in org.users.list(roles=["admin", "user"])} == {"admin@example.com", "person0@example.com"}
    assert anthropic_standin.matching("GET", "/v1/organizations/users")[-1].query["roles[]"] == ["admin", "user"]
    with pytest.raises(anthropic.BadRequestError):
        org.users.list(limit=0)
    with pytest.raises(anthropic.BadRequestError):
        org.users.list(limit=1001)
    assert len(org.users.list(limit=1000).data) == 5

    dev_id = anthropic_standin.seeded["developer"]["id"]
    got = org.users.retrieve(dev_id)
    assert (got.email, got.role, got.name) == ("dev@example.com", "developer", "Dev Eloper")
    assert org.users.update(dev_id, role="billing").role == "billing"
    assert org.users.retrieve(dev_id).role == "billing"
    assert anthropic_standin.matching("POST", f"/v1/organizations/users/{dev_id}")[-1].body == {"role": "billing"}
    with pytest.raises(anthropic.BadRequestError) as exc:
        org.users.update(dev_id, role="admin")
    assert exc.value.error_code is None

    removed = org.users.remove(users[4].id)
    assert (removed.id, removed.type) == (users[4].id, "user_deleted")
    with pytest.raises(anthropic.NotFoundError):
        org.users.retrieve(users[4].id)
    assert len(list(org.users.list())) == 4


def test_cannot_remove_last_member() -> None:
    with AnthropicStandIn() as standin:
        only = standin.add_user("solo@example.com", role="admin")
        with pytest.raises(CannotRemoveLastMemberError):
            make_client(standin).beta.organization.users.remove(only["id"])


# ----------------------------------------------------------------------------------------- invites


def test_invites_crud_filters_and_pages(anthropic_standin: AnthropicStandIn, org) -> None:
    created = org.invites.create(email="New.Person@Example.com", role="developer")
    assert (created.status, created.role, created.rbac_group_ids) == ("pending", "developer", [])
    assert created.expires_at > created.invited_at
    assert created.accepted_at is None
    assert org.invites.retrieve(created.id).email == "New.Person@Example.com"

    past = datetime.now(UTC) - timedelta(days=30)
    expired = anthropic_standin.add_invite("late@example.com", invited_at=past, expires_at=past + timedelta(days=7))
    assert expired["status"] == "expired"
    accepted = anthropic_standin.add_invite("joiner@example.com", role="user")
    user = anthropic_standin.accept_invite(accepted["id"])
    assert user["email"] == "joiner@example.com" and user["role"] == "user"
    assert [u.id for u in org.users.list(email="joiner@example.com")] == [user["id"]]
    anthropic_standin.add_invite("third@example.com")

    everything = list(org.invites.list(limit=2))
    assert [i.email for i in everything] == [
        "New.Person@Example.com",
        "late@example.com",
        "joiner@example.com",
        "third@example.com",
    ]
    assert anthropic_standin.count("GET", "/v1/organizations/invites") == 2
    assert {i.status for i in everything} == {"pending", "expired", "accepted"}
    pending = list(org.invites.list(statuses=["pending"]))
    assert [i.email for i in pending] == ["New.Person@Example.com", "third@example.com"]
    assert [i.status for i in org.invites.list(statuses=["accepted", "expired"])] == ["expired", "accepted"]
    assert [i.id for i in org.invites.list(email="new.person@example.com")] == [created.id]
    assert [i.email for i in org.invites.list(roles=["user"])] == ["joiner@example.com"]

    deleted = org.invites.delete(created.id)
    assert (deleted.id, deleted.type) == (created.id, "invite_deleted")
    with pytest.raises(anthropic.NotFoundError):
        org.invites.retrieve(created.id)
    with pytest.raises(anthropic.BadRequestError):
        org.invites.delete(accepted["id"])  # only pending invites can be deleted
    with pytest.raises(anthropic.BadRequestError):
        org.invites.create(email="boss@example.com", role="admin")


def test_invite_error_codes_map_to_sdk_classes(anthropic_standin: AnthropicStandIn, org) -> None:
    with pytest.raises(AlreadyMemberError) as exc:
        org.invites.create(email="DEV@example.com", role="developer")
    assert exc.value.status_code == 400 and exc.value.error_code == "already_member"

    org.invites.create(email="pending@example.com", role="user")
    with pytest.raises(InviteAlreadyExistsError):
        org.invites.create(email="Pending@example.com", role="developer")

    anthropic_standin.allowed_email_domains = {"example.com"}
    with pytest.raises(EmailDomainNotAllowedError) as domain_exc:
        org.invites.create(email="someone@gmail.com", role="developer")
    assert domain_exc.value.details is not None
    assert domain_exc.value.details.error_code == "email_domain_not_allowed"

    # 2 members + 1 pending invite = 3 seats used; pending invites count toward the limit
    anthropic_standin.member_limit = 3
    with pytest.raises(OrgMemberLimitExceededError):
        org.invites.create(email="fourth@example.com", role="developer")
    anthropic_standin.member_limit = 4
    assert org.invites.create(email="fourth@example.com", role="developer").status == "pending"


# -------------------------------------------------------------------------------------- workspaces


def test_workspaces_crud_filters_pages_and_archive(anthropic_standin: AnthropicStandIn, org) -> None:
    default_ws = anthropic_standin.seeded["workspace"]
    created = org.workspaces.create(name="team-a", tags={"team": "a"}, display_color="#112233")
    assert (created.name, created.tags, created.display_color) == ("team-a", {"team": "a"}, "#112233")
    assert created.archived_at is None and created.data_residency.workspace_geo == "us"
    assert org.workspaces.retrieve(created.id).name == "team-a"
    updated = org.workspaces.update(created.id, name="team-a2", tags={"team": None, "cost": "x"})
    assert (updated.name, updated.tags) == ("team-a2", {"cost": "x"})
    with pytest.raises(anthropic.BadRequestError):
        org.workspaces.create(name="bad", tags={"anthropic-x": "1"})

    old = anthropic_standin.add_workspace("old", archived=True)
    third = org.workspaces.create(name="team-b")
    names = [w.name for w in org.workspaces.list(limit=2)]
    assert names == ["default-ws", "team-a2", "team-b"]
    assert anthropic_standin.count("GET", "/v1/organizations/workspaces") == 2
    assert [w.name for w in org.workspaces.list(include_archived=True)] == ["default-ws", "team-a2", "old", "team-b"]
    assert anthropic_standin.matching("GET", "/v1/organizations/workspaces")[-1].query["include_archived"] == ["true"]
    assert [w.id for w in org.workspaces.list(ids=[third.id, old["id"]])] == [third.id]
    assert [w.id for w in org.workspaces.list(ids=[third.id, old["id"]], include_archived=True)] == [
        old["id"],
        third.id,
    ]

    key = anthropic_standin.add_api_key(name="ws-key", workspace_id=third.id)
    archived = org.workspaces.archive(third.id)
    assert archived.archived_at is not None
    assert org.api_keys.retrieve(key["id"]).status == "archived"
    assert third.id not in [w.id for w in org.workspaces.list()]
    with pytest.raises(anthropic.BadRequestError):
        org.workspaces.update(third.id, name="again")
    with pytest.raises(anthropic.NotFoundError):
        org.workspaces.retrieve("wrkspc_missing")
    assert org.workspaces.retrieve(default_ws["id"]).name == "default-ws"


def test_workspace_members(anthropic_standin: AnthropicStandIn, org) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    admin, dev = anthropic_standin.seeded["admin"]["id"], anthropic_standin.seeded["developer"]["id"]
    extra = anthropic_standin.add_user("extra@example.com")["id"]

    added = org.workspaces.members.add(ws, user_id=dev, workspace_role="workspace_developer")
    assert (added.type, added.user_id, added.workspace_id, added.workspace_role) == (
        "workspace_member",
        dev,
        ws,
        "workspace_developer",
    )
    with pytest.raises(anthropic.BadRequestError):
        org.workspaces.members.add(ws, user_id=admin, workspace_role="workspace_billing")
    org.workspaces.members.add(ws, user_id=admin, workspace_role="workspace_admin")
    org.workspaces.members.add(ws, user_id=extra, workspace_role="workspace_user")
    with pytest.raises(anthropic.NotFoundError):
        org.workspaces.members.add(ws, user_id="user_missing", workspace_role="workspace_user")

    assert org.workspaces.members.retrieve(dev, workspace_id=ws).workspace_role == "workspace_developer"
    assert org.workspaces.members.update(dev, workspace_id=ws, workspace_role="workspace_billing").workspace_role == (
        "workspace_billing"
    )
    anthropic_standin.reset_requests()
    members = list(org.workspaces.members.list(ws, limit=2))
    assert [m.user_id for m in members] == sorted([admin, dev, extra])
    assert anthropic_standin.count("GET", f"/v1/organizations/workspaces/{ws}/members") == 2

    removed = org.workspaces.members.remove(extra, workspace_id=ws)
    assert (removed.type, removed.user_id, removed.workspace_id) == ("workspace_member_deleted", extra, ws)
    with pytest.raises(anthropic.NotFoundError):
        org.workspaces.members.retrieve(extra, workspace_id=ws)

    anthropic_standin.workspace_member_limit = 2
    with pytest.raises(WorkspaceMemberLimitExceededError):
        org.workspaces.members.add(ws, user_id=extra, workspace_role="workspace_user")


# ----------------------------------------------------------------------------------------- api keys


def test_api_keys_list_filters_update_and_terminal_states(anthropic_standin: AnthropicStandIn, org) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    other_ws = anthropic_standin.add_workspace("other")["id"]
    dev = anthropic_standin.seeded["developer"]["id"]
    admin = anthropic_standin.seeded["admin"]["id"]
    k1 = anthropic_standin.add_api_key(name="dev-1", workspace_id=ws, created_by_user_id=dev)
    k2 = anthropic_standin.add_api_key(name="dev-2", workspace_id=other_ws, created_by_user_id=dev, status="inactive")
    k3 = anthropic_standin.add_api_key(
        name="admin-1", workspace_id=ws, created_by_user_id=admin, expires_at=datetime.now(UTC) - timedelta(days=1)
    )
    k4 = anthropic_standin.add_api_key(name="legacy", workspace_id=None)

    everything = list(org.api_keys.list(limit=2))
    assert [k.id for k in everything] == [k1["id"], k2["id"], k3["id"], k4["id"]]
    assert anthropic_standin.count("GET", "/v1/organizations/api_keys") == 2
    first = org.api_keys.retrieve(k1["id"])
    assert first.scope.type == "workspace" and first.scope.workspace_id == ws
    assert first.created_by is not None and first.created_by.id == dev
    assert first.principal is not None and first.principal.type == "user_actor"
    legacy = org.api_keys.retrieve(k4["id"])
    assert legacy.scope.type == "organization" and legacy.created_by is None and legacy.principal is None

    assert [k.id for k in org.api_keys.list(status="active")] == [k1["id"], k4["id"]]
    assert [k.id for k in org.api_keys.list(status="expired")] == [k3["id"]]
    assert [k.id for k in org.api_keys.list(workspace_id=ws)] == [k1["id"], k3["id"]]
    assert [k.id for k in org.api_keys.list(created_by_user_id=dev)] == [k1["id"], k2["id"]]
    assert [k.id for k in org.api_keys.list(created_by_user_id=dev, status="inactive")] == [k2["id"]]

    renamed = org.api_keys.update(k1["id"], name="dev-1-renamed")
    assert (renamed.name, renamed.status) == ("dev-1-renamed", "active")
    assert anthropic_standin.matching("POST", f"/v1/organizations/api_keys/{k1['id']}")[-1].body == {
        "name": "dev-1-renamed"
    }
    assert org.api_keys.update(k1["id"], status="inactive").status == "inactive"
    assert org.api_keys.update(k1["id"], status="active").status == "active"
    with pytest.raises(anthropic.BadRequestError):
        org.api_keys.update(k1["id"], status="expired")
    with pytest.raises(anthropic.BadRequestError):
        org.api_keys.update(k3["id"], status="active")  # expired keys can't come back
    assert org.api_keys.update(k1["id"], status="archived").status == "archived"
    with pytest.raises(anthropic.BadRequestError):
        org.api_keys.update(k1["id"], status="active")  # archived is terminal
    with pytest.raises(anthropic.NotFoundError):
        org.api_keys.retrieve("apikey_missing")

    anthropic_standin.workspace_api_key_limit = 1  # other_ws already... has none active; ws has none active now
    anthropic_standin.add_api_key(name="fills-other", workspace_id=other_ws)
    with pytest.raises(WorkspaceAPIKeyLimitExceededError):
        org.api_keys.update(k2["id"], status="active")
    anthropic_standin.workspace_api_key_limit = None
    anthropic_standin.org_api_key_limit = 2
    with pytest.raises(OrgAPIKeyLimitExceededError):
        org.api_keys.update(k2["id"], status="active")


# ------------------------------------------------------------------------------------- spend limits


def test_spend_limits_console(anthropic_standin: AnthropicStandIn, org) -> None:
    ws = anthropic_standin.seeded["workspace"]["id"]
    ws2 = anthropic_standin.add_workspace("ws2")["id"]
    org_limit = org.spend_limits.set(amount="50000", scope={"type": "organization"})
    assert (org_limit.amount, org_limit.period, org_limit.scope.type, org_limit.currency) == (
        "50000",
        "monthly",
        "organization",
        "USD",
    )
    ws_limit = org.spend_limits.set(amount="10000", scope={"type": "workspace", "workspace_id": ws}, period="monthly")
    again = org.spend_limits.set(amount="20000", scope={"type": "workspace", "workspace_id": ws})
    assert again.id == ws_limit.id and again.amount == "20000"  # upsert on (scope, period)
    org.spend_limits.set(amount="5000", scope={"type": "workspace", "workspace_id": ws2})
    assert org.spend_limits.retrieve(ws_limit.id).amount == "20000"

    anthropic_standin.reset_requests()
    listed = list(org.spend_limits.list(limit=2))
    assert [s.scope.type for s in listed] == ["workspace", "workspace", "organization", "usage_tier"]
    assert listed[-1].amount == anthropic_standin.usage_tier_amount
    pages = anthropic_standin.matching("GET", "/v1/organizations/spend_limits")
    assert len(pages) == 2 and all(SPEND_LIMIT_READS_BETA in p.headers["anthropic-beta"] for p in pages)
    assert "page" in pages[1].query
    assert [s.id for s in org.spend_limits.list(workspace_id=ws)] == [ws_limit.id]
    assert {s.scope.type for s in org.spend_limits.list(scope_type=["organization", "usage_tier"])} == {
        "organization",
        "usage_tier",
    }
    with pytest.raises(anthropic.BadRequestError):
        list(org.spend_limits.list(scope_type=["user"]))
    with pytest.raises(anthropic.BadRequestError):
        org.spend_limits.set(amount="100", scope={"type": "user", "user_id": anthropic_standin.seeded["admin"]["id"]})
    with pytest.raises(anthropic.BadRequestError):
        org.spend_limits.set(amount="100", scope={"type": "organization"}, period="daily")
    with pytest.raises(anthropic.BadRequestError):
        org.spend_limits.set(amount="12.5", scope={"type": "organization"})

    deleted = org.spend_limits.delete(ws_limit.id)
    assert (deleted.id, deleted.type) == (ws_limit.id, "spend_limit_deleted")
    with pytest.raises(anthropic.NotFoundError):
        org.spend_limits.retrieve(ws_limit.id)

    anthropic_standin.spend_limit_writes_enabled = False
    for call in (
        lambda: org.spend_limits.set(amount="1", scope={"type": "organization"}),
        lambda: org.spend_limits.retrieve(org_limit.id),
        lambda: org.spend_limits.delete(org_limit.id),
    ):
        with pytest.raises(BetaSpendLimitsAdminAPIWritesNotEnabledError) as exc:
            call()
        assert exc.value.status_code == 403
    assert len(list(org.spend_limits.list())) == 3  # listing still works


def test_effective_spend_is_enterprise_only(anthropic_standin: AnthropicStandIn, org) -> None:
    with pytest.raises(anthropic.OrganizationTypeNotSupportedError):
        list(org.spend_limits.effective.list())

    anthropic_standin.org_type = "enterprise"
    admin, dev = anthropic_standin.seeded["admin"]["id"], anthropic_standin.seeded["developer"]["id"]
    third = anthropic_standin.add_user("third@example.com", role="user")["id"]
    anthropic_standin.add_spend_limit("organization", amount="10000", period="monthly")
    anthropic_standin.add_spend_limit("organization", amount="1000", period="daily")
    user_limit = org.spend_limits.set(amount="30000", scope={"type": "user", "user_id": dev})
    assert user_limit.scope.type == "user"
    anthropic_standin.add_cost(
        starting_at=datetime.now(UTC),
        ending_at=datetime.now(UTC) + timedelta(hours=1),
        amount_cents="120.5",
        actor_user_id=dev,
    )
    anthropic_standin.add_cost(
        starting_at=datetime.now(UTC),
        ending_at=datetime.now(UTC) + timedelta(hours=1),
        amount_cents="0.25",
        actor_user_id=dev,
    )
    anthropic_standin.set_period_spend(admin, "999.125")

    anthropic_standin.reset_requests()
    rows = list(org.spend_limits.effective.list(limit=2))
    assert anthropic_standin.count("GET", "/v1/organizations/spend_limits/effective") == 2
    by_user_period = {(r.actor.user_id, r.period): r for r in rows}
    assert len(rows) == 6  # 3 members x (daily, monthly)
    dev_monthly = by_user_period[(dev, "monthly")]
    assert (dev_monthly.amount, dev_monthly.source.type, dev_monthly.spend_limit_id) == (
        "30000",
        "user",
        user_limit.id,
    )
    assert dev_monthly.period_to_date_spend == "120.75"
    assert by_user_period[(dev, "daily")].source.type == "organization"
    assert by_user_period[(admin, "monthly")].period_to_date_spend == "999.125"
    assert by_user_period[(third, "monthly")].amount == "10000"
    assert by_user_period[(third, "monthly")].actor.email_address == "third@example.com"
    only = list(org.spend_limits.effective.list(user_ids=[dev], period=["monthly"]))
    assert [(r.period, r.amount) for r in only] == [("monthly", "30000")]
    assert {s.scope.type for s in org.spend_limits.list()} == {"organization", "user"}


def test_increase_requests(anthropic_standin: AnthropicStandIn, org) -> None:
    anthropic_standin.org_type = "enterprise"
    admin, dev = anthropic_standin.seeded["admin"]["id"], anthropic_standin.seeded["developer"]["id"]
    leaver = anthropic_standin.add_user("leaver@example.com")["id"]
    anthropic_standin.add_spend_limit("organization", amount="10000")
    base = datetime.now(UTC) - timedelta(days=3)
    r_old = anthropic_standin.add_increase_request(dev, created_at=base)
    r_denied = anthropic_standin.add_increase_request(admin, status="denied", created_at=base + timedelta(hours=1))
    r_new = anthropic_standin.add_increase_request(admin, created_at=base + timedelta(hours=2))
    anthropic_standin.add_increase_request(leaver, created_at=base + timedelta(hours=3))
    anthropic_standin.add_increase_request(dev, period="daily", created_at=base + timedelta(hours=4))
    org.users.remove(leaver)  # requests from former members are excluded

    anthropic_standin.reset_requests()
    everything = list(org.spend_limits.increase_requests.list(limit=2))
    assert anthropic_standin.count("GET", "/v1/organizations/spend_limit_increase_requests") == 2
    assert len(everything) == 4
    assert everything[-1].id == r_old["id"]  # newest first
    pending = list(org.spend_limits.increase_requests.list(status=["pending"], actor_ids=[dev]))
    assert [(r.id, r.period) for r in pending][1] == (r_old["id"], "monthly")
    assert pending[1].spend_summary is not None and pending[1].spend_summary.amount == "10000"

    got = org.spend_limits.increase_requests.retrieve(r_new["id"])
    assert (got.status, got.actor.user_id) == ("pending", admin)

    approved = org.spend_limits.increase_requests.approve(r_old["id"], amount="25000", suppress_notification=True)
    assert approved.status == "approved" and approved.resolved_at is not None and approved.resolved_by is not None
    assert approved.spend_limit is not None
    assert (approved.spend_limit.amount, approved.spend_limit.period) == ("25000", "monthly")
    assert approved.spend_limit.scope.type == "user" and approved.spend_limit.scope.user_id == dev
    assert anthropic_standin.matching("POST", f".*/{r_old['id']}/approve")[-1].body == {
        "amount": "25000",
        "suppress_notification": True,
    }
    eff = list(org.spend_limits.effective.list(user_ids=[dev], period=["monthly"]))
    assert eff[0].amount == "25000" and eff[0].spend_limit_id == approved.spend_limit.id
    with pytest.raises(anthropic.BadRequestError):
        org.spend_limits.increase_requests.approve(r_old["id"], amount="1")
    with pytest.raises(anthropic.BadRequestError):
        org.spend_limits.increase_requests.deny(r_old["id"])  # approved can't be denied

    denied = org.spend_limits.increase_requests.deny(r_new["id"])
    assert denied.status == "denied"
    assert org.spend_limits.increase_requests.deny(r_new["id"]).resolved_at == denied.resolved_at  # idempotent
    assert org.spend_limits.increase_requests.deny(r_denied["id"]).status == "denied"
    daily = org.spend_limits.increase_requests.approve(pending[0].id, amount="700")
    assert daily.spend_limit is not None and daily.spend_limit.period == "daily"
    assert {r.status for r in org.spend_limits.increase_requests.list(status=["approved", "denied"])} == {
        "approved",
        "denied",
    }
    with pytest.raises(anthropic.NotFoundError):
        org.spend_limits.increase_requests.retrieve("silr_missing")


# ----------------------------------------------------------------------------------------- analytics


def seed_costs(standin: AnthropicStandIn) -> dict[str, str]:
    ws = standin.seeded["workspace"]["id"]
    dev = standin.seeded["developer"]["id"]
    k1 = standin.add_api_key(name="k1", workspace_id=ws, created_by_user_id=dev)["id"]
    k2 = standin.add_api_key(name="k2", workspace_id=ws, created_by_user_id=dev)["id"]
    k3 = standin.add_api_key(name="k3", workspace_id=ws)["id"]
    h = timedelta(hours=1)
    d1, d2 = NOV + timedelta(hours=10), NOV + timedelta(days=1, hours=5)
    standin.add_cost(
        starting_at=d1,
        ending_at=d1 + h,
        amount_cents="0.1",
        api_key_id=k1,
        model="claude-a",
        workspace_id=ws,
        actor_user_id=dev,
        requests=1,
    )
    standin.add_cost(
        starting_at=d2,
        ending_at=d2 + h,
        amount_cents="0.2",
        api_key_id=k1,
        model="claude-b",
        workspace_id=ws,
        actor_user_id=dev,
        requests=2,
    )
    standin.add_cost(
        starting_at=d1,
        ending_at=d1 + h,
        amount_cents="1234.567",
        api_key_id=k2,
        model="claude-a",
        workspace_id=ws,
        token_type="output_tokens",
        requests=3,
    )
    standin.add_cost(
        starting_at=d2,
        ending_at=d2 + h,
        amount_cents="10",
        api_key_id=k3,
        model="claude-b",
        workspace_id=ws,
        list_amount_cents="12.5",
    )
    standin.add_cost(
        starting_at=NOV - timedelta(days=2), ending_at=NOV - timedelta(days=2) + h, amount_cents="999", api_key_id=k1
    )  # outside the range
    return {"k1": k1, "k2": k2, "k3": k3, "ws": ws, "dev": dev}


def test_analytics_cost(anthropic_standin: AnthropicStandIn, org) -> None:
    ids = seed_costs(anthropic_standin)
    end = NOV + timedelta(days=30)

    total = list(org.analytics.cost.list(starting_at=NOV, ending_at=end))
    assert len(total) == 1
    assert total[0].cost.amount == str(Decimal("0.1") + Decimal("0.2") + Decimal("1234.567") + Decimal("10"))
    assert total[0].cost.list_amount == "1247.367" and total[0].cost.currency == "USD"
    assert (total[0].starting_at, total[0].ending_at) == (NOV, end)
    sent = anthropic_standin.matching("GET", "/v1/organizations/analytics/cost")[-1]
    assert ANALYTICS_BETA in sent.headers["anthropic-beta"].split(",")
    assert sent.query["starting_at"] == [NOV.isoformat()]

    anthropic_standin.reset_requests()
    page = org.analytics.cost.list(starting_at=NOV, ending_at=end, group_by=["api_key_id"], limit=2)
    assert page.data_refreshed_at is not None and page.has_more is True
    by_key = list(page)
    assert anthropic_standin.count("GET", "/v1/organizations/analytics/cost") == 2
    assert [(r.group.api_key_id, r.cost.amount) for r in by_key] == [
        (ids["k2"], "1234.567"),
        (ids["k3"], "10"),
        (ids["k1"], "0.3"),
    ]
    assert by_key[2].cost.requests == 3
    assert anthropic_standin.matching("GET", "/v1/organizations/analytics/cost")[0].query["group_by[]"] == [
        "api_key_id"
    ]
    asc = list(org.analytics.cost.list(starting_at=NOV, ending_at=end, group_by=["api_key_id"], order="asc"))
    assert [r.group.api_key_id for r in asc] == [ids["k1"], ids["k3"], ids["k2"]]

    daily = list(
        org.analytics.cost.list(
            starting_at=NOV,
            ending_at=NOV + timedelta(days=2),
            time_bucket_width="1d",
            group_by=["model"],
            order_by="time",
            order="asc",
        )
    )
    assert [(r.starting_at, r.ending_at, r.group.model, r.cost.amount) for r in daily] == [
        (NOV, NOV + timedelta(days=1), "claude-a", "1234.667"),
        (NOV + timedelta(days=1), NOV + timedelta(days=2), "claude-b", "10.2"),
    ]
    hourly = list(org.analytics.cost.list(starting_at=NOV, ending_at=NOV + timedelta(days=1), time_bucket_width="1h"))
    assert [(r.starting_at.hour, r.cost.amount) for r in hourly] == [(10, "1234.667")]

    filtered = list(
        org.analytics.cost.list(
            starting_at=NOV,
            ending_at=end,
            api_key_ids=[ids["k1"], ids["k3"]],
            models=["claude-b"],
            workspace_ids=[ids["ws"]],
        )
    )
    assert [r.cost.amount for r in filtered] == ["10.2"]
    by_actor = list(
        org.analytics.cost.list(
            starting_at=NOV, ending_at=end, actor_ids=[ids["dev"]], group_by=["actor", "actor_type"]
        )
    )
    assert len(by_actor) == 1 and by_actor[0].cost.amount == "0.3"
    actor = by_actor[0].group.actor
    assert actor is not None and actor.type == "user_actor" and actor.email_address == "dev@example.com"
    assert by_actor[0].group.actor_type == "user_actor"
    by_token = list(org.analytics.cost.list(starting_at=NOV, ending_at=end, group_by=["token_type"]))
    assert {(r.group.token_type, r.cost.amount, r.cost.requests) for r in by_token} == {
        ("output_tokens", "1234.567", None),
        (None, "10.3", None),
    }
    empty = list(org.analytics.cost.list(starting_at=NOV, ending_at=end, models=["nope"]))
    assert [(r.cost.amount, r.cost.requests) for r in empty] == [("0", 0)]


def test_analytics_validation_errors(org) -> None:
    cases: list[dict[str, Any]] = [
        {"starting_at": NOV, "ending_at": NOV + timedelta(days=32)},
        {"starting_at": NOV, "time_bucket_width": "1d"},  # ending_at required with a width
        {"starting_at": NOV, "ending_at": NOV - timedelta(hours=1)},
        {"starting_at": datetime(2025, 12, 1, tzinfo=UTC), "ending_at": datetime(2025, 12, 2, tzinfo=UTC)},
        {"starting_at": NOV, "ending_at": NOV + timedelta(days=2), "time_bucket_width": "1m"},
        {"starting_at": NOV, "ending_at": NOV + timedelta(days=1), "limit": 0},
        {"starting_at": NOV, "ending_at": NOV + timedelta(days=1), "limit": 1001},
        {
            "starting_at": NOV,
            "ending_at": NOV + timedelta(days=1),
            "group_by": ["model", "workspace_id", "api_key_id", "actor", "product", "speed"],
        },
        {"starting_at": NOV, "ending_at": NOV + timedelta(days=1), "order_by": "time"},
        {"starting_at": "2026-11-01T00:00:00", "ending_at": NOV + timedelta(days=1)},  # no offset
    ]
    for params in cases:
        with pytest.raises(anthropic.BadRequestError):
            list(org.analytics.cost.list(**params))
    # 5 dimensions plus the fan-out dimensions are fine
    assert (
        list(
            org.analytics.cost.list(
                starting_at=NOV,
                ending_at=NOV + timedelta(days=1),
                group_by=["model", "workspace_id", "api_key_id", "actor", "product", "token_type", "cost_type"],
            )
        )
        == []
    )
    with pytest.raises(anthropic.BadRequestError):
        list(org.analytics.usage.list(starting_at=NOV, group_by=["token_type"]))
    with pytest.raises(anthropic.BadRequestError):
        list(org.analytics.usage.list(starting_at=NOV, extra_headers={"anthropic-beta": "something-else"}))


def test_analytics_usage(anthropic_standin: AnthropicStandIn, org) -> None:
    ids = seed_costs(anthropic_standin)
    t0 = NOV + timedelta(hours=3)
    for i, (model, key) in enumerate([("claude-a", ids["k1"]), ("claude-b", ids["k2"]), ("claude-a", ids["k2"])]):
        anthropic_standin.add_usage(
            starting_at=t0 + timedelta(minutes=90 * i),
            ending_at=t0 + timedelta(hours=5),
            input_tokens=100 * (i + 1),
            output_tokens=10,
            cache_read=5,
            model=model,
            api_key_id=key,
            workspace_id=ids["ws"],
            requests=2,
            actor_user_id=ids["dev"] if key == ids["k1"] else None,
        )
    end = NOV + timedelta(days=1)

    total = list(org.analytics.usage.list(starting_at=NOV, ending_at=end))
    assert len(total) == 1
    usage = total[0].usage
    assert (usage.uncached_input_tokens, usage.output_tokens, usage.cache_read_input_tokens) == (600, 30, 15)
    assert usage.total_tokens == 645 and usage.requests == 6
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0 and usage.server_tool_use.web_search_requests == 0

    anthropic_standin.reset_requests()
    by_model = org.analytics.usage.list(starting_at=NOV, ending_at=end, group_by=["model", "api_key_id"], limit=2)
    rows = list(by_model)
    assert anthropic_standin.count("GET", "/v1/organizations/analytics/usage") == 2
    assert [(r.group.model, r.group.api_key_id, r.usage.total_tokens) for r in rows] == [
        ("claude-a", ids["k2"], 315),
        ("claude-b", ids["k2"], 215),
        ("claude-a", ids["k1"], 115),
    ]
    assert by_model.data_refreshed_at is not None
    sent = anthropic_standin.matching("GET", "/v1/organizations/analytics/usage")
    assert all(s.headers["anthropic-beta"] == ANALYTICS_BETA for s in sent)
    assert sent[1].query["page"] and sent[1].query["group_by[]"] == ["model", "api_key_id"]

    hourly = list(
        org.analytics.usage.list(starting_at=NOV, ending_at=end, time_bucket_width="1h", order_by="time", order="asc")
    )
    assert [(r.starting_at.hour, r.ending_at.hour, r.usage.uncached_input_tokens) for r in hourly] == [
        (3, 4, 100),
        (4, 5, 200),
        (6, 7, 300),
    ]
    by_actor = list(org.analytics.usage.list(starting_at=NOV, ending_at=end, group_by=["actor"]))
    actors = {r.group.actor.type: r.usage.total_tokens for r in by_actor}
    assert actors == {"api_actor": 530, "user_actor": 115}
    only_key = list(
        org.analytics.usage.list(
            starting_at=NOV, ending_at=end, actor_ids=[ids["k2"]], order_by="uncached_input_tokens"
        )
    )
    assert only_key[0].usage.uncached_input_tokens == 500
    assert (
        list(
            org.analytics.usage.list(starting_at=NOV, ending_at=end, group_by=["model"], workspace_ids=["wrkspc_other"])
        )
        == []
    )


# ------------------------------------------------------------------------------------------- faults


def test_429_retry_after_is_honoured(anthropic_standin: AnthropicStandIn) -> None:
    anthropic_standin.inject("GET", r"/users$", status=429, headers={"retry-after": "0.3"})
    client = make_client(anthropic_standin, max_retries=1)
    started = time.monotonic()
    users = list(client.beta.organization.users.list())
    elapsed = time.monotonic() - started
    assert len(users) == 2
    assert elapsed >= 0.3
    attempts = anthropic_standin.matching("GET", "/v1/organizations/users")
    assert [a.headers["x-stainless-retry-count"] for a in attempts] == ["0", "1"]

    anthropic_standin.inject("GET", r"/users$", status=429, headers={"retry-after": "7"}, error_code=None)
    with pytest.raises(anthropic.RateLimitError) as exc:
        make_client(anthropic_standin).beta.organization.users.list()
    assert exc.value.response.headers["retry-after"] == "7"
    assert exc.value.type == "rate_limit_error"


@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [
        (500, None, anthropic.InternalServerError),
        (503, None, anthropic.ServiceUnavailableError),
        (529, None, anthropic.OverloadedError),
        (502, None, anthropic.InternalServerError),
        (409, "concurrent_membership_change", ConcurrentMembershipChangeError),
        (503, "workspace_created_incomplete", WorkspaceCreatedIncompleteError),
    ],
)
def test_injected_status_errors(anthropic_standin: AnthropicStandIn, org, status, error_code, expected) -> None:
    anthropic_standin.inject(
        "POST", r"/workspaces$", status=status, error_code=error_code, headers={"x-should-retry": "false"}
    )
    with pytest.raises(expected) as exc:
        org.workspaces.create(name="x")
    assert exc.value.status_code == status
    assert exc.value.error_code == error_code
    assert org.workspaces.create(name="y").name == "y"  # the fault was consumed (times=1)


def test_faults_reset_malformed_delay_and_times(anthropic_standin: AnthropicStandIn, org) -> None:
    anthropic_standin.inject("GET", r"/me$", reset_connection=True)
    with pytest.raises(anthropic.APIConnectionError):
        org.retrieve()

    # A 200 with a truncated JSON body: the SDK raises the raw json.JSONDecodeError (not an anthropic class)
    anthropic_standin.inject("GET", r"/me$", status=200, malformed_json=True)
    with pytest.raises(json.JSONDecodeError):
        org.retrieve()
    # A non-JSON 200 (e.g. a proxy's HTML page) under strict validation
    anthropic_standin.inject("GET", r"/me$", status=200, malformed_json=True, content_type="text/html")
    with pytest.raises(anthropic.APIResponseValidationError):
        org.retrieve()
    # A broken 5xx body still maps by status
    anthropic_standin.inject("GET", r"/me$", status=500, malformed_json=True)
    with pytest.raises(anthropic.InternalServerError):
        org.retrieve()

    anthropic_standin.inject("GET", r"/me$", status=None, delay=2.0)
    with pytest.raises(anthropic.APITimeoutError):
        make_client(anthropic_standin, timeout=0.3).beta.organization.retrieve()

    anthropic_standin.inject("GET", r"/users", status=503, times=2)
    for _ in range(2):
        with pytest.raises(anthropic.ServiceUnavailableError):
            org.users.list()
    assert len(org.users.list().data) == 2
    assert org.retrieve().name == "Stand-in Org"  # /me faults all consumed


def test_pass_through_and_wildcard_faults(anthropic_standin: AnthropicStandIn, org) -> None:
    anthropic_standin.inject("GET", r"/me$", status=None, delay=0.2)  # delay only, then served normally
    started = time.monotonic()
    assert org.retrieve().type == "organization"
    assert time.monotonic() - started >= 0.2
    anthropic_standin.inject("*", r"/invites", status=403)
    with pytest.raises(anthropic.PermissionDeniedError):
        org.invites.create(email="x@example.com", role="user")
    anthropic_standin.inject("GET", r"/invites", status=500)
    anthropic_standin.clear_faults()
    assert org.invites.list().data == []  # the faulted create never reached the state
    assert org.invites.create(email="x@example.com", role="user").status == "pending"


# ----------------------------------------------------------------------------- recording & performance


def test_request_recording_count_and_wait_for(anthropic_standin: AnthropicStandIn, org) -> None:
    anthropic_standin.reset_requests()
    org.users.list(email="dev@example.com", roles=["developer"])
    org.users.retrieve(anthropic_standin.seeded["developer"]["id"])
    (listing,) = anthropic_standin.matching("GET", "/v1/organizations/users")
    assert listing.query == {"email": ["dev@example.com"], "roles[]": ["developer"]}
    assert anthropic_standin.count("GET", r"/v1/organizations/users.*") == 2
    assert anthropic_standin.count("GET", "/v1/organizations/users/user_.*") == 1
    assert anthropic_standin.count("POST") == 0
    assert anthropic_standin.count() == 2

    def later() -> None:
        time.sleep(0.2)
        make_client(anthropic_standin).beta.organization.invites.create(email="w@example.com", role="user")

    worker = concurrent.futures.ThreadPoolExecutor(1)
    future = worker.submit(later)
    found = anthropic_standin.wait_for("POST", "/v1/organizations/invites", timeout=5)
    assert found[0].body == {"email": "w@example.com", "role": "user"}
    future.result()
    worker.shutdown()
    with pytest.raises(TimeoutError):
        anthropic_standin.wait_for("DELETE", timeout=0.1)
    anthropic_standin.reset_requests()
    assert anthropic_standin.requests == []


def test_200_concurrent_connections_with_latency() -> None:
    with AnthropicStandIn(latency=1.0) as standin:
        auth = {"authorization": f"Bearer {standin.admin_key}"}

        def call(_: int) -> int:
            return raw_request(standin, "GET", "/v1/organizations/me", auth)[0]

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(200) as pool:
            statuses = list(pool.map(call, range(200)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 200
        assert elapsed < 4.0, elapsed  # serialized it would take 200 s
        standin.latency = 0.0
        assert call(0) == 200


def test_async_client_concurrency_and_pagination() -> None:
    async def run(standin: AnthropicStandIn) -> tuple[list[str], list[int], float]:
        client = anthropic.AsyncAnthropic(
            api_key=standin.admin_key, base_url=standin.base_url, max_retries=0, _strict_response_validation=True
        )
        async with client:
            org = client.beta.organization
            emails = [u.email async for u in org.users.list(limit=1)]
            started = time.monotonic()
            counts = await asyncio.gather(*(org.api_keys.list(limit=5) for _ in range(50)))
            return emails, [len(page.data) for page in counts], time.monotonic() - started

    with AnthropicStandIn() as standin:
        standin.seed_basic()
        standin.seed_scale(0, 1, 3)
        standin.latency = 0.5
        emails, sizes, elapsed = asyncio.run(run(standin))
    assert emails == ["admin@example.com", "dev@example.com"]
    assert sizes == [3] * 50
    assert elapsed < 2.5, elapsed  # 50 calls x 0.5 s overlap


def test_seed_scale_pages(anthropic_standin: AnthropicStandIn, org) -> None:
    ids = anthropic_standin.seed_scale(2000, 100, 20000)
    assert (len(ids["users"]), len(ids["workspaces"]), len(ids["api_keys"])) == (2000, 100, 20000)
    page = org.api_keys.list(limit=1000, workspace_id=ids["workspaces"][3])
    assert len(page.data) == 200 and page.has_more is False
    assert sum(1 for _ in org.users.list(limit=1000)) == 2002
    assert len(org.workspaces.members.list(ids["workspaces"][0], limit=1000).data) == 20
    assert len(org.api_keys.list(status="archived", limit=1000).data) == 800


def test_cli_prints_ready_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.sandbox.anthropic",
            "--port",
            "0",
            "--latency",
            "0.05",
            "--seed-scale",
            "5,2,7",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("READY http://127.0.0.1:")
        client = anthropic.Anthropic(
            api_key="sk-ant-admin01-standin-key",
            base_url=line.split()[1],
            max_retries=0,
            _strict_response_validation=True,
        )
        assert len(list(client.beta.organization.api_keys.list(limit=1000))) == 7
        assert len(list(client.beta.organization.users.list(limit=1000))) == 7
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_default_workspace_is_listed_only_with_include_default(anthropic_standin: AnthropicStandIn, org) -> None:
    default = anthropic_standin.default_workspace_id
    assert [w.name for w in org.workspaces.list()] == ["default-ws"]
    listed = {w.id: w.name for w in org.workspaces.list(include_default=True)}
    assert listed[default] == "Default" and len(listed) == 2
    assert org.workspaces.retrieve(default).name == "Default"
    key = anthropic_standin.add_api_key(name="in-default", workspace_id=default)
    assert org.api_keys.retrieve(key["id"]).scope.workspace_id == default
    with pytest.raises(anthropic.BadRequestError):
        org.workspaces.archive(default)


# -- Claude Code Analytics (GET /usage_report/claude_code): strict parameters like the real API ------------


def test_claude_code_report_refuses_unknown_and_malformed_parameters() -> None:
    import httpx

    from bot.sandbox.anthropic import AnthropicStandIn as _StandIn

    with _StandIn() as standin:
        standin.add_claude_code(day="2026-11-03", email="ana@example.com")
        url = f"{standin.base_url}/v1/organizations/usage_report/claude_code"
        auth = {"Authorization": f"Bearer {standin.admin_key}", "anthropic-version": "2023-06-01"}
        ok = httpx.get(url, params={"starting_at": "2026-11-03"}, headers=auth)
        assert ok.status_code == 200 and len(ok.json()["data"]) == 1 and ok.json()["has_more"] is False
        for params in (
            {"starting_at": "2026-11-03", "ending_at": "2026-11-04"},  # no ranges: one day a call
            {"starting_at": "2026-11-03T00:00:00Z"},
            {"starting_at": "2026-11-03", "limit": "1001"},
            {"limit": "10"},
            {"starting_at": "2026-02-30"},
        ):
            answer = httpx.get(url, params=params, headers=auth)
            assert answer.status_code == 400, params
            assert answer.json()["error"]["type"] == "invalid_request_error"
