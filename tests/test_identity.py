"""Slack user → org user → bot role, cached and refreshed, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.anthropic_admin import AdminAPIError
from bot.deps import Deps
from bot.identity import LINK_MAX_AGE, BotRole, IdentityError, bot_role, resolve_actor
from tests.conftest import DepsFactory

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def id_deps(make_deps: DepsFactory) -> Deps:
    return make_deps(admin_slack_user_ids=["U0BOSS"], clock=lambda: T0)


@pytest.mark.parametrize(
    ("org_role", "expected"),
    [
        ("admin", BotRole.ADMIN),
        ("developer", BotRole.DEVELOPER),
        ("user", BotRole.VIEWER),
        ("billing", BotRole.VIEWER),
        ("claude_code_user", BotRole.VIEWER),
        (None, BotRole.NON_MEMBER),
    ],
)
def test_bot_role_from_org_role(org_role: str | None, expected: BotRole) -> None:
    assert bot_role(org_role, slack_user_id="U1", extra_admins=[]) is expected


def test_extra_admins_are_admins_even_without_org_membership() -> None:
    assert bot_role(None, slack_user_id="U0BOSS", extra_admins=["U0BOSS"]) is BotRole.ADMIN


def test_resolves_by_email_and_caches(id_deps: Deps, slack_standin, anthropic_standin) -> None:
    actor = resolve_actor(id_deps, "U0DEV")
    assert actor.role is BotRole.DEVELOPER and actor.email == "dev@example.com"
    assert actor.anthropic_user_id is not None
    calls = anthropic_standin.count("GET", "/v1/organizations/users")
    again = resolve_actor(id_deps, "U0DEV")
    assert again == actor
    assert anthropic_standin.count("GET", "/v1/organizations/users") == calls  # served from the cache


def test_stale_link_is_refreshed_and_sees_a_role_change(
    id_deps: Deps,
    anthropic_standin,
) -> None:
    first = resolve_actor(id_deps, "U0DEV")
    assert first.anthropic_user_id is not None
    id_deps.admin.update_user_role(first.anthropic_user_id, "user")
    id_deps.clock = lambda: T0 + LINK_MAX_AGE + timedelta(seconds=1)
    assert resolve_actor(id_deps, "U0DEV").role is BotRole.VIEWER


def test_unknown_email_is_a_non_member(id_deps: Deps, slack_standin) -> None:
    slack_standin.add_user("U0NEW", name="newbie", email="newbie@example.com")
    actor = resolve_actor(id_deps, "U0NEW")
    assert actor.role is BotRole.NON_MEMBER and actor.anthropic_user_id is None


def test_no_visible_email_is_explained(id_deps: Deps, slack_standin) -> None:
    slack_standin.add_user("U0HIDDEN", name="hidden")
    with pytest.raises(IdentityError, match="no visible email"):
        resolve_actor(id_deps, "U0HIDDEN")


def test_missing_email_scope_is_explained(id_deps: Deps, slack_standin) -> None:
    slack_standin.scopes.discard("users:read.email")
    with pytest.raises(IdentityError, match=r"users:read\.email"):
        resolve_actor(id_deps, "U0DEV")


def test_api_outage_uses_the_stale_link_but_never_guesses(
    id_deps: Deps,
    anthropic_standin,
) -> None:
    resolve_actor(id_deps, "U0DEV")
    anthropic_standin.inject("GET", r"/v1/organizations/users", status=500, times=10)
    id_deps.clock = lambda: T0 + LINK_MAX_AGE * 2
    assert resolve_actor(id_deps, "U0DEV").role is BotRole.DEVELOPER
    with pytest.raises(AdminAPIError):
        resolve_actor(id_deps, "U0ADMIN")  # never seen: no link to fall back on
