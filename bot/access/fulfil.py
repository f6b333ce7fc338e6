"""Making an approval real through the Admin API: an invite for non-members, then workspace membership (and a
role raise where the org role cannot create keys); the key the requester creates; a time-bound grant's end.

An Admin API failure leaves the request `failed` with a Retry button; each step is a transition of its own,
so a retry (or invite-sync after a crash) continues from where it stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.access import card
from bot.access.blocks import notices
from bot.access.model import (
    AddedToWorkspace,
    AlreadyMember,
    GrantStep,
    RoleRaised,
    WorkspaceRoleChanged,
)
from bot.access.state import load, move
from bot.anthropic_admin import AdminAPIError, ApiKey, InviteAlreadyPending, OrgUser
from bot.deps import Deps
from storage.models import AccessRequest, RequestKind, RequestState

logger = logging.getLogger(__name__)

S = RequestState
# Org roles that may not create keys, raised on approval to the org type's key-creating role (Console: developer;
# Enterprise: user, so nothing to raise there); other roles are left alone.
RAISE_TO_DEVELOPER = {"user", "claude_code_user"}
# Existing workspace roles that a granted request upgrades; admins and developers keep what they have.
LESSER_WORKSPACE_ROLES = {"workspace_user", "workspace_restricted_developer", "workspace_billing"}


def fulfil(deps: Deps, *, request_id: int, actor_slack_id: str | None) -> None:
    """Carry an approved request as far as it can go now; an API failure leaves it `failed` with Retry."""
    request = load(deps, request_id)
    if request.state != S.APPROVED:
        return
    try:
        if request.kind == RequestKind.INVITE:
            _send_invite(deps, request, email=request.invitee_email or "", org_role=request.role, actor=actor_slack_id)
            return
        org_user = deps.admin.find_user_by_email(request.requester_email or "")
        if org_user is None:
            _send_invite(
                deps,
                request,
                email=request.requester_email or "",
                org_role=deps.admin.key_creating_role(),
                actor=actor_slack_id,
            )
        else:
            grant(deps, request_id=request_id, org_user=org_user, from_state=S.APPROVED, actor_slack_id=actor_slack_id)
    except AdminAPIError as exc:
        fail(deps, request_id=request_id, error=exc, actor_slack_id=actor_slack_id)


def _send_invite(deps: Deps, request: AccessRequest, *, email: str, org_role: str, actor: str | None) -> None:
    try:
        invite = deps.admin.create_invite(email, org_role)  # type: ignore[arg-type]
    except InviteAlreadyPending:
        pending = deps.admin.list_invites(email=email, statuses=["pending"])
        if not pending:
            raise
        invite = pending[0]
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[S.APPROVED],
        to=S.INVITED,
        now=deps.clock(),
        actor_slack_id=actor,
        action="request.invited",
        invite_id=invite.id,
    )
    if moved:
        dm = notices.invite_sent_dm(request, email, for_invitee=request.kind == RequestKind.INVITE)
        card.update(deps, request, thread=notices.invite_sent(email, org_role), dm=dm)


def _grant_steps(deps: Deps, request: AccessRequest, org_user: OrgUser) -> list[GrantStep]:
    steps: list[GrantStep] = []
    key_role = deps.admin.key_creating_role()
    if org_user.role in RAISE_TO_DEVELOPER and org_user.role != key_role and request.role != "workspace_user":
        deps.admin.update_user_role(org_user.id, key_role)
        steps.append(RoleRaised(from_role=org_user.role, to_role=key_role))
    workspace_id = request.workspace_id or ""
    workspace = request.workspace_name or workspace_id
    member = deps.admin.get_workspace_member(workspace_id, org_user.id)
    if member is None:
        deps.admin.add_workspace_member(workspace_id, org_user.id, request.role)  # type: ignore[arg-type]
        steps.append(AddedToWorkspace(workspace=workspace, role=request.role))
    elif member.workspace_role != request.role and member.workspace_role in LESSER_WORKSPACE_ROLES:
        deps.admin.update_workspace_member(workspace_id, org_user.id, request.role)  # type: ignore[arg-type]
        steps.append(WorkspaceRoleChanged(from_role=member.workspace_role, to_role=request.role))
    else:
        steps.append(AlreadyMember(role=member.workspace_role, workspace=workspace))
    return steps


def grant(deps: Deps, *, request_id: int, org_user: OrgUser, from_state: str, actor_slack_id: str | None) -> bool:
    """Make an org member able to create keys in the workspace, then mark the request granted."""
    request = load(deps, request_id)
    if request.kind == RequestKind.INVITE:
        return _finish_invite(deps, request, org_user, from_state, actor_slack_id)
    steps = _grant_steps(deps, request, org_user)
    now = deps.clock()
    expires = now + timedelta(days=request.duration_days) if request.duration_days else None
    moved, request = move(
        deps,
        request_id,
        from_states=[from_state],
        to=S.GRANTED,
        now=now,
        actor_slack_id=actor_slack_id,
        action="request.granted",
        anthropic_user_id=org_user.id,
        granted_at=now,
        grant_expires_at=expires,
    )
    if not moved:
        return False
    dm = notices.granted_dm(request, expires=expires, console_url=deps.settings.console_url)
    card.update(deps, request, thread=notices.granted(steps), dm=dm)
    return True


def _finish_invite(
    deps: Deps, request: AccessRequest, org_user: OrgUser, from_state: str, actor_slack_id: str | None
) -> bool:
    now = deps.clock()
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[from_state],
        to=S.FULFILLED,
        now=now,
        actor_slack_id=actor_slack_id,
        action="request.fulfilled",
        anthropic_user_id=org_user.id,
        granted_at=now,
    )
    if moved:
        card.update(
            deps, request, thread=notices.member_now(org_user.email), dm=notices.member_now_dm(request, org_user.email)
        )
    return moved


def fail(deps: Deps, *, request_id: int, error: AdminAPIError, actor_slack_id: str | None) -> None:
    """Record an Admin API failure: `failed`, the API's sentence in the thread, a Retry button."""
    moved, request = move(
        deps,
        request_id,
        from_states=[S.APPROVED, S.INVITED, S.GRANTED],
        to=S.FAILED,
        now=deps.clock(),
        actor_slack_id=actor_slack_id,
        action="request.failed",
        detail=error.user_message,
        last_error=error.user_message,
    )
    if moved:
        logger.warning("request #%s failed: %s (request_id=%s)", request_id, type(error).__name__, error.request_id)
        card.update(deps, request, thread=notices.failed(error.user_message))


def adopt_key(deps: Deps, request: AccessRequest, key: ApiKey, *, now: datetime) -> bool:
    """A key the granted requester created in the workspace fulfils the request; False if it moved already."""
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[S.GRANTED],
        to=S.FULFILLED,
        now=now,
        actor_slack_id=None,
        action="request.fulfilled",
        api_key_id=key.id,
        detail=key.name,
    )
    if moved:
        hint = key.partial_key_hint
        card.update(
            deps, request, thread=notices.key_seen(key.name, hint), dm=notices.key_seen_dm(request, key.name, hint)
        )
    return moved


def end_grant(deps: Deps, request: AccessRequest, *, now: datetime) -> bool:
    """A time-bound grant ended: remove the workspace membership, mark the request revoked."""
    deps.admin.remove_workspace_member(request.workspace_id or "", request.anthropic_user_id or "")
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[S.GRANTED, S.FULFILLED],
        to=S.REVOKED,
        now=now,
        actor_slack_id=None,
        action="request.revoked",
        detail="time-bound grant ended",
    )
    if moved:
        card.update(deps, request, thread=notices.GRANT_ENDED, dm=notices.grant_ended_dm(request))
    return moved
