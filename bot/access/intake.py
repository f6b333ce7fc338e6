"""Requests coming in: `request` (arguments or the form), `invite`, and the `requests` lists.

A new request is stored (with its audit row), posted to the admin channel with what the Admin API can tell
about the requester, and the requester gets their status card by DM (`card.tell_requester`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.access import card
from bot.access.blocks import notices
from bot.access.model import (
    MAX_OPEN_REQUESTS,
    OPEN_STATES,
    WAITING_STATES,
    WORKSPACE_ROLES,
    Filed,
    Invited,
    RequestList,
    Which,
)
from bot.access.parse import RequestDraft, RequestForm, parse_invite_args, parse_request_args
from bot.access.writes import invite_now
from bot.anthropic_admin import AdminAPIError, OrgUser
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, confirm_role, resolve_actor, resolve_admin
from bot.slack.text import escape
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, RequestKind, RequestState

S = RequestState


def workspace_choices(deps: Deps) -> list[tuple[str, str]]:
    """(id, name) of the org's active workspaces, for the request form."""
    return [(w.id, w.name) for w in deps.workspaces()]


def _duplicate_refusal(deps: Deps, duplicate: AccessRequest) -> UserError:
    link = card.link_for(deps, duplicate, duplicate.requester_slack_id)
    where = f" (<{link}|see the thread>)" if link else ""
    return UserError(
        f"You already have an open request #{duplicate.id} for that{where}; it is {duplicate.state}. "
        "Cancel it with `/claude-key requests mine` if you want to change it."
    )


def _too_many_refusal(waiting: Sequence[AccessRequest]) -> UserError:
    listed = "; ".join(
        f"#{r.id} ({'invite ' + (r.invitee_email or '') if r.kind == RequestKind.INVITE else r.workspace_name}, "
        f"{r.state})"
        for r in waiting
    )
    return UserError(
        f"You already have {len(waiting)} open requests, the most I file for one person at a time: "
        f"{escape(listed)}. Cancel one you no longer need with `/claude-key requests mine`, "
        "or wait until an admin decides on one."
    )


def _org_user(deps: Deps, actor: Actor) -> OrgUser | None:
    if actor.anthropic_user_id is None:
        return None
    try:
        return deps.admin.get_user(actor.anthropic_user_id)
    except AdminAPIError:
        return None


def create_request(
    deps: Deps,
    *,
    slack_user_id: str,
    draft: RequestDraft | None = None,
    invite: tuple[str, str] | None = None,
) -> Filed:
    """Store a new request, post it to the admin channel, DM the requester a link; what was filed, and where."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    if not actor.email:
        raise UserError("I can't find your email address in Slack, so I can't file a request for you.")
    handle = card.safely("read the Slack handle", lambda: deps.notifier.user_handle(slack_user_id))
    with session_scope(deps.engine) as session:
        duplicate = repo.open_duplicate(
            session=session,
            requester_slack_id=slack_user_id,
            states=OPEN_STATES,
            workspace_id=draft.workspace.id if draft else None,
            invitee_email=invite[0] if invite else None,
        )
        if duplicate is not None:
            raise _duplicate_refusal(deps, duplicate)
        waiting = repo.find_requests(session=session, states=WAITING_STATES, requester_slack_id=slack_user_id)
        if len(waiting) >= MAX_OPEN_REQUESTS:
            raise _too_many_refusal(waiting)
        request = AccessRequest(
            kind=RequestKind.INVITE if invite else RequestKind.ACCESS,
            requester_slack_id=slack_user_id,
            requester_email=actor.email,
            requester_handle=handle,
            anthropic_user_id=actor.anthropic_user_id,
            workspace_id=draft.workspace.id if draft else None,
            workspace_name=draft.workspace.name if draft else None,
            role=draft.role if draft else invite[1] if invite else "workspace_developer",
            duration_days=draft.duration_days if draft else None,
            reason=draft.reason if draft else f"Invite requested by {actor.email}",
            invitee_email=invite[0] if invite else None,
            created_at=now,
            updated_at=now,
        )
        request_id = repo.add_request(session=session, request=request)
        repo.append_audit(
            session=session,
            action="request.created",
            subject_type="request",
            subject_id=str(request_id),
            actor_slack_id=slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={
                "state": S.PENDING,
                "kind": request.kind,
                "workspace_id": request.workspace_id,
                "role": request.role,
                "duration_days": request.duration_days,
                "invitee": request.invitee_email,
            },
            at=now,
        )
    request = card.post_root(deps, request_id, card.requester_context(deps, _org_user(deps, actor)))
    filed = Filed(request=request, link=card.link_for(deps, request, slack_user_id))
    card.tell_requester(deps, request, status=notices.filed_dm(filed))
    return filed


def request_from_args(deps: Deps, *, slack_user_id: str, args: Sequence[str]) -> Filed:
    """`/claude-key request <workspace> [for 7d] [reason…]`."""
    draft = parse_request_args(args, deps.workspaces())
    return create_request(deps, slack_user_id=slack_user_id, draft=draft)


def request_from_form(deps: Deps, *, slack_user_id: str, form: RequestForm) -> Filed:
    """The request modal's submission (already checked for shape)."""
    workspace = next((w for w in deps.workspaces() if w.id == form.workspace_id), None)
    if workspace is None:
        raise UserError("That workspace no longer exists; please open the form again.")
    if form.role not in WORKSPACE_ROLES:
        raise UserError("Please choose a role from the list.")
    draft = RequestDraft(workspace=workspace, role=form.role, duration_days=form.days, reason=form.reason.strip())
    return create_request(deps, slack_user_id=slack_user_id, draft=draft)


def list_requests(deps: Deps, *, slack_user_id: str, which: Which) -> RequestList:
    """`requests mine` or `requests pending` (admins)."""
    if which == "pending":
        resolve_admin(
            deps,
            slack_user_id,
            "Only admins can list everyone's pending requests; try `/claude-key requests mine`.",
        )
    with session_scope(deps.engine) as session:
        if which == "pending":
            requests = repo.find_requests(session=session, states=[S.PENDING, S.FAILED], newest_first=True)
        else:
            requests = repo.find_requests(
                session=session, states=OPEN_STATES, requester_slack_id=slack_user_id, newest_first=True
            )
    # Admins open the threads; a requester sees them only if they are in the admin channel.
    links = {r.id or 0: link for r in requests[:20] if (link := card.link_for(deps, r, slack_user_id))}
    return RequestList(which=which, requests=requests, links=links)


def invite(deps: Deps, *, slack_user_id: str, args: Sequence[str]) -> Filed | Invited:
    """Admins invite at once (recorded); anyone else files an invite request approved like an access request."""
    email, typed_role = parse_invite_args(args)
    actor = resolve_actor(deps, slack_user_id)
    if actor.is_admin:
        actor = confirm_role(deps, actor)  # a direct invite needs a role checked just now
    # The org type decides the roles: the key-creating one by default; one it lacks is refused in a sentence.
    role = deps.admin.org_role_for(typed_role) if typed_role else deps.admin.key_creating_role()
    if not actor.is_admin:
        return create_request(deps, slack_user_id=slack_user_id, invite=(email, role))
    created = invite_now(deps, actor, email, role)
    return Invited(email=email, role=role, expires_at=created.expires_at, tz=deps.settings.tz)
