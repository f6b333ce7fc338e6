"""Ending a time-bound grant: undo exactly what it changed (`grant_changes`, recorded at grant time), no more.

`plan` only reads the Admin API, so the DM a day before, a dry run and the expiry itself say and do the same.
Every undo step is idempotent: a rerun after a crash half way finds the key inactive, the member gone or the role
back and changes nothing more. An Admin API failure propagates before the request moves, so it stays granted
and the next run tries again.

A change another still-active grant of the same person relies on (the developer org role, or the membership
of the same workspace) is not undone: that grant's record takes it over and undoes it when it ends.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.access import card
from bot.access.blocks import notices
from bot.access.model import ExpiryPlan, GrantChanges, GrantKey
from bot.access.state import get_request, load, transition
from bot.anthropic_admin import NotFound
from bot.deps import Deps
from bot.slack.text import escape
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, RequestKind, RequestState

S = RequestState
ACTIVE = (S.GRANTED, S.FULFILLED)
# The org role a grant raises to; restored only while the person still has it.
RAISED_ORG_ROLE = "developer"


def changes_of(request: AccessRequest) -> GrantChanges | None:
    """What the grant recorded; None for requests granted before grants recorded their changes."""
    if request.grant_changes is None:
        return None
    return GrantChanges.model_validate_json(request.grant_changes)


def _ends(request: AccessRequest) -> datetime | None:
    if request.grant_expires_at is not None:
        return request.grant_expires_at
    if request.duration_days and request.granted_at:
        return request.granted_at + timedelta(days=request.duration_days)
    return None  # permanent


def _heir(candidates: list[AccessRequest]) -> AccessRequest | None:
    """The grant that takes over a change: a permanent one if any, else the one that ends last."""
    if not candidates:
        return None
    permanent = [r for r in candidates if _ends(r) is None]
    if permanent:
        return permanent[0]
    return max(candidates, key=lambda r: _ends(r) or datetime.max)


def _others(deps: Deps, request: AccessRequest) -> list[AccessRequest]:
    """The person's other still-active access grants."""
    with session_scope(deps.engine) as session:
        active = repo.find_requests(session=session, states=ACTIVE)
    return [
        r
        for r in active
        if r.id != request.id and r.kind == RequestKind.ACCESS and r.anthropic_user_id == request.anthropic_user_id
    ]


def _hand(handed: dict[int, GrantChanges], heir: AccessRequest, part: GrantChanges) -> None:
    handed[heir.id or 0] = merge(handed.get(heir.id or 0, GrantChanges()), part)


def merge(first: GrantChanges, second: GrantChanges) -> GrantChanges:
    """Both records' changes; the earlier `from` role and keys time win."""
    since = [t for t in (first.keys_since, second.keys_since) if t is not None]
    return GrantChanges(
        org_role_from=first.org_role_from or second.org_role_from,
        workspace_added=first.workspace_added or second.workspace_added,
        workspace_role_from=first.workspace_role_from or second.workspace_role_from,
        keys_since=min(since) if since else None,
    )


def plan(deps: Deps, request: AccessRequest) -> ExpiryPlan:
    """What ending this grant would do now."""
    user_id = request.anthropic_user_id or ""
    workspace_id = request.workspace_id or ""
    workspace = f"*{escape(request.workspace_name or workspace_id)}*"
    changes = changes_of(request)
    if changes is None:
        # Granted before grants recorded their changes: what expiry always did, remove the membership.
        member = deps.admin.get_workspace_member(workspace_id, user_id)
        return ExpiryPlan(
            keys=[], remove_membership=member is not None, workspace_role_to=None, org_role_to=None, handed={}, kept=[]
        )
    others = _others(deps, request)
    handed: dict[int, GrantChanges] = {}
    kept: list[str] = []
    keys: list[GrantKey] = []
    remove = False
    workspace_role_to = org_role_to = None

    touched_workspace = changes.workspace_added or changes.workspace_role_from or changes.keys_since
    workspace_heir = _heir([r for r in others if r.workspace_id == request.workspace_id])
    if touched_workspace and workspace_heir is not None:
        part = changes.model_copy(update={"org_role_from": None})
        _hand(handed, workspace_heir, part)
        kept.append(f"Membership of {workspace} and the keys there kept: request #{workspace_heir.id} uses them.")
    elif touched_workspace:
        keys = _keys(deps, request, changes)
        member = deps.admin.get_workspace_member(workspace_id, user_id)
        now_role = member.workspace_role if member is not None else None
        if changes.workspace_added and now_role is not None:
            if now_role == request.role:
                remove = True
            else:
                kept.append(f"Membership of {workspace} kept: the role there was changed to {now_role} since.")
        elif changes.workspace_role_from and now_role is not None:
            if now_role in (request.role, changes.workspace_role_from):
                workspace_role_to = changes.workspace_role_from
            else:
                kept.append(f"Role in {workspace} left at {now_role}: it was changed after the grant.")

    if changes.org_role_from:
        org_heir = _heir([r for r in others if r.role != "workspace_user"])
        if org_heir is not None:
            _hand(handed, org_heir, GrantChanges(org_role_from=changes.org_role_from))
            kept.append(f"Org role kept at {RAISED_ORG_ROLE}: request #{org_heir.id} needs it.")
        else:
            org_role_to = _org_role_to(deps, user_id, changes.org_role_from, kept)
    return ExpiryPlan(
        keys=keys,
        remove_membership=remove,
        workspace_role_to=workspace_role_to,
        org_role_to=org_role_to,
        handed=handed,
        kept=kept,
    )


def _keys(deps: Deps, request: AccessRequest, changes: GrantChanges) -> list[GrantKey]:
    since = changes.keys_since or request.granted_at
    if since is None:
        return []
    listed = deps.admin.list_api_keys(
        workspace_id=request.workspace_id or "", created_by_user_id=request.anthropic_user_id or ""
    )
    return [
        GrantKey(id=k.id, name=k.name, hint=k.partial_key_hint, active=k.status == "active")
        for k in sorted(listed, key=lambda k: k.created_at)
        if k.created_at >= since and k.status in ("active", "inactive")
    ]


def _org_role_to(deps: Deps, user_id: str, from_role: str, kept: list[str]) -> str | None:
    try:
        user = deps.admin.get_user(user_id)
    except NotFound:
        return None  # no longer in the organization: nothing to restore
    if user.role in (RAISED_ORG_ROLE, from_role):
        return from_role
    kept.append(f"Org role left at {user.role}: it was changed after the grant.")
    return None


def end_grant(deps: Deps, request_id: int, *, now: datetime) -> bool:
    """Undo what an ended grant changed, mark it revoked and say what was undone; False if nothing was due."""
    request = load(deps, request_id)  # re-read: an earlier grant this run may have handed changes over to it
    ends = request.grant_expires_at
    if request.state not in ACTIVE or ends is None or now < ends:
        return False
    done = plan(deps, request)
    user_id = request.anthropic_user_id or ""
    workspace_id = request.workspace_id or ""
    for key in done.keys:
        if key.active:
            deps.admin.update_api_key(key.id, status="inactive")
    if done.remove_membership:
        with contextlib.suppress(NotFound):  # removed already (by an earlier run or an admin)
            deps.admin.remove_workspace_member(workspace_id, user_id)
    if done.workspace_role_to:
        deps.admin.update_workspace_member(workspace_id, user_id, done.workspace_role_to)  # type: ignore[arg-type]
    if done.org_role_to:
        deps.admin.update_user_role(user_id, done.org_role_to)  # type: ignore[arg-type]
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
            request_id,
            from_states=ACTIVE,
            to=S.REVOKED,
            now=now,
            actor_slack_id=None,
            action="request.revoked",
            detail=notices.ended_summary(request, done),
        )
        if moved:
            for heir_id, part in done.handed.items():
                _take_over(session, heir_id, part, from_request=request_id, now=now)
        request = get_request(session=session, request_id=request_id)
    if moved:
        card.update(
            deps, request, thread=notices.grant_ended(request, done), status=notices.grant_ended_dm(request, done)
        )
    return moved


def _take_over(session: Session, heir_id: int, part: GrantChanges, *, from_request: int, now: datetime) -> None:
    heir = get_request(session=session, request_id=heir_id)
    # A grant from before changes were recorded ends by losing its membership; its record keeps saying so.
    merged = merge(changes_of(heir) or GrantChanges(workspace_added=True), part)
    moved = transition(
        session,
        heir_id,
        from_states=[heir.state],
        to=heir.state,
        now=now,
        actor_slack_id=None,
        action="request.grant_taken_over",
        detail=f"takes over what request #{from_request} changed",
        grant_changes=merged.model_dump_json(),
        grant_expires_at=_ends(heir),
    )
    if not moved:  # it moved meanwhile: roll the whole expiry back, the next run plans again
        raise RuntimeError(f"request #{heir_id} changed while taking over request #{from_request}")
