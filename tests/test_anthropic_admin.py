"""AdminGateway against the Admin API stand-in over real HTTP, driven by the real `anthropic` client.

Nothing in the SDK is mocked. The gateway runs with strict response validation and an injected `sleep`
that records the waits it would have slept.
"""

from __future__ import annotations

import email.utils
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from bot.anthropic_admin import (
    _BY_ERROR_CODE,
    AdminAPIError,
    AdminGateway,
    AdminKeyInvalid,
    AlreadyMember,
    ApiKey,
    BadRequest,
    Conflict,
    EmailDomainNotAllowed,
    FeatureUnavailable,
    Invite,
    InviteAlreadyPending,
    KeyLimitReached,
    NotFound,
    Organization,
    OrgUser,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    RoleNotAssignable,
    SeatLimitReached,
    Unavailable,
    Workspace,
    WorkspaceFull,
    WorkspaceMember,
)
from tests.standins.anthropic_admin import AnthropicStandIn, anthropic_standin  # noqa: F401

ORG = "/v1/organizations"
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)
NOV_8 = datetime(2026, 11, 8, tzinfo=UTC)


class Recorder:
    """The injected `sleep` and `on_call`: remembers instead of waiting."""

    def __init__(self, *, really_sleep: bool = False) -> None:
        self.sleeps: list[float] = []
        self.calls: list[tuple[str, int | str]] = []
        self._really_sleep = really_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self._really_sleep:
            time.sleep(seconds)

    def on_call(self, endpoint: str, outcome: int | str) -> None:
        self.calls.append((endpoint, outcome))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_gateway(
    anthropic_standin: AnthropicStandIn,  # noqa: F811
    recorder: Recorder,
) -> Iterator[Callable[..., AdminGateway]]:
    made: list[AdminGateway] = []

    def make(**overrides: Any) -> AdminGateway:
        options: dict[str, Any] = {
            "api_key": SecretStr(anthropic_standin.admin_key),
            "base_url": anthropic_standin.base_url,
            "timeout": 5.0,
            "sleep": recorder.sleep,
            "on_call": recorder.on_call,
            "strict_validation": True,
        }
        options.update(overrides)
        gateway = AdminGateway(**options)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make_gateway: Callable[..., AdminGateway]) -> AdminGateway:
    return make_gateway()


@pytest.fixture
def standin(anthropic_standin: AnthropicStandIn) -> AnthropicStandIn:  # noqa: F811
    return anthropic_standin


def seeded_id(standin: AnthropicStandIn, name: str) -> str:
    return str(standin.seeded[name]["id"])


# ----------------------------------------------------------------------------------- construction


def test_repr_and_errors_never_show_the_key(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway]
) -> None:
    gateway = make_gateway()
    assert standin.admin_key not in repr(gateway)
    assert standin.admin_key not in str(gateway)

    wrong = "sk-ant-admin01-revoked-key-0000"
    bad = make_gateway(api_key=SecretStr(wrong))
    with pytest.raises(AdminKeyInvalid) as caught:
        bad.get_organization()
    error = caught.value
    assert error.user_message == (
        "The bot's Admin API key is invalid or revoked — an operator must replace ANTHROPIC_ADMIN_KEY."
    )
    assert error.status == 401
    assert error.request_id is not None and error.request_id.startswith("req_standin_")
    for text in (error.user_message, str(error), repr(error), repr(bad)):
        assert wrong not in text


def test_only_the_admin_key_reaches_the_wire(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-inference-key-must-not-be-used")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "oauth-token-must-not-be-used")
    gateway = make_gateway()

    assert gateway.get_organization() == Organization(id=standin.org_id, name="Stand-in Org")

    (request,) = standin.requests
    assert request.headers["authorization"] == f"Bearer {standin.admin_key}"
    assert "x-api-key" not in request.headers
    assert "must-not-be-used" not in repr(request.headers)


def test_base_url_env_var_is_not_read_by_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings is the only reader of the environment; the gateway gets base_url passed or the default.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    gateway = AdminGateway(api_key=SecretStr("sk-ant-admin01-x"))
    try:
        assert str(gateway._client.base_url).startswith("https://api.anthropic.com")
    finally:
        gateway.close()


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

    (only,) = gateway.list_workspaces()
    assert isinstance(only, Workspace) and (only.id, only.name, only.archived_at) == (ws_id, "default-ws", None)
    everything = gateway.list_workspaces(include_archived=True)
    assert [w.name for w in everything] == ["default-ws", "old-ws"]
    assert everything[1].archived_at is not None

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


# ------------------------------------------------------------------------------------------ api keys


def test_api_keys(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    ws_id, dev_id = seeded_id(standin, "workspace"), seeded_id(standin, "developer")
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    mine = standin.add_api_key(
        name="dev-key",
        workspace_id=ws_id,
        created_by_user_id=dev_id,
        expires_at=expires,
        partial_key_hint="sk-ant-api03-ab...CD",
    )
    org_key = standin.add_api_key(name="org-key", workspace_id=None, status="inactive")

    key = gateway.get_api_key(mine["id"])
    assert key == ApiKey(
        id=mine["id"],
        name="dev-key",
        status="active",
        workspace_id=ws_id,
        created_at=key.created_at,
        expires_at=expires,
        created_by_user_id=dev_id,
        partial_key_hint="sk-ant-api03-ab...CD",
    )
    other = gateway.get_api_key(org_key["id"])
    assert (other.workspace_id, other.created_by_user_id, other.status) == (None, None, "inactive")

    assert [k.id for k in gateway.list_api_keys(created_by_user_id=dev_id)] == [mine["id"]]
    assert [k.id for k in gateway.list_api_keys(status="inactive")] == [org_key["id"]]
    assert [k.id for k in gateway.list_api_keys(workspace_id=ws_id)] == [mine["id"]]
    assert len(gateway.list_api_keys()) == 2

    renamed = gateway.update_api_key(mine["id"], name="dev-key-2", status="inactive")
    assert (renamed.name, renamed.status) == ("dev-key-2", "inactive")
    (post,) = standin.matching("POST", f"{ORG}/api_keys/{mine['id']}")
    assert post.body == {"name": "dev-key-2", "status": "inactive"}
    assert gateway.update_api_key(mine["id"], status="archived").status == "archived"
    with pytest.raises(ValueError):
        gateway.update_api_key(mine["id"])

    standin.org_api_key_limit = 0
    with pytest.raises(KeyLimitReached) as limit:
        gateway.update_api_key(org_key["id"], status="active")
    assert limit.value.error_code == "org_api_key_limit_exceeded"
    assert "archive unused keys" in limit.value.user_message


def test_2500_keys_take_exactly_three_pages_of_1000(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.seed_scale(n_users=10, n_workspaces=2, n_keys=2500)
    standin.reset_requests()

    keys = gateway.list_api_keys()

    assert len(keys) == 2500 and len({k.id for k in keys}) == 2500
    pages = standin.matching("GET", f"{ORG}/api_keys")
    assert len(pages) == 3 == standin.count("GET", f"{ORG}/api_keys")
    assert [p.query["limit"] for p in pages] == [["1000"]] * 3
    assert "after_id" not in pages[0].query and pages[1].query["after_id"] == [keys[999].id]
    assert recorder.calls == [("api_keys.list", 200)] * 3

    standin.reset_requests()
    first_five = list(itertools.islice(gateway.iter_api_keys(status="active"), 5))
    assert len(first_five) == 5 and all(k.status == "active" for k in first_five)
    assert standin.count("GET", f"{ORG}/api_keys") == 1  # the iterator fetches lazily


def test_a_429_on_a_later_page_is_retried_within_the_paging(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.seed_scale(n_users=2, n_workspaces=1, n_keys=1500)
    standin.reset_requests()
    standin.inject("GET", r"/api_keys$", status=None, times=1)  # pass-through for page 1
    standin.inject("GET", r"/api_keys$", status=429, headers={"retry-after": "1"})

    assert len(gateway.list_api_keys()) == 1500
    assert recorder.sleeps == [1.0]
    assert [c[1] for c in recorder.calls] == [200, 429, 200]


# ------------------------------------------------------------------------------------ usage and cost


def test_cost_report_amounts_are_exact(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    dev_id, ws_id = seeded_id(standin, "developer"), seeded_id(standin, "workspace")
    standin.data_refreshed_at = datetime(2026, 11, 7, 6, 0, tzinfo=UTC)
    day = datetime(2026, 11, 2, tzinfo=UTC)
    standin.add_cost(
        starting_at=day,
        ending_at=day + timedelta(days=1),
        amount_cents="1234.567",
        list_amount_cents="1500.001",
        model="claude-sonnet-4-5",
        workspace_id=ws_id,
        api_key_id="apikey_A",
        actor_user_id=dev_id,
    )
    standin.add_cost(starting_at=day, ending_at=day + timedelta(days=1), amount_cents="0.001", api_key_id="apikey_B")

    report = gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, group_by=["api_key_id"])

    assert report.data_refreshed_at == datetime(2026, 11, 7, 6, 0, tzinfo=UTC)
    by_key = {row.api_key_id: row for row in report.rows}
    assert by_key["apikey_A"].amount_usd == Decimal("12.34567")
    assert by_key["apikey_A"].list_amount_usd == Decimal("15.00001")
    assert by_key["apikey_B"].amount_usd == Decimal("0.00001")
    assert by_key["apikey_A"].currency == "USD"
    assert sum((r.amount_usd for r in report.rows), Decimal(0)) == Decimal("12.34568")

    grouped = gateway.cost_report(
        starting_at=NOV_1,
        ending_at=NOV_8,
        group_by=["actor", "model", "workspace_id", "token_type"],
        bucket_width="1d",
        api_key_ids=["apikey_A"],
    )
    (row,) = grouped.rows
    assert (row.actor_user_id, row.model, row.workspace_id, row.cost_type) == (
        dev_id,
        "claude-sonnet-4-5",
        ws_id,
        None,
    )
    assert (row.starting_at, row.ending_at) == (day, day + timedelta(days=1))
    request = standin.matching("GET", f"{ORG}/analytics/cost")[-1]
    assert request.query["group_by[]"] == ["actor", "model", "workspace_id", "token_type"]
    assert request.query["time_bucket_width"] == ["1d"] and request.query["limit"] == ["1000"]
    assert request.query["starting_at"] == ["2026-11-01T00:00:00+00:00"]


def test_cost_report_reads_every_page(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    day = datetime(2026, 11, 3, tzinfo=UTC)
    for i in range(1500):
        standin.add_cost(
            starting_at=day, ending_at=day + timedelta(hours=1), amount_cents="0.333", api_key_id=f"apikey_{i:04d}"
        )
    standin.reset_requests()

    report = gateway.cost_report(starting_at=NOV_1, ending_at=NOV_8, group_by=["api_key_id"])

    assert len(report.rows) == 1500
    assert sum((r.amount_usd for r in report.rows), Decimal(0)) == Decimal("4.995")
    assert standin.count("GET", f"{ORG}/analytics/cost") == 2


def test_usage_report(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    dev_id = seeded_id(standin, "developer")
    day = datetime(2026, 11, 4, tzinfo=UTC)
    standin.add_usage(
        starting_at=day,
        ending_at=day + timedelta(hours=1),
        input_tokens=100,
        output_tokens=50,
        cache_read=10,
        cache_creation_5m=3,
        cache_creation_1h=2,
        requests=4,
        model="claude-opus-4-1",
        api_key_id="apikey_A",
        actor_user_id=dev_id,
        workspace_id="wrkspc_X",
    )

    report = gateway.usage_report(
        starting_at=NOV_1, ending_at=NOV_8, group_by=["actor", "api_key_id", "model", "workspace_id"]
    )

    (row,) = report.rows
    assert (row.uncached_input_tokens, row.output_tokens, row.cache_read_input_tokens) == (100, 50, 10)
    assert (row.cache_creation_tokens, row.total_tokens, row.requests) == (5, 165, 4)
    assert (row.model, row.api_key_id, row.actor_user_id, row.workspace_id) == (
        "claude-opus-4-1",
        "apikey_A",
        dev_id,
        "wrkspc_X",
    )
    assert report.data_refreshed_at is not None

    (total,) = gateway.usage_report(starting_at=NOV_1, ending_at=NOV_8).rows
    assert total.total_tokens == 165 and total.model is None


def test_naive_datetimes_are_refused(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    before = standin.count()
    with pytest.raises(ValueError, match="timezone-aware"):
        gateway.cost_report(starting_at=datetime(2026, 11, 1), ending_at=NOV_8)
    with pytest.raises(ValueError, match="timezone-aware"):
        gateway.usage_report(starting_at=NOV_1, ending_at=datetime(2026, 11, 8))
    with pytest.raises(ValueError):
        gateway.usage_report(starting_at=NOV_8, ending_at=NOV_1)
    assert standin.count() == before


def test_analytics_that_are_not_switched_on_read_as_feature_unavailable(
    standin: AnthropicStandIn, gateway: AdminGateway
) -> None:
    standin.inject("GET", r"/analytics/usage$", status=404)
    with pytest.raises(FeatureUnavailable):
        gateway.usage_report(starting_at=NOV_1, ending_at=NOV_8)


# ------------------------------------------------------------------------------------- spend limits


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
    assert ana_request.current_limit_usd == Decimal("500")
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
    user = standin.add_user("cy@example.com", role="user")
    request = standin.add_increase_request(user["id"])
    recorder = Recorder(really_sleep=True)
    gateway = make_gateway(timeout=0.3, sleep=recorder.sleep, on_call=recorder.on_call)
    standin.inject("POST", r"/approve$", status=None, delay=0.6)

    approved = gateway.approve_increase_request(request["id"], amount_usd=Decimal("20"))

    assert approved.status == "approved"
    assert [c[1] for c in recorder.calls] == ["timeout", 400, 200]


# ------------------------------------------------------------------------------ retries and failures


def test_429_waits_exactly_what_retry_after_says(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/me$", status=429, headers={"retry-after": "2"})
    assert gateway.get_organization().name == "Stand-in Org"
    assert recorder.sleeps == [2.0]
    assert recorder.calls == [("organization.retrieve", 429), ("organization.retrieve", 200)]


def test_retry_after_ms_and_http_date(standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder) -> None:
    standin.inject("GET", r"/me$", status=429, headers={"retry-after-ms": "1500", "retry-after": "7"})
    gateway.get_organization()
    in_four_seconds = email.utils.formatdate(time.time() + 4, usegmt=True)
    standin.inject("GET", r"/me$", status=503, headers={"retry-after": in_four_seconds})
    gateway.get_organization()
    assert recorder.sleeps[0] == 1.5
    assert 2.0 <= recorder.sleeps[1] <= 4.0


def test_a_long_retry_after_is_not_slept_on(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/users$", status=429, headers={"retry-after": "3600"}, times=5)
    with pytest.raises(RateLimited) as caught:
        gateway.list_users()
    assert recorder.sleeps == []
    assert standin.count("GET", f"{ORG}/users") == 1
    error = caught.value
    assert error.retry_after == 3600 and error.retryable and error.status == 429
    assert error.user_message == "Anthropic's Admin API is rate-limiting the bot; try again in about 60 minutes."


def test_rate_limit_that_outlasts_the_retries(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/me$", status=429, times=3)
    with pytest.raises(RateLimited) as caught:
        gateway.get_organization()
    assert recorder.sleeps == [0.5, 1.0]  # exponential backoff without a retry-after
    assert standin.count("GET", f"{ORG}/me") == 3
    assert "try again in about a minute" in caught.value.user_message


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors_are_retried_then_reported(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder, status: int
) -> None:
    standin.inject("GET", r"/workspaces$", status=status, times=3)
    with pytest.raises(Unavailable) as caught:
        gateway.list_workspaces()
    assert standin.count("GET", f"{ORG}/workspaces") == 3
    assert recorder.sleeps == [0.5, 1.0]
    assert recorder.calls == [("workspaces.list", status)] * 3
    error = caught.value
    assert error.user_message == (
        "The Anthropic Admin API is having trouble right now; please try again in a few minutes."
    )
    assert error.status == status and error.retryable and error.request_id is not None


def test_a_server_error_then_success(standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder) -> None:
    standin.inject("GET", r"/workspaces$", status=529, times=2)
    assert [w.name for w in gateway.list_workspaces()] == ["default-ws"]
    assert recorder.sleeps == [0.5, 1.0]


def test_backoff_is_capped_by_max_retry_wait(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway], recorder: Recorder
) -> None:
    gateway = make_gateway(max_retries=5, max_retry_wait=1.0)
    standin.inject("GET", r"/me$", status=500, times=5)
    gateway.get_organization()
    assert recorder.sleeps == [0.5, 1.0, 1.0, 1.0, 1.0]


def test_x_should_retry_false_is_respected(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/me$", status=503, headers={"x-should-retry": "false"})
    with pytest.raises(Unavailable):
        gateway.get_organization()
    assert recorder.sleeps == [] and standin.count() == 1


def test_a_409_is_retried_then_reported_as_conflict(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    dev_id = seeded_id(standin, "developer")
    standin.inject("POST", r"/users/", status=409, error_code="concurrent_membership_change", times=3)
    with pytest.raises(Conflict) as caught:
        gateway.update_user_role(dev_id, "user")
    assert recorder.sleeps == [0.5, 1.0] and caught.value.retryable
    assert caught.value.error_code == "concurrent_membership_change"


def test_connection_reset_is_retried(standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder) -> None:
    standin.inject("GET", r"/users/", reset_connection=True)
    assert gateway.get_user(seeded_id(standin, "developer")).email == "dev@example.com"
    assert recorder.calls == [("users.retrieve", "connection_error"), ("users.retrieve", 200)]
    assert recorder.sleeps == [0.5]


def test_connection_resets_that_never_stop(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/me$", reset_connection=True, times=3)
    with pytest.raises(Unavailable) as caught:
        gateway.get_organization()
    assert caught.value.user_message == (
        "The bot couldn't reach the Anthropic Admin API; please try again in a few minutes."
    )
    assert standin.count() == 3


def test_timeouts_are_bounded(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway], recorder: Recorder
) -> None:
    gateway = make_gateway(timeout=0.2, max_retries=1)
    standin.inject("GET", r"/me$", status=None, delay=0.6, times=2)
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        gateway.get_organization()
    assert time.monotonic() - started < 2.0
    assert "didn't answer in time" in caught.value.user_message
    assert recorder.calls == [("organization.retrieve", "timeout")] * 2


def test_malformed_json_is_unavailable_and_not_retried(
    standin: AnthropicStandIn, gateway: AdminGateway, recorder: Recorder
) -> None:
    standin.inject("GET", r"/me$", status=200, malformed_json=True)
    with pytest.raises(Unavailable) as caught:
        gateway.get_organization()
    assert "couldn't read" in caught.value.user_message
    assert recorder.calls == [("organization.retrieve", "malformed_response")]
    assert standin.count() == 1


def test_an_html_page_instead_of_json_is_unavailable(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    standin.inject("GET", r"/me$", status=200, malformed_json=True, content_type="text/html")
    with pytest.raises(Unavailable):
        gateway.get_organization()


def test_on_call_hook_failures_do_not_break_calls(
    standin: AnthropicStandIn, make_gateway: Callable[..., AdminGateway]
) -> None:
    def broken(endpoint: str, outcome: int | str) -> None:
        raise RuntimeError("metrics backend down")

    assert make_gateway(on_call=broken).get_organization().id == standin.org_id


# ------------------------------------------------------------------------- every mapped error code

MAPPED = [
    (400, "already_member", AlreadyMember, "already a member"),
    (400, "invite_already_exists", InviteAlreadyPending, "already pending"),
    (400, "email_domain_not_allowed", EmailDomainNotAllowed, "email domain"),
    (400, "cannot_invite_emails_with_unverified_domains", EmailDomainNotAllowed, "verified"),
    (400, "org_member_limit_exceeded", SeatLimitReached, "no free seats"),
    (400, "org_api_key_limit_exceeded", KeyLimitReached, "organization has reached its API key limit"),
    (400, "workspace_api_key_limit_exceeded", KeyLimitReached, "workspace has reached its API key limit"),
    (400, "workspace_member_limit_exceeded", WorkspaceFull, "workspace is full"),
    (400, "cannot_remove_last_member", BadRequest, "only member"),
    (400, "organization_type_not_supported", FeatureUnavailable, "type of Anthropic organization"),
    (400, "organization_not_enrolled_in_beta", FeatureUnavailable, "beta feature"),
    (403, "spend_limits_admin_api_writes_not_enabled", FeatureUnavailable, "early access"),
    (403, "api_key_scope_missing", PermissionDenied, "scope"),
    (403, "organization_level_scoped_api_key_required", PermissionDenied, "ANTHROPIC_ADMIN_KEY"),
    (409, "concurrent_membership_change", Conflict, "same moment"),
    (400, None, BadRequest, "Anthropic rejected the request: Injected fault (400)."),
    (422, None, BadRequest, "Anthropic rejected the request: Injected fault (422)."),
    (401, None, AdminKeyInvalid, "ANTHROPIC_ADMIN_KEY"),
    (402, None, PaymentRequired, "billing"),
    (403, None, PermissionDenied, "isn't allowed to do that"),
    (404, None, NotFound, "not found"),
    (409, None, Conflict, "same moment"),
    (429, None, RateLimited, "rate-limiting"),
    (408, None, Unavailable, "having trouble"),
    (500, None, Unavailable, "having trouble"),
    (529, None, Unavailable, "having trouble"),
]


@pytest.mark.parametrize(("status", "error_code", "expected", "sentence"), MAPPED)
def test_every_mapped_error_becomes_its_domain_error(
    standin: AnthropicStandIn,
    make_gateway: Callable[..., AdminGateway],
    status: int,
    error_code: str | None,
    expected: type[AdminAPIError],
    sentence: str,
) -> None:
    gateway = make_gateway(max_retries=0)
    standin.inject("POST", r"/invites$", status=status, error_code=error_code)
    with pytest.raises(AdminAPIError) as caught:
        gateway.create_invite("someone@example.com")
    error = caught.value
    assert type(error) is expected
    assert sentence in error.user_message
    assert error.user_message.endswith(".") and "\n" not in error.user_message
    assert (error.status, error.error_code) == (status, error_code)
    assert error.request_id is not None
    assert standin.admin_key not in error.user_message


def test_every_error_code_in_the_table_is_covered() -> None:
    assert {code for _, code, _, _ in MAPPED if code} == set(_BY_ERROR_CODE)


def test_unknown_ids_are_not_found(standin: AnthropicStandIn, gateway: AdminGateway) -> None:
    for call in (
        lambda: gateway.get_api_key("apikey_missing"),
        lambda: gateway.get_user("user_missing"),
        lambda: gateway.deny_increase_request("silr_missing"),
    ):
        with pytest.raises(NotFound):
            call()
