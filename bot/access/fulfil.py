"""Making an approval real through the Admin API: an invite for non-members, then workspace membership (and a
role raise where the org role cannot create keys), recorded as the grant's changes; the key the requester
creates. A time-bound grant's end is `bot.access.expiry`.

An Admin API failure leaves the request `failed` with a Retry button; each step is a transition of its own,
so a retry (or invite-sync after a crash) continues from where it stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.access import card
from bot.access.blocks import notices
from bot.access.expiry import changes_of
from bot.access.model import (
    AddedToWorkspace,
    AlreadyMember,
    GrantChanges,
    GrantStep,
    RoleRaised,
    WorkspaceRoleChanged,
)
from bot.access.state import load, move
from bot.access.writes import set_org_role, set_workspace_member
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
        for_invitee = request.kind == RequestKind.INVITE
        dm = notices.invite_sent_dm(request, email, for_invitee=for_invitee)
        # The requester accepting their own invite is their next step: a reply, so Slack notifies them.
        reply = None if for_invitee else dm
        card.update(deps, request, thread=notices.invite_sent(email, org_role), status=dm, reply=reply)


def _grant_steps(deps: Deps, request: AccessRequest, org_user: OrgUser, actor: str | None) -> list[GrantStep]:
    """Make the Admin API writes, each through an intent row that records what this grant changed with it, so a
    retry after a failure half way (or the reconciler after a crash) still knows (the retry sees the change as
    already there)."""
    steps: list[GrantStep] = []
    request_id = request.id or 0
    key_role = deps.admin.key_creating_role()
    if org_user.role in RAISE_TO_DEVELOPER and org_user.role != key_role and request.role != "workspace_user":
        set_org_role(
            deps,
            org_user,
            key_role,
            actor_slack_id=actor,
            actor_anthropic_id=None,
            why=f"request #{request_id}: the role {org_user.role} can't create keys",
            request_id=request_id,
            grant_part=GrantChanges(org_role_from=org_user.role),
        )
        steps.append(RoleRaised(from_role=org_user.role, to_role=key_role))
    workspace_id = request.workspace_id or ""
    workspace = request.workspace_name or workspace_id
    member = deps.admin.get_workspace_member(workspace_id, org_user.id)

    def workspace_step(part: GrantChanges, *, add: bool) -> None:
        set_workspace_member(
            deps,
            request_id=request_id,
            workspace_id=workspace_id,
            workspace=workspace,
            user=org_user,
            role=request.role,
            grant_part=part,
            add=add,
        )

    if member is None:
        workspace_step(GrantChanges(workspace_added=True), add=True)
        steps.append(AddedToWorkspace(workspace=workspace, role=request.role))
    elif member.workspace_role != request.role and member.workspace_role in LESSER_WORKSPACE_ROLES:
        workspace_step(GrantChanges(workspace_role_from=member.workspace_role), add=False)
        steps.append(WorkspaceRoleChanged(from_role=member.workspace_role, to_role=request.role))
    else:
        steps.append(AlreadyMember(role=member.workspace_role, workspace=workspace))
    return steps


def grant(deps: Deps, *, request_id: int, org_user: OrgUser, from_state: str, actor_slack_id: str | None) -> bool:
    """Make an org member able to create keys in the workspace, then mark the request granted.

    What the grant changed is recorded with it; a time-bound grant that changed nothing (the access was already
    there) gets no expiry, since ending it would take away access the person had before.
    """
    request = load(deps, request_id)
    if request.kind == RequestKind.INVITE:
        return _finish_invite(deps, request, org_user, from_state, actor_slack_id)
    steps = _grant_steps(deps, request, org_user, actor_slack_id)
    now = deps.clock()
    changes = changes_of(load(deps, request_id)) or GrantChanges()
    if changes.changed:
        changes = changes.model_copy(update={"keys_since": changes.keys_since or now})
    expires = now + timedelta(days=request.duration_days) if request.duration_days and changes.changed else None
    already_there = bool(request.duration_days) and not changes.changed
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
        grant_changes=changes.model_dump_json(),
    )
    if not moved:
        return False
    dm = notices.granted_dm(
        request,
        expires=expires,
        console_url=deps.settings.console_url,
        already_there=already_there,
        tz=deps.settings.tz,
    )
    card.update(deps, request, thread=notices.granted(steps, already_there=already_there), status=dm, reply=dm)
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
            deps,
            request,
            thread=notices.member_now(org_user.email),
            status=notices.member_now_dm(request, org_user.email),
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
            deps, request, thread=notices.key_seen(key.name, hint), status=notices.key_seen_dm(request, key.name, hint)
        )
    return moved
