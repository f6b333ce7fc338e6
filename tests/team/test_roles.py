"""Org role changes (the service under `/claude-key role`), SQLite and PostgreSQL, Console and Enterprise orgs:
a confirm that writes nothing, one users.update with an audit row and a DM, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.errors import BotError, UserError
from bot.deps import Deps
from bot.team.roles import change, propose
from storage.db import session_scope
from storage.models import AdminWrite, AuditEvent
from tests.conftest import DepsFactory


@pytest.fixture
def rdeps(make_deps: DepsFactory) -> Deps:
    return make_deps()


def _writes(admin: Any) -> int:
    return len([r for r in admin.requests if r.method in ("POST", "DELETE")])


def test_a_confirmed_change_is_one_update_with_an_audit_row_and_a_dm(
    rdeps: Deps, anthropic_standin, slack_standin
) -> None:
    anthropic_standin.reset_requests()
    proposed = propose(rdeps, slack_user_id="U0ADMIN", email="dev@example.com", role="billing")
    assert (proposed.old, proposed.new) == ("developer", "billing") and _writes(anthropic_standin) == 0
    done = change(rdeps, slack_user_id="U0ADMIN", proposed=proposed)
    assert done.new == "billing" and rdeps.admin.find_user_by_email("dev@example.com").role == "billing"  # type: ignore[union-attr]
    assert _writes(anthropic_standin) == 1
    with session_scope(rdeps.engine) as session:
        (audit,) = session.exec(select(AuditEvent).where(col(AuditEvent.action) == "user.role_changed"))
        (write,) = session.exec(select(AdminWrite))
    assert audit.actor_slack_id == "U0ADMIN" and write.state == "done"
    assert "from `developer` to `billing`" in (slack_standin.dms_to("U0DEV")[-1].text or "")


@pytest.mark.parametrize(
    ("who", "email", "role", "refusal"),
    [
        ("U0ADMIN", "dev@example.com", "admin", "can't make anyone an admin"),
        ("U0ADMIN", "admin@example.com", "developer", "your own org role"),
        ("U0ADMIN", "nobody@example.com", "developer", "not a member"),
        ("U0ADMIN", "dev@example.com", "developer", "already `developer`"),
        ("U0ADMIN", "dev@example.com", "owner", "can't make anyone an admin"),
        ("U0DEV", "admin@example.com", "user", "Only admins"),
    ],
)
def test_refusals_write_nothing(rdeps: Deps, anthropic_standin, who: str, email: str, role: str, refusal: str) -> None:
    anthropic_standin.reset_requests()
    with pytest.raises(UserError, match=refusal):
        propose(rdeps, slack_user_id=who, email=email, role=role)
    assert _writes(anthropic_standin) == 0


def test_the_last_admin_is_not_demoted(rdeps: Deps, anthropic_standin, slack_standin) -> None:
    other = anthropic_standin.add_user("second@example.com", role="admin")
    slack_standin.add_user("U0SECOND", name="second", email="second@example.com")
    proposed = propose(rdeps, slack_user_id="U0SECOND", email="admin@example.com", role="developer")
    anthropic_standin.remove_user(other["id"]) if hasattr(
        anthropic_standin, "remove_user"
    ) else rdeps.admin.remove_user(other["id"])
    with pytest.raises(UserError):
        change(rdeps, slack_user_id="U0SECOND", proposed=proposed)


def test_an_enterprise_org_refuses_roles_it_lacks(rdeps: Deps, anthropic_standin) -> None:
    anthropic_standin.org_type = "enterprise"
    with pytest.raises(BotError, match="no `developer` role"):
        propose(rdeps, slack_user_id="U0ADMIN", email="dev@example.com", role="developer")
