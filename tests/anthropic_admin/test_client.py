"""AdminGateway against the Admin API stand-in over real HTTP, driven by the real `anthropic` client.

Nothing in the SDK is mocked. The gateway runs with strict response validation and an injected `sleep`
that records the waits it would have slept.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from bot.anthropic_admin import (
    AdminAPIError,
    AdminGateway,
    AdminKeyInvalid,
    AlreadyMember,
    BadRequest,
    Conflict,
    EmailDomainNotAllowed,
    FeatureUnavailable,
    InviteAlreadyPending,
    KeyLimitReached,
    NotFound,
    Organization,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    SeatLimitReached,
    Unavailable,
    WorkspaceFull,
)
from bot.anthropic_admin.errors import _BY_ERROR_CODE
from bot.sandbox.anthropic import AnthropicStandIn
from tests.anthropic_admin.support import ORG, Recorder, seeded_id

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
    assert [w.name for w in gateway.list_workspaces()] == ["Default", "default-ws"]
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
    standin.org_type = "enterprise"  # increase requests exist only there
    for call in (
        lambda: gateway.get_api_key("apikey_missing"),
        lambda: gateway.get_user("user_missing"),
        lambda: gateway.deny_increase_request("silr_missing"),
    ):
        with pytest.raises(NotFound):
            call()
