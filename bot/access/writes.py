"""Access writes through intent rows (an admin's direct invite, an org role change), and how the reconciler
checks one whose outcome was never recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.access.expiry import changes_of, merge
from bot.access.model import GrantChanges
from bot.access.state import get_request
from bot.anthropic_admin import Invite, NotFound, OrgUser
from bot.deps import Deps
from bot.identity import Actor
from bot.jobs.context import JobContext
from bot.slack.text import escape
from bot.writes import Check, Intent, Verdict, perform
from storage import repositories as repo
from storage.models import AdminWrite

INVITE = "invite.create"
ORG_ROLE = "user.role"
WORKSPACE_MEMBER = "workspace.member"
RECONCILED = "recorded by the reconciler: the write's outcome was never recorded"


def _invite_audit(session: Session, payload: dict[str, Any], invite: Invite, at: datetime, detail: str | None) -> None:
    repo.append_audit(
        session=session,
        action="invite.created",
        subject_type="invite",
        subject_id=invite.id,
        actor_slack_id=payload.get("actor_slack_id"),
        actor_anthropic_id=payload.get("actor_anthropic_id"),
        after={"email": payload["email"], "role": payload["role"], "status": invite.status},
        detail=detail,
        at=at,
    )


def invite_now(deps: Deps, actor: Actor, email: str, role: str, *, detail: str | None = None) -> Invite:
    """An admin's direct invite: intent row, the invite, its audit row (`detail` on it)."""
    payload = {
        "email": email,
        "role": role,
        "actor_slack_id": actor.slack_user_id,
        "actor_anthropic_id": actor.anthropic_user_id,
    }
    intent = Intent(INVITE, email, f"invite {escape(email)} as {role}", payload, actor.slack_user_id)
    now = deps.clock()

    def record(session: Session, invite: Invite) -> Invite:
        _invite_audit(session, payload, invite, now, detail)
        return invite

    return perform(deps, intent, lambda: deps.admin.create_invite(email, role), record)  # type: ignore[arg-type]


def check_invite(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted invite: a pending invite for the email (or a member by now) means it was sent."""
    email = payload.get("email") or write.target
    shown = escape(email)
    invites = ctx.deps.admin.list_invites(email=email, statuses=["pending", "accepted"])
    if invites:
        invite = invites[0]
        _invite_audit(ctx.session, payload, invite, ctx.now, RECONCILED)
        return Verdict(True, f"the invite for {shown} was sent ({invite.status}); recorded in the audit log now.")
    return Verdict(False, f"there is no invite for {shown} at Anthropic: the invite wasn't sent. Nothing changed.")


def _role_audit(session: Session, payload: dict[str, Any], at: datetime, detail: str | None) -> None:
    repo.append_audit(
        session=session,
        action="user.role_changed",
        subject_type="org_user",
        subject_id=payload["user_id"],
        actor_slack_id=payload.get("actor_slack_id"),
        actor_anthropic_id=payload.get("actor_anthropic_id"),
        before={"role": payload["from_role"]},
        after={"role": payload["to_role"]},
        detail=detail,
        at=at,
    )


def remember(session: Session, request_id: int, part: GrantChanges) -> None:
    """Add `part` to what the request's grant changed (in the caller's transaction)."""
    row = get_request(session=session, request_id=request_id)
    row.grant_changes = merge(changes_of(row) or GrantChanges(), part).model_dump_json()
    session.add(row)


def _remember_from(session: Session, payload: dict[str, Any]) -> None:
    if payload.get("request_id") and payload.get("grant_part"):
        remember(session, int(payload["request_id"]), GrantChanges.model_validate(payload["grant_part"]))


def set_org_role(
    deps: Deps,
    user: OrgUser,
    to_role: str,
    *,
    actor_slack_id: str | None,
    actor_anthropic_id: str | None,
    why: str,
    request_id: int | None = None,
    grant_part: GrantChanges | None = None,
) -> OrgUser:
    """Change a member's org role through an intent row, with its audit row (`why`: the detail) and, for a
    grant, what the grant changed, in one transaction."""
    payload = {
        "request_id": request_id,
        "grant_part": grant_part.model_dump(mode="json") if grant_part else None,
        "user_id": user.id,
        "email": user.email,
        "from_role": user.role,
        "to_role": to_role,
        "actor_slack_id": actor_slack_id,
        "actor_anthropic_id": actor_anthropic_id,
        "detail": why,
    }
    what = f"change the org role of {escape(user.email)} from {user.role} to {to_role}"
    now = deps.clock()

    def record(session: Session, updated: OrgUser) -> OrgUser:
        _role_audit(session, payload, now, why)
        _remember_from(session, payload)
        return updated

    call = lambda: deps.admin.update_user_role(user.id, to_role)  # type: ignore[arg-type]  # noqa: E731
    return perform(deps, Intent(ORG_ROLE, user.id, what, payload, actor_slack_id), call, record)


def check_org_role(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted role change: the member's role now tells."""
    shown = escape(payload.get("email") or write.target)
    try:
        user = ctx.deps.admin.get_user(write.target)
    except NotFound:
        return Verdict(False, f"{shown} is no longer an org member; nothing to record.")
    if user.role != payload.get("to_role"):
        return Verdict(False, f"{shown} is still {user.role}: the role change didn't happen.")
    _role_audit(ctx.session, payload, ctx.now, " ".join(filter(None, [payload.get("detail"), f"({RECONCILED})"])))
    _remember_from(ctx.session, payload)
    return Verdict(True, f"{shown} is {user.role} at Anthropic; recorded in the audit log now.")


def set_workspace_member(
    deps: Deps,
    *,
    request_id: int,
    workspace_id: str,
    workspace: str,
    user: OrgUser,
    role: str,
    grant_part: GrantChanges,
    add: bool,
) -> None:
    """A grant's workspace step (add the member, or upgrade their role) through an intent row; what the grant
    changed is recorded with it."""
    payload = {
        "request_id": request_id,
        "workspace_id": workspace_id,
        "workspace": workspace,
        "user_id": user.id,
        "email": user.email,
        "role": role,
        "grant_part": grant_part.model_dump(mode="json"),
    }
    verb = "add" if add else "give"
    what = f"{verb} {escape(user.email)} {'to' if add else 'the role ' + role + ' in'} workspace {escape(workspace)}"
    if add:
        what += f" as {role}"

    def call() -> object:
        if add:
            return deps.admin.add_workspace_member(workspace_id, user.id, role)  # type: ignore[arg-type]
        return deps.admin.update_workspace_member(workspace_id, user.id, role)  # type: ignore[arg-type]

    intent = Intent(WORKSPACE_MEMBER, f"{workspace_id}:{user.id}", what, payload)
    perform(deps, intent, call, lambda session, _: _remember_from(session, payload))


def check_workspace_member(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted workspace step: the member's current role tells."""
    who, where = escape(payload.get("email") or ""), escape(payload.get("workspace") or "")
    member = ctx.deps.admin.get_workspace_member(payload["workspace_id"], payload["user_id"])
    if member is None or member.workspace_role != payload.get("role"):
        return Verdict(False, f"{who} is not {payload.get('role')} in workspace {where}: the change didn't happen.")
    _remember_from(ctx.session, payload)
    return Verdict(True, f"{who} is {member.workspace_role} in workspace {where}; the grant records it now.")


# -- withdrawing an invite (`/claude-key members invites`: Withdraw, and the first half of Re-invite) --------------

INVITE_DELETE = "invite.delete"


def _withdraw_audit(session: Session, payload: dict[str, Any], at: datetime, detail: str | None) -> None:
    repo.append_audit(
        session=session,
        action="invite.withdrawn",
        subject_type="invite",
        subject_id=payload["invite_id"],
        actor_slack_id=payload.get("actor_slack_id"),
        actor_anthropic_id=payload.get("actor_anthropic_id"),
        before={"email": payload["email"], "role": payload["role"], "status": "pending"},
        after={"status": "deleted"},
        detail=detail,
        at=at,
    )


def withdraw_invite(deps: Deps, actor: Actor, invite: Invite, *, why: str) -> None:
    """Withdraw a pending invite through an intent row, with its audit row (`why`: the detail)."""
    payload = {
        "invite_id": invite.id,
        "email": invite.email,
        "role": invite.role,
        "actor_slack_id": actor.slack_user_id,
        "actor_anthropic_id": actor.anthropic_user_id,
        "detail": why,
    }
    what = f"withdraw the invite for {escape(invite.email)}"
    intent = Intent(INVITE_DELETE, invite.id, what, payload, actor.slack_user_id)
    now = deps.clock()
    perform(
        deps, intent, lambda: deps.admin.delete_invite(invite.id), lambda s, _: _withdraw_audit(s, payload, now, why)
    )


def check_invite_delete(ctx: JobContext, write: AdminWrite, payload: dict[str, Any]) -> Verdict:
    """An interrupted withdrawal: the invite no longer pending means it was withdrawn (or accepted meanwhile)."""
    email = payload.get("email") or ""
    shown = escape(email)
    listed = {i.id: i for i in ctx.deps.admin.list_invites(email=email)} if email else {}
    invite = listed.get(write.target)
    if invite is not None and invite.status == "pending":
        return Verdict(False, f"the invite for {shown} is still pending: it wasn't withdrawn. Nothing changed.")
    if invite is not None and invite.status == "accepted":
        return Verdict(False, f"{shown} accepted the invite before it was withdrawn; they are a member now.")
    _withdraw_audit(ctx.session, payload, ctx.now, " ".join(filter(None, [payload.get("detail"), f"({RECONCILED})"])))
    return Verdict(True, f"the invite for {shown} is withdrawn; recorded in the audit log now.")


CHECKS: dict[str, Check] = {
    INVITE_DELETE: check_invite_delete,
    INVITE: check_invite,
    ORG_ROLE: check_org_role,
    WORKSPACE_MEMBER: check_workspace_member,
}
