"""`/claude-key members invites`: pending and expired invites, and their Withdraw and Re-invite buttons.

There is no resend endpoint, so Re-invite is `invites.delete` (a pending invite only: the API deletes nothing
else) and then `invites.create` with the same email and role. Both go through intent rows
(`bot.access.writes`), each with its audit row; every click re-checks that the clicker is an admin (a role
checked within the last minute) and re-reads the invite. Each outcome is a line in the admin channel, and a
reply in the thread of the access request the invite belongs to, if any.
"""

from __future__ import annotations

import logging
import math

from sqlmodel import col, select

from bot.access import card
from bot.access.model import OPEN_STATES
from bot.access.state import move
from bot.access.writes import invite_now, withdraw_invite
from bot.anthropic_admin import AdminAPIError, Invite, NotFound
from bot.core.errors import UserError
from bot.core.format import day
from bot.deps import Deps
from bot.identity import Actor, resolve_admin
from bot.slack.text import escape
from bot.team.members import admins_only, may_see_members, viewer
from bot.team.members_model import (
    MEMBERS_PER_PAGE,
    AdminsOnly,
    InviteOutcome,
    InvitePage,
    InviteView,
    MembersPageRef,
)
from bot.writes import uncertain
from storage.db import session_scope
from storage.models import AccessRequest, RequestState

logger = logging.getLogger(__name__)

ONLY_ADMINS = "Only admins can withdraw or re-send invites."
_NEVER_REINVITED = {"admin", "owner", "primary_owner", "membership_admin"}


def list_invites(deps: Deps, *, slack_user_id: str, page: int = 0) -> InvitePage | AdminsOnly:
    """Pending invites (soonest expiry first), then expired ones (latest first): admins and billing viewers."""
    actor = viewer(deps, slack_user_id)
    if not may_see_members(actor):
        return admins_only(deps, deps.admin.list_users())
    now = deps.clock()
    invites = deps.admin.list_invites(statuses=["pending", "expired"])
    pending = sorted((i for i in invites if i.status == "pending"), key=lambda i: (i.expires_at, i.id))
    expired = sorted((i for i in invites if i.status != "pending"), key=lambda i: (i.expires_at, i.id), reverse=True)
    ordered = pending + expired
    assignable = set(deps.admin.assignable_org_roles()) if ordered else set()
    pages = max(1, math.ceil(len(ordered) / MEMBERS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    views = [
        InviteView(
            id=i.id,
            email=i.email,
            role=i.role,
            status=i.status,
            invited_at=i.invited_at,
            expires_at=i.expires_at,
            age_days=max(0, (now - i.invited_at).days),
            can_reinvite=i.role in assignable,
        )
        for i in ordered[page * MEMBERS_PER_PAGE : (page + 1) * MEMBERS_PER_PAGE]
    ]
    return InvitePage(
        views=views,
        page=page,
        pages=pages,
        pending=len(pending),
        expired=len(expired),
        actions=actor.is_admin,
        nav=MembersPageRef(f="invites", p=page),
        read_at=now,
    )


def _current(deps: Deps, invite_id: str, email: str) -> Invite:
    """The invite as the API shows it now (listed by email when the button had room for it, there is no lookup by id
    in the gateway), or a sentence saying what became of it."""
    listed = deps.admin.list_invites(email=email) if email else deps.admin.list_invites()
    found = next((i for i in listed if i.id == invite_id), None)
    shown = escape(email or "that address")
    if found is None:
        raise UserError(
            f"The invite for {shown} is no longer there: it was withdrawn already. "
            "`/claude-key members invites` shows the current ones."
        )
    if found.status == "accepted":
        raise UserError(f"{shown} accepted that invite already; they are an org member now.")
    return found


def withdraw(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> InviteOutcome:
    """The confirmed Withdraw click: the admin re-checked, the pending invite deleted, linked requests cancelled."""
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS)
    invite = _current(deps, invite_id, email)
    shown = escape(invite.email)
    if invite.status != "pending":
        raise UserError(f"The invite for {shown} has expired already; there is nothing to withdraw.")
    try:
        withdraw_invite(deps, actor, invite, why=f"withdrawn by <@{actor.slack_user_id}> (/claude-key members)")
    except NotFound:
        raise UserError(f"The invite for {shown} was withdrawn already.") from None
    notes = _cancel_requests(deps, actor, invite)
    _tell_admins(deps, f":envelope: {actor.mention} withdrew the invite for {shown} (`{invite.role}`).")
    return InviteOutcome(invite.email, invite.role, withdrawn=True, notes=notes)


def reinvite(deps: Deps, *, slack_user_id: str, invite_id: str, email: str) -> InviteOutcome:
    """The confirmed Re-invite click: the old invite withdrawn (when still pending), a new one sent with the same
    email and role; an access request waiting on the old invite follows the new one."""
    actor = resolve_admin(deps, slack_user_id, ONLY_ADMINS)
    invite = _current(deps, invite_id, email)
    shown = escape(invite.email)
    if invite.role in _NEVER_REINVITED:
        raise UserError(f"The Admin API can't send a `{invite.role}` invite; re-send it in the Claude Console.")
    role = deps.admin.org_role_for(invite.role)  # a role this org type lacks: refused in a sentence, nothing done
    withdrawn = False
    if invite.status == "pending":
        try:
            withdraw_invite(deps, actor, invite, why=f"re-invite by <@{actor.slack_user_id}> (/claude-key members)")
            withdrawn = True
        except NotFound:  # withdrawn meanwhile: the new invite is still what was asked for
            pass
    try:
        why = f"re-invite of {invite.id} by <@{actor.slack_user_id}>"
        new = invite_now(deps, actor, invite.email, role, detail=why)
    except AdminAPIError as exc:
        if withdrawn and not uncertain(exc):
            raise UserError(
                f"I withdrew the old invite for {shown}, but Anthropic refused the new one: {exc.user_message} "
                f"Send it again with `/claude-key invite {shown} {role}` once that is sorted."
            ) from None
        raise
    notes = _relink_requests(deps, actor, invite, new)
    _tell_admins(
        deps,
        f":envelope: {actor.mention} re-sent the invite for {shown} (`{role}`); "
        f"it expires {day(new.expires_at, deps.settings.tz)}.",
    )
    return InviteOutcome(invite.email, role, withdrawn=withdrawn, new_expires_at=new.expires_at, notes=notes)


def _linked(deps: Deps, invite: Invite) -> list[int]:
    with session_scope(deps.engine) as session:
        query = select(AccessRequest.id).where(
            col(AccessRequest.invite_id) == invite.id, col(AccessRequest.state).in_(OPEN_STATES)
        )
        return [i for i in session.exec(query) if i is not None]


def _cancel_requests(deps: Deps, actor: Actor, invite: Invite) -> list[str]:
    """Open access requests waiting on the withdrawn invite end `cancelled` (their thread says why)."""
    notes = []
    for request_id in _linked(deps, invite):
        moved, request = move(
            deps,
            request_id,
            from_states=OPEN_STATES,
            to=RequestState.CANCELLED,
            now=deps.clock(),
            actor_slack_id=actor.slack_user_id,
            action="request.cancelled",
            detail=f"invite {invite.id} withdrawn",
        )
        if moved:
            card.update(deps, request, thread=f"Cancelled: {actor.mention} withdrew the invite.")
            notes.append(f"Request #{request_id} was waiting on it and is cancelled.")
    return notes


def _relink_requests(deps: Deps, actor: Actor, old: Invite, new: Invite) -> list[str]:
    """Requests waiting on the old invite now wait on the new one (invite-sync follows `invite_id`)."""
    notes = []
    for request_id in _linked(deps, old):
        with session_scope(deps.engine) as session:
            request = session.get(AccessRequest, request_id)
            if request is None or request.invite_id != old.id:
                continue
            request.invite_id, request.updated_at = new.id, deps.clock()
            session.add(request)
        card.thread_reply(deps, request, f"{actor.mention} re-sent the invite (no resend exists: a new invite).")
        notes.append(f"Request #{request_id} now follows the new invite.")
    return notes


def _tell_admins(deps: Deps, line: str) -> None:
    """A line in the admin channel (best effort: the change stands either way)."""
    channel = deps.settings.admin_channel_id
    if not channel:
        return
    try:
        deps.notifier.post(channel, line)
    except Exception as exc:
        logger.warning("could not tell the admin channel about an invite: %s", type(exc).__name__)
