"""Time-bound grants end by undoing exactly what they changed, no more: request-nudges over a simulated week
(injected clock) against the Admin API stand-in, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.access import decide, intake
from bot.access.expiry import changes_of
from bot.deps import Deps
from bot.registry import run_job
from storage.db import session_scope
from storage.models import AccessRequest, RequestState
from tests.conftest import Clock, DepsFactory

S = RequestState
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def clocked(make_deps: DepsFactory) -> tuple[Deps, Clock]:
    clock = Clock(T0)
    return make_deps(clock=clock), clock


def _request(deps: Deps, request_id: int) -> AccessRequest:
    with session_scope(deps.engine) as session:
        request = session.get(AccessRequest, request_id)
        assert request is not None
        return request


def _run(deps: Deps, *, dry_run: bool = False) -> tuple[int, list[str]]:
    printed: list[str] = []
    result = run_job("request-nudges", deps, dry_run=dry_run, out=printed.append)
    assert result is not None and not result.errors, result
    return result.sent, printed


def _grant(deps: Deps, slack_user_id: str, args: list[str]) -> AccessRequest:
    request_id = intake.request_from_args(deps, slack_user_id=slack_user_id, args=args).request.id or 0
    decide.approve(deps, request_id=request_id, slack_user_id="U0ADMIN")
    request = _request(deps, request_id)
    assert request.state == S.GRANTED
    return request


def _thread(deps: Deps, slack: Any, request_id: int) -> list[str]:
    root = _request(deps, request_id).admin_message_ts
    return [m.text for m in slack.messages("C0ADMIN") if m.thread_ts == root]


def _viewer(slack: Any, admin: Any) -> dict[str, Any]:
    """An org member whose org role (`user`) can't create keys: a grant raises it to developer."""
    slack.add_user("U0VIEW", name="viewer", email="viewer@example.com")
    return admin.add_user("viewer@example.com", role="user")


def _writes(admin: Any) -> int:
    return len([r for r in admin.requests if r.method in ("POST", "DELETE")])


def test_expiry_deactivates_keys_made_under_the_grant_and_restores_the_org_role(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    workspace = anthropic_standin.seeded["workspace"]["id"]
    old = anthropic_standin.add_api_key(
        name="viewer-old", workspace_id=workspace, created_by_user_id=viewer["id"], created_at=T0 - timedelta(days=30)
    )
    request = _grant(deps, "U0VIEW", ["default-ws", "for", "2d", "batch", "test"])
    changes = changes_of(request)
    assert changes is not None and changes.org_role_from == "user" and changes.workspace_added
    assert request.grant_expires_at == T0 + timedelta(days=2)
    assert deps.admin.get_user(viewer["id"]).role == "developer"
    new = anthropic_standin.add_api_key(
        name="viewer-batch",
        workspace_id=workspace,
        created_by_user_id=viewer["id"],
        created_at=T0 + timedelta(hours=1),
        partial_key_hint="7q7q",
    )

    clock.now = T0 + timedelta(days=1, hours=1)
    sent, printed = _run(deps, dry_run=True)
    assert sent == 1 and len(printed) == 1
    assert printed[0].startswith("would warn about request #1 ending: These keys will be deactivated: `viewer-batch`")
    assert not [m for m in slack_standin.dms_to("U0VIEW") if "ends" in m.text]  # the dry run sent nothing
    assert _run(deps)[0] == 1
    assert _run(deps)[0] == 0  # warned once
    warning = [m.text for m in slack_standin.dms_to("U0VIEW") if "ends" in m.text]
    assert len(warning) == 1
    assert "These keys will be deactivated: `viewer-batch` …7q7q." in warning[0]
    assert "viewer-old" not in warning[0]
    assert "You will be removed from *default-ws*" in warning[0]
    assert "Your org role goes back to user." in warning[0]

    clock.now = T0 + timedelta(days=2, minutes=1)
    writes = _writes(anthropic_standin)
    sent, printed = _run(deps, dry_run=True)
    assert sent == 0 and len(printed) == 1
    assert printed[0].startswith("would end request #1: These keys will be deactivated: `viewer-batch` …7q7q.")
    assert "Your org role goes back to user." in printed[0]
    assert _writes(anthropic_standin) == writes  # a dry run writes nothing
    assert _request(deps, 1).state == S.GRANTED

    assert _run(deps)[0] == 1
    assert _run(deps)[0] == 0
    assert _request(deps, 1).state == S.REVOKED
    assert deps.admin.get_api_key(new["id"]).status == "inactive"
    assert deps.admin.get_api_key(old["id"]).status == "active"  # made before the grant: left alone
    assert deps.admin.get_user(viewer["id"]).role == "user"
    assert deps.admin.get_workspace_member(workspace, viewer["id"]) is None
    ended = [t for t in _thread(deps, slack_standin, 1) if "Time-bound access ended" in t]
    assert ended == [
        "Time-bound access ended. Deactivated: `viewer-batch` …7q7q. Removed from *default-ws*. "
        "Org role restored to user."
    ]
    dm = [m.text for m in slack_standin.dms_to("U0VIEW") if "has ended" in m.text]
    assert len(dm) == 1 and "`viewer-batch` …7q7q" in dm[0] and "Org role restored to user." in dm[0]


def test_workspace_admin_before_the_request_keeps_everything_and_gets_no_expiry(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    workspace = anthropic_standin.seeded["workspace"]["id"]
    developer = anthropic_standin.seeded["developer"]["id"]
    anthropic_standin.add_member(workspace, developer, "workspace_admin")
    request = _grant(deps, "U0DEV", ["default-ws", "for", "1d", "quick", "look"])
    assert request.grant_expires_at is None
    changes = changes_of(request)
    assert changes is not None and not changes.changed
    assert any("nothing will be taken away" in t for t in _thread(deps, slack_standin, 1))
    assert any("already had access" in m.text for m in slack_standin.dms_to("U0DEV"))

    clock.now = T0 + timedelta(days=3)
    assert _run(deps)[0] == 0
    assert _request(deps, 1).state == S.GRANTED
    member = deps.admin.get_workspace_member(workspace, developer)
    assert member is not None and member.workspace_role == "workspace_admin"
    assert not [r for r in anthropic_standin.requests if r.method == "DELETE"]


def test_workspace_user_raised_to_developer_goes_back_to_workspace_user(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    workspace = anthropic_standin.seeded["workspace"]["id"]
    developer = anthropic_standin.seeded["developer"]["id"]
    anthropic_standin.add_member(workspace, developer, "workspace_user")
    request = _grant(deps, "U0DEV", ["default-ws", "for", "1d", "quick", "look"])
    changes = changes_of(request)
    assert changes is not None and changes.workspace_role_from == "workspace_user" and not changes.workspace_added
    assert request.grant_expires_at == T0 + timedelta(days=1)
    member = deps.admin.get_workspace_member(workspace, developer)
    assert member is not None and member.workspace_role == "workspace_developer"

    clock.now = T0 + timedelta(hours=2)
    sent, _ = _run(deps)
    assert sent == 1
    warning = [m.text for m in slack_standin.dms_to("U0DEV") if "ends" in m.text]
    assert len(warning) == 1 and "Your role in *default-ws* goes back to user." in warning[0]
    assert "removed" not in warning[0]

    clock.now = T0 + timedelta(days=1, minutes=1)
    assert _run(deps)[0] == 1
    member = deps.admin.get_workspace_member(workspace, developer)
    assert member is not None and member.workspace_role == "workspace_user"
    assert deps.admin.get_user(developer).role == "developer"  # the org role was never touched
    ended = [t for t in _thread(deps, slack_standin, 1) if "Time-bound access ended" in t]
    assert ended == ["Time-bound access ended. Role in *default-ws* restored to user."]


def test_overlapping_grants_restore_the_org_role_only_when_the_last_ends(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    other = anthropic_standin.add_workspace("other-ws")["id"]
    first = _grant(deps, "U0VIEW", ["default-ws", "for", "2d", "first"])
    second = _grant(deps, "U0VIEW", ["other-ws", "for", "5d", "second"])
    second_changes = changes_of(second)
    assert second_changes is not None and second_changes.org_role_from is None  # it saw developer already
    assert second_changes.workspace_added

    clock.now = T0 + timedelta(days=2, minutes=1)
    assert _run(deps)[0] == 1
    assert _request(deps, first.id or 0).state == S.REVOKED
    assert deps.admin.get_user(viewer["id"]).role == "developer"  # the second grant still needs it
    assert deps.admin.get_workspace_member(other, viewer["id"]) is not None
    ended = [t for t in _thread(deps, slack_standin, first.id or 0) if "Time-bound access ended" in t]
    assert ended == [
        "Time-bound access ended. Removed from *default-ws*. Org role kept at developer: request #2 needs it."
    ]
    taken_over = changes_of(_request(deps, second.id or 0))
    assert taken_over is not None and taken_over.org_role_from == "user"

    clock.now = T0 + timedelta(days=5, minutes=1)
    assert _run(deps)[0] == 1
    assert _request(deps, second.id or 0).state == S.REVOKED
    assert deps.admin.get_user(viewer["id"]).role == "user"
    assert deps.admin.get_workspace_member(other, viewer["id"]) is None


def test_a_grant_that_changed_nothing_takes_over_the_org_role_it_relied_on(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    other = anthropic_standin.add_workspace("other-ws")["id"]
    first = _grant(deps, "U0VIEW", ["default-ws", "for", "2d", "first"])
    anthropic_standin.add_member(other, viewer["id"], "workspace_developer")
    second = _grant(deps, "U0VIEW", ["other-ws", "for", "4d", "second"])
    assert second.grant_expires_at is None  # nothing changed by it: no expiry of its own

    clock.now = T0 + timedelta(days=2, minutes=1)
    assert _run(deps)[0] == 1
    assert deps.admin.get_user(viewer["id"]).role == "developer"
    heir = _request(deps, second.id or 0)
    assert heir.grant_expires_at == T0 + timedelta(days=4)  # it now ends when it was asked to, and restores
    assert first.id != heir.id

    clock.now = T0 + timedelta(days=4, minutes=1)
    assert _run(deps)[0] == 1
    assert deps.admin.get_user(viewer["id"]).role == "user"
    member = deps.admin.get_workspace_member(other, viewer["id"])
    assert member is not None and member.workspace_role == "workspace_developer"  # it was there before


def test_an_org_role_changed_by_an_admin_meanwhile_is_left_and_said(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    _grant(deps, "U0VIEW", ["default-ws", "for", "1d", "test"])
    deps.admin.update_user_role(viewer["id"], "billing")
    clock.now = T0 + timedelta(days=1, minutes=1)
    assert _run(deps)[0] == 1
    assert deps.admin.get_user(viewer["id"]).role == "billing"
    ended = [t for t in _thread(deps, slack_standin, 1) if "Time-bound access ended" in t]
    assert ended == [
        "Time-bound access ended. Removed from *default-ws*. Org role left at billing: it was changed after the grant."
    ]


def test_a_failure_half_way_leaves_the_grant_and_the_rerun_finishes_it(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    workspace = anthropic_standin.seeded["workspace"]["id"]
    _grant(deps, "U0VIEW", ["default-ws", "for", "1d", "test"])
    key = anthropic_standin.add_api_key(
        name="viewer-k", workspace_id=workspace, created_by_user_id=viewer["id"], created_at=T0 + timedelta(hours=1)
    )
    clock.now = T0 + timedelta(days=1, minutes=1)
    anthropic_standin.inject("DELETE", r"/members/", status=403, error_type="permission_error")
    result = run_job("request-nudges", deps, dry_run=False, out=lambda _: None)
    assert result is not None and len(result.errors) == 1 and "request #1" in result.errors[0]
    assert _request(deps, 1).state == S.GRANTED  # left as it was: the next run retries
    assert deps.admin.get_api_key(key["id"]).status == "inactive"  # the step before the failure stands
    assert deps.admin.get_workspace_member(workspace, viewer["id"]) is not None
    assert not [t for t in _thread(deps, slack_standin, 1) if "Time-bound access ended" in t]

    assert _run(deps)[0] == 1
    assert _request(deps, 1).state == S.REVOKED
    assert deps.admin.get_workspace_member(workspace, viewer["id"]) is None
    assert deps.admin.get_user(viewer["id"]).role == "user"
    key_writes = [r for r in anthropic_standin.requests if r.method == "POST" and r.path.endswith(key["id"])]
    assert len(key_writes) == 1  # the key was deactivated once, not again on the rerun
    ended = [t for t in _thread(deps, slack_standin, 1) if "Time-bound access ended" in t]
    assert len(ended) == 1 and "Already inactive: `viewer-k`" in ended[0] and "Org role restored to user." in ended[0]


def test_a_grant_from_before_recorded_changes_still_loses_its_membership(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    workspace = anthropic_standin.seeded["workspace"]["id"]
    developer = anthropic_standin.seeded["developer"]["id"]
    _grant(deps, "U0DEV", ["default-ws", "for", "2d", "old"])
    with session_scope(deps.engine) as session:
        row = session.get(AccessRequest, 1)
        assert row is not None
        row.grant_changes = None
        session.add(row)
    clock.now = T0 + timedelta(days=2, minutes=1)
    assert _run(deps)[0] == 1
    assert _request(deps, 1).state == S.REVOKED
    assert deps.admin.get_workspace_member(workspace, developer) is None


def test_a_grant_retried_after_a_failure_half_way_still_records_the_role_it_raised(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    workspace = anthropic_standin.seeded["workspace"]["id"]
    intake.request_from_args(deps, slack_user_id="U0VIEW", args=["default-ws", "for", "1d", "test"])
    anthropic_standin.inject("POST", r"/workspaces/[^/]+/members$", status=403, error_type="permission_error")
    decide.approve(deps, request_id=1, slack_user_id="U0ADMIN")
    assert _request(deps, 1).state == S.FAILED
    assert deps.admin.get_user(viewer["id"]).role == "developer"  # raised before the failure

    decide.retry(deps, request_id=1, slack_user_id="U0ADMIN")  # sees developer now, adds the membership
    request = _request(deps, 1)
    changes = changes_of(request)
    assert request.state == S.GRANTED and changes is not None
    assert changes.org_role_from == "user" and changes.workspace_added
    assert request.grant_expires_at == T0 + timedelta(days=1)

    clock.now = T0 + timedelta(days=1, minutes=1)
    assert _run(deps)[0] == 1
    assert deps.admin.get_user(viewer["id"]).role == "user"
    assert deps.admin.get_workspace_member(workspace, viewer["id"]) is None


def test_a_grant_from_before_recorded_changes_that_takes_over_still_loses_its_membership(
    clocked: tuple[Deps, Clock], slack_standin, anthropic_standin
) -> None:
    deps, clock = clocked
    viewer = _viewer(slack_standin, anthropic_standin)
    other = anthropic_standin.add_workspace("other-ws")["id"]
    _grant(deps, "U0VIEW", ["default-ws", "for", "1d", "first"])
    _grant(deps, "U0VIEW", ["other-ws", "for", "3d", "second"])
    with session_scope(deps.engine) as session:
        row = session.get(AccessRequest, 2)
        assert row is not None
        row.grant_changes = None
        session.add(row)
    clock.now = T0 + timedelta(days=1, minutes=1)
    assert _run(deps)[0] == 1
    heir = changes_of(_request(deps, 2))
    assert heir is not None and heir.org_role_from == "user" and heir.workspace_added
    clock.now = T0 + timedelta(days=3, minutes=1)
    assert _run(deps)[0] == 1
    assert deps.admin.get_workspace_member(other, viewer["id"]) is None
    assert deps.admin.get_user(viewer["id"]).role == "user"
