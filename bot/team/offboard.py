"""Offboarding a leaver: a plan read from the API before anything happens, then a resumable sequence.

`plan` lists what offboarding would do now: the person's active keys, the workspaces they are in, their org
membership, their pending invites. Nothing is written. `offboard` carries it out step by step, each step re-read
from the API, so a rerun after a crash does only what is left: keys set inactive (through intent rows),
workspace memberships removed, org membership removed, invites withdrawn, and the person's open requests
cancelled. Someone who left the org but still owns keys (keys outlive their creators) gets the keys part.
Each step is an audit row and a reply in the admin-channel thread the run starts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, or_, select

from bot.access import card
from bot.access.model import OPEN_STATES
from bot.access.state import move
from bot.anthropic_admin import NotFound, OrgUser
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_admin
from bot.keys.writes import set_key_status
from bot.slack.notifier import Posted
from bot.slack.text import escape
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, IdentityLink, RequestState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyToStop:
    """An active key of the person's."""

    id: str
    name: str
    hint: str | None


@dataclass(frozen=True)
class OffboardPlan:
    """What offboarding `email` would do now."""

    email: str
    user_id: str | None  # the Anthropic user id (a former member's too, when the bot knew it)
    member: OrgUser | None  # None: not (or no longer) an org member
    keys: list[KeyToStop] = field(default_factory=list)
    workspaces: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    invites: list[str] = field(default_factory=list)  # pending invite ids
    requests: list[int] = field(default_factory=list)  # open access requests by or for the person

    @property
    def empty(self) -> bool:
        """True when there is nothing left to do."""
        return not (self.keys or self.workspaces or self.member or self.invites or self.requests)


def _known_user_id(deps: Deps, email: str) -> str | None:
    """The Anthropic id the bot last saw for `email` (identity links, then requests): keys outlive members."""
    with session_scope(deps.engine) as session:
        linked = session.exec(
            select(IdentityLink.anthropic_user_id).where(
                col(IdentityLink.email) == email, col(IdentityLink.anthropic_user_id).is_not(None)
            )
        ).first()
        if linked:
            return linked
        requested = session.exec(
            select(AccessRequest.anthropic_user_id)
            .where(col(AccessRequest.requester_email) == email, col(AccessRequest.anthropic_user_id).is_not(None))
            .order_by(col(AccessRequest.id).desc())
        ).first()
    return requested


def open_requests(deps: Deps, email: str) -> list[int]:
    """Ids of the open access requests by or for `email`."""
    with session_scope(deps.engine) as session:
        query = select(AccessRequest.id).where(
            col(AccessRequest.state).in_(OPEN_STATES),
            or_(col(AccessRequest.requester_email) == email, col(AccessRequest.invitee_email) == email),
        )
        return [i for i in session.exec(query) if i is not None]


def plan(deps: Deps, email: str) -> OffboardPlan:
    """What offboarding `email` would do now (reads only)."""
    email = email.strip().lower()
    member = deps.admin.find_user_by_email(email)
    user_id = member.id if member is not None else _known_user_id(deps, email)
    keys: list[KeyToStop] = []
    workspaces: list[tuple[str, str]] = []
    if user_id:
        keys = [
            KeyToStop(k.id, k.name, k.partial_key_hint)
            for k in deps.admin.list_api_keys(created_by_user_id=user_id, status="active")
        ]
    if member is not None:
        for workspace in deps.workspaces():
            if deps.admin.get_workspace_member(workspace.id, member.id) is not None:
                workspaces.append((workspace.id, workspace.name))
    invites = [i.id for i in deps.admin.list_invites(email=email, statuses=["pending"])]
    return OffboardPlan(email, user_id, member, keys, workspaces, invites, open_requests(deps, email))


Say = Callable[[str], None]
ONLY_ADMINS = "Only admins can offboard people."


def _admin_for(deps: Deps, slack_user_id: str, email: str) -> Actor:
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS)
    if actor.email and actor.email.lower() == email.strip().lower():
        raise UserError("You can't offboard yourself; ask another admin.")
    return actor


def propose_offboard(deps: Deps, *, slack_user_id: str, email: str) -> OffboardPlan:
    """The confirm step of `offboard`: admins only, and nothing is written."""
    _admin_for(deps, slack_user_id, email)
    return plan(deps, email)


def run_offboard(deps: Deps, *, slack_user_id: str, email: str, reason: str, say: Say | None = None) -> OffboardPlan:
    """The Offboard click: the admin re-checked, then `offboard` (its steps told to `say`, else a new thread)."""
    return offboard(deps, email, _admin_for(deps, slack_user_id, email), reason=reason, say=say)


def offboard(deps: Deps, email: str, actor: Actor, *, reason: str, say: Say | None = None) -> OffboardPlan:
    """Carry out what `plan` shows, step by step (each re-read, so a rerun does only what is left); what it did."""
    done = plan(deps, email)
    tell = say or _thread(deps, done, actor, reason)
    now = deps.clock()
    detail = f"offboarding {done.email}" + (f": {reason}" if reason else "")
    for key in done.keys:
        fetched = deps.admin.get_api_key(key.id)
        if fetched.status == "active":
            set_key_status(deps, fetched, actor, now, status="inactive", action="key.offboarded", detail=detail)
        tell(f"Key `{escape(key.name)}`" + (f" ({escape(key.hint)})" if key.hint else "") + " is inactive.")
    for workspace_id, name in done.workspaces:
        with contextlib.suppress(NotFound):  # removed already (a rerun, or an admin)
            deps.admin.remove_workspace_member(workspace_id, done.user_id or "")
        _audit(deps, actor, "workspace.member_removed", workspace_id, done, detail, now)
        tell(f"Removed from workspace {escape(name)}.")
    if done.member is not None:
        with contextlib.suppress(NotFound):
            deps.admin.remove_user(done.member.id)
        _audit(deps, actor, "user.removed", done.member.id, done, detail, now)
        tell(f"Removed from the Anthropic organization (was {done.member.role}).")
    for invite_id in done.invites:
        with contextlib.suppress(NotFound):
            deps.admin.delete_invite(invite_id)
        _audit(deps, actor, "invite.withdrawn", invite_id, done, detail, now)
        tell(f"Pending invite for {escape(done.email)} withdrawn.")
    for request_id in done.requests:
        moved, request = move(
            deps,
            request_id,
            from_states=OPEN_STATES,
            to=RequestState.CANCELLED,
            now=now,
            actor_slack_id=actor.slack_user_id,
            action="request.cancelled",
            detail=detail,
        )
        if moved:
            card.update(deps, request, thread=f"Cancelled: <@{actor.slack_user_id}> offboarded {escape(done.email)}.")
            tell(f"Request #{request_id} cancelled.")
    if done.empty:
        tell(f"Nothing left to do for {escape(done.email)}.")
    return done


def _audit(deps: Deps, actor: Actor, action: str, subject: str, done: OffboardPlan, detail: str, at: datetime) -> None:
    with session_scope(deps.engine) as session:
        repo.append_audit(
            session=session,
            action=action,
            subject_type="org_user" if action == "user.removed" else action.split(".")[0],
            subject_id=subject,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"email": done.email, "user_id": done.user_id},
            detail=detail,
            at=at,
        )


def _thread(deps: Deps, done: OffboardPlan, actor: Actor, reason: str) -> Say:
    """Start the run's admin-channel thread; the steps reply in it (best effort: the steps stand either way)."""
    channel = deps.settings.admin_channel_id
    if not channel:
        return lambda _: None
    why = f" — {escape(reason)}" if reason else ""
    root: Posted | None = None
    try:
        root = deps.notifier.post(channel, f":wave: <@{actor.slack_user_id}> is offboarding {escape(done.email)}{why}")
    except Exception as exc:
        logger.warning("could not start the offboarding thread: %s", type(exc).__name__)

    def say(text: str) -> None:
        try:
            deps.notifier.post(channel, text, thread_ts=root.ts if root else None)
        except Exception as exc:
            logger.warning("could not post an offboarding step: %s", type(exc).__name__)

    return say
