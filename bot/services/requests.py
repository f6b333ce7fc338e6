"""Access requests (DESIGN.md §4): create, approve, deny, cancel, retry, and make approvals real.

Every state change is a conditional update (`… WHERE state IN (…)`), so a double click, two admins at
once, a replayed payload or two replicas change a request exactly once; the winner alone calls the Admin
API. Each change writes an audit row in the same transaction. Slack notices come after the commit and
never undo a change when Slack fails.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from bot.anthropic_admin import AdminAPIError, InviteAlreadyPending, OrgUser, Workspace
from bot.core.errors import UserError
from bot.core.periods import month_start
from bot.deps import Deps
from bot.identity import Actor, resolve_actor
from bot.slack.reply import Reply
from bot.slack.request_blocks import (
    WORKSPACE_ROLES,
    RequesterContext,
    build_request_list,
    build_request_message,
    duration_text,
    key_name_hint,
    request_summary,
)
from bot.slack.text import clip, escape
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, RequestKind, RequestState

logger = logging.getLogger(__name__)

S = RequestState
OPEN_STATES = (S.PENDING, S.APPROVED, S.INVITED, S.GRANTED, S.FAILED)
MAX_DURATION_DAYS = 90
# Org roles that cannot create keys and are raised to developer on approval; other roles are left alone.
RAISE_TO_DEVELOPER = {"user", "claude_code_user"}
# Existing workspace roles that a granted request upgrades; admins and developers keep what they have.
LESSER_WORKSPACE_ROLES = {"workspace_user", "workspace_restricted_developer", "workspace_billing"}
INVITABLE_ROLES = ("developer", "user", "billing", "claude_code_user")
EMAIL = re.compile(r"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")
USAGE_REQUEST = (
    "Usage: `/claude-key request [workspace] [for 7d] [reason…]`, e.g. "
    "`/claude-key request ml-platform for 7d evaluating Claude for search`. With no arguments it opens a form."
)
USAGE_INVITE = "Usage: `/claude-key invite <email> [developer | user | billing | claude_code_user]`"


# -- workspaces (live list, cached briefly) ------------------------------------------------------------------


def workspace_choices(deps: Deps) -> list[tuple[str, str]]:
    """(id, name) of the org's active workspaces, for the request form."""
    return [(w.id, w.name) for w in deps.workspaces()]


# -- parsing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDraft:
    """A validated request before it is stored."""

    workspace: Workspace
    role: str
    duration_days: int | None
    reason: str


def _duration(word: str) -> int | None:
    match = re.fullmatch(r"(\d{1,3})\s*(d|day|days)?", word.lower())
    if not match:
        raise UserError(f"I can't read the duration `{escape(clip(word, 20))}`. " + USAGE_REQUEST)
    days = int(match.group(1))
    if not 1 <= days <= MAX_DURATION_DAYS:
        raise UserError(f"A time-bound grant lasts 1 to {MAX_DURATION_DAYS} days. " + USAGE_REQUEST)
    return days


def parse_request_args(args: Sequence[str], workspaces: list[Workspace]) -> RequestDraft:
    """`<workspace> [for 7d] [reason…]`; the workspace is matched by id or (case-insensitive) name."""
    by_name = {w.name.lower(): w for w in workspaces} | {w.id.lower(): w for w in workspaces}
    chosen: Workspace | None = None
    rest: list[str] = []
    for end in range(len(args), 0, -1):  # longest match first: names may contain spaces
        candidate = " ".join(args[:end]).lower()
        if candidate in by_name:
            chosen, rest = by_name[candidate], list(args[end:])
            break
    if chosen is None:
        names = ", ".join(f"`{escape(w.name)}`" for w in workspaces[:15]) or "none yet"
        raise UserError(f"I don't know the workspace `{escape(clip(args[0], 60))}`. Workspaces: {names}.")
    days: int | None = None
    if len(rest) >= 2 and rest[0].lower() == "for":
        days, rest = _duration(rest[1]), rest[2:]
    reason = " ".join(rest).strip()
    if not reason:
        raise UserError("Please add a reason so the admins can decide. " + USAGE_REQUEST)
    return RequestDraft(workspace=chosen, role="workspace_developer", duration_days=days, reason=reason)


def parse_invite_args(args: Sequence[str]) -> tuple[str, str]:
    """`<email> [role]` → (email, org role); `admin` is refused with the reason."""
    if not args:
        raise UserError(USAGE_INVITE)
    raw = args[0]
    mailto = re.fullmatch(r"<mailto:([^|>]+)(\|[^>]*)?>", raw)  # Slack escapes emails in command text
    email = (mailto.group(1) if mailto else raw).strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise UserError(f"`{escape(clip(raw, 80))}` is not an email address. " + USAGE_INVITE)
    role = args[1].lower() if len(args) > 1 else "developer"
    if role == "admin":
        raise UserError(
            "The Admin API cannot make anyone an admin. Invite them as `developer`, then promote them in the Console."
        )
    if role not in INVITABLE_ROLES:
        raise UserError(f"`{escape(clip(role, 30))}` is not a role I can invite with. " + USAGE_INVITE)
    if len(args) > 2:
        raise UserError(USAGE_INVITE)
    return email, role


# -- the state machine -------------------------------------------------------------------------------------------


def transition(
    session: Session,
    request_id: int,
    *,
    from_states: Sequence[str],
    to: str,
    now: datetime,
    actor_slack_id: str | None,
    action: str,
    detail: str | None = None,
    **values: Any,
) -> bool:
    """Move a request from one of `from_states` to `to`, once; write the audit row. False if it moved already.

    The UPDATE is the transaction's first statement: it takes the write lock (waiting for it on SQLite) before
    anything is read, so concurrent clicks queue and lose cleanly instead of failing on a lock upgrade.
    """
    before_state = repo.transition(
        session=session, table=AccessRequest, key=request_id, from_states=from_states, to=to, now=now, **values
    )
    if before_state is None:
        return False
    after = {"state": to} | {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
    repo.append_audit(
        session=session,
        action=action,
        subject_type="request",
        subject_id=str(request_id),
        actor_slack_id=actor_slack_id,
        before={"state": before_state},
        after=after,
        detail=detail,
        at=now,
    )
    session.expire_all()
    return True


def get_request(*, session: Session, request_id: int) -> AccessRequest:
    """A request by id, or a clear error."""
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise UserError(f"Request #{request_id} does not exist (any more).")
    return request


# -- notices (after the commit; Slack failures are logged, never undo the change) ------------------------------


def _safely(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except SlackApiError as exc:
        logger.warning("could not %s: %s", what, exc.response.get("error"))
    except Exception as exc:
        logger.warning("could not %s: %s", what, type(exc).__name__)
    return None


def requester_context(deps: Deps, org_user: OrgUser | None) -> RequesterContext | None:
    """The requester's org role, current keys and month-to-date spend, as far as the API can tell."""
    if org_user is None:
        return None
    keys: list[tuple[str, str | None]] | None = None
    spend: Decimal | None = None
    as_of: datetime | None = None
    try:
        found = deps.admin.list_api_keys(created_by_user_id=org_user.id, status="active")
        keys = [(k.name, k.partial_key_hint) for k in found]
        now = deps.clock()
        if found:
            report = deps.admin.cost_report(
                starting_at=month_start(now, deps.settings.tz), ending_at=now, api_key_ids=[k.id for k in found]
            )
            spend, as_of = sum((row.amount_usd for row in report.rows), Decimal(0)), report.data_refreshed_at
        else:
            spend = Decimal(0)
    except AdminAPIError as exc:
        logger.info("requester context unavailable: %s", type(exc).__name__)
    return RequesterContext(org_role=org_user.role, keys=keys, month_to_date_usd=spend, data_as_of=as_of)


def refresh_root(deps: Deps, request: AccessRequest, context: RequesterContext | None = None) -> None:
    """Edit the root message to show the state (and lose its buttons once decided)."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return
    # The requester's keys and spend were a snapshot for the decision; an edit without them drops the section
    # rather than showing a stale or wrong one.
    blocks = build_request_message(request, context, show_context=context is not None)
    text = f"{request_summary(request)} ({request.state})"
    channel, ts = request.admin_channel_id, request.admin_message_ts
    _safely(
        "update the request message",
        lambda: deps.notifier.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
    )


def thread_reply(deps: Deps, request: AccessRequest, text: str) -> None:
    """A reply in the request's thread (or the admin channel when the root message is missing)."""
    channel = request.admin_channel_id or deps.settings.admin_channel_id
    if channel:
        _safely(
            "reply in the request thread", lambda: deps.notifier.post(channel, text, thread_ts=request.admin_message_ts)
        )


def dm_requester(deps: Deps, request: AccessRequest, text: str) -> None:
    """A DM to the requester."""
    _safely("DM the requester", lambda: deps.notifier.dm(request.requester_slack_id, text))


def thread_link(deps: Deps, request: AccessRequest) -> str | None:
    """A link to the request's thread."""
    if not (request.admin_channel_id and request.admin_message_ts):
        return None
    channel, ts = request.admin_channel_id, request.admin_message_ts
    link: str | None = _safely("build a permalink", lambda: deps.notifier.permalink(channel, ts))
    return link


def post_root(deps: Deps, request_id: int, context: RequesterContext | None) -> AccessRequest:
    """Post the request to the admin channel and remember where; a failure leaves it for request-nudges."""
    channel = deps.settings.admin_channel_id
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
        if request.admin_message_ts or not channel:
            return request
        blocks = build_request_message(request, context)
        try:
            posted = deps.notifier.post(channel, f"{request_summary(request)} ({request.state})", blocks)
        except SlackApiError as exc:
            logger.error(
                "could not post request #%s to the admin channel: %s (invite the bot to ADMIN_CHANNEL_ID)",
                request_id,
                exc.response.get("error"),
            )
            return request
        request.admin_channel_id, request.admin_message_ts = posted.channel, posted.ts
        session.add(request)
    return request


# -- creating requests ------------------------------------------------------------------------------------------


def _open_duplicate(
    session: Session, *, requester: str, workspace_id: str | None, invitee: str | None
) -> AccessRequest | None:
    query = select(AccessRequest).where(
        AccessRequest.requester_slack_id == requester, col(AccessRequest.state).in_(list(OPEN_STATES))
    )
    if workspace_id is not None:
        query = query.where(AccessRequest.workspace_id == workspace_id)
    if invitee is not None:
        query = query.where(AccessRequest.invitee_email == invitee)
    return session.exec(query.order_by(col(AccessRequest.id))).first()


def _duplicate_reply(deps: Deps, duplicate: AccessRequest) -> UserError:
    link = thread_link(deps, duplicate)
    where = f" (<{link}|see the thread>)" if link else ""
    return UserError(
        f"You already have an open request #{duplicate.id} for that{where}; it is {duplicate.state}. "
        "Cancel it with `/claude-key requests mine` if you want to change it."
    )


def create_request(
    deps: Deps,
    *,
    slack_user_id: str,
    draft: RequestDraft | None = None,
    invite: tuple[str, str] | None = None,
) -> Reply:
    """Store a new request, post it to the admin channel, DM the requester a link; return the receipt."""
    now = deps.clock()
    actor = resolve_actor(deps, slack_user_id)
    if not actor.email:
        raise UserError("I can't find your email address in Slack, so I can't file a request for you.")
    handle = _safely("read the Slack handle", lambda: deps.notifier.user_handle(slack_user_id))
    with session_scope(deps.engine) as session:
        duplicate = _open_duplicate(
            session,
            requester=slack_user_id,
            workspace_id=draft.workspace.id if draft else None,
            invitee=invite[0] if invite else None,
        )
        if duplicate is not None:
            raise _duplicate_reply(deps, duplicate)
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
        session.add(request)
        session.flush()
        request_id = request.id or 0
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
    org_user = _org_user(deps, actor)
    request = post_root(deps, request_id, requester_context(deps, org_user))
    link = thread_link(deps, request)
    posted = f" Follow it <{link}|in the admin channel>." if link else ""
    if not request.admin_message_ts:
        posted = " I couldn't post it to the admin channel yet; I'll keep trying and the admins will see it."
    dm_requester(deps, request, f"I've sent your request #{request_id} to the admins: {_what_plain(request)}.{posted}")
    return Reply(f":inbox_tray: Request #{request_id} sent to the admins: {_what_plain(request)}.{posted}")


def _what_plain(request: AccessRequest) -> str:
    if request.kind == RequestKind.INVITE:
        return f"an invite for {escape(request.invitee_email or '?')} as {escape(request.role)}"
    role = WORKSPACE_ROLES.get(request.role, request.role).split(" (")[0].lower()
    return f"access to {escape(request.workspace_name or '?')} as {role}, {duration_text(request.duration_days)}"


def _org_user(deps: Deps, actor: Actor) -> OrgUser | None:
    if actor.anthropic_user_id is None:
        return None
    try:
        return deps.admin.get_user(actor.anthropic_user_id)
    except AdminAPIError:
        return None


def request_from_args(deps: Deps, *, slack_user_id: str, args: Sequence[str]) -> Reply:
    """`/claude-key request <workspace> [for 7d] [reason…]`."""
    draft = parse_request_args(args, deps.workspaces())
    return create_request(deps, slack_user_id=slack_user_id, draft=draft)


def request_from_form(
    deps: Deps, *, slack_user_id: str, workspace_id: str, role: str, days: int | None, reason: str
) -> Reply:
    """The request modal's submission (already validated for shape)."""
    workspace = next((w for w in deps.workspaces() if w.id == workspace_id), None)
    if workspace is None:
        raise UserError("That workspace no longer exists; please open the form again.")
    if role not in WORKSPACE_ROLES:
        raise UserError("Please choose a role from the list.")
    draft = RequestDraft(workspace=workspace, role=role, duration_days=days, reason=reason.strip())
    return create_request(deps, slack_user_id=slack_user_id, draft=draft)


# -- deciding ---------------------------------------------------------------------------------------------------


def _decider(deps: Deps, slack_user_id: str, request: AccessRequest, verb: str) -> Actor:
    actor = resolve_actor(deps, slack_user_id)
    if not actor.is_admin:
        raise UserError(f"Only admins can {verb} requests.")
    if request.requester_slack_id == slack_user_id:
        raise UserError(f"You can't {verb} your own request; another admin has to.")
    return actor


def _already(request: AccessRequest) -> UserError:
    who = f" by <@{request.decided_by_slack_id}>" if request.decided_by_slack_id else ""
    return UserError(f"Request #{request.id} was already {request.state}{who}.")


def approve(deps: Deps, *, request_id: int, slack_user_id: str) -> Reply | None:
    """An Admin (not the requester) approves: one click wins, then the bot makes it real."""
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    if request.state != S.PENDING:
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "approve")
    now = deps.clock()
    with session_scope(deps.engine) as session:
        won = transition(
            session,
            request_id,
            from_states=[S.PENDING],
            to=S.APPROVED,
            now=now,
            actor_slack_id=slack_user_id,
            action="request.approved",
            decided_by_slack_id=slack_user_id,
            decided_at=now,
        )
        request = get_request(session=session, request_id=request_id)
    if not won:
        raise _already(request)
    thread_reply(deps, request, f"Approved by {actor.mention}.")
    refresh_root(deps, request)
    fulfil(deps, request_id=request_id, actor_slack_id=slack_user_id)
    return None


def retry(deps: Deps, *, request_id: int, slack_user_id: str) -> Reply | None:
    """An Admin retries a failed request from where it stopped."""
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    if request.state != S.FAILED:
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "retry")
    now = deps.clock()
    with session_scope(deps.engine) as session:
        won = transition(
            session,
            request_id,
            from_states=[S.FAILED],
            to=S.APPROVED,
            now=now,
            actor_slack_id=slack_user_id,
            action="request.retried",
            last_error=None,
        )
        request = get_request(session=session, request_id=request_id)
    if not won:
        raise _already(request)
    thread_reply(deps, request, f"Retry by {actor.mention}.")
    fulfil(deps, request_id=request_id, actor_slack_id=slack_user_id)
    return None


def deny(deps: Deps, *, request_id: int, slack_user_id: str, reason: str) -> Reply | None:
    """An Admin denies with a reason; the requester is told why."""
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    if request.state not in (S.PENDING, S.FAILED):
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "deny")
    now = deps.clock()
    reason = clip(reason.strip(), 1000)
    with session_scope(deps.engine) as session:
        won = transition(
            session,
            request_id,
            from_states=[S.PENDING, S.FAILED],
            to=S.DENIED,
            now=now,
            actor_slack_id=slack_user_id,
            action="request.denied",
            detail=reason,
            decided_by_slack_id=slack_user_id,
            decided_at=now,
        )
        request = get_request(session=session, request_id=request_id)
    if not won:
        raise _already(request)
    thread_reply(deps, request, f"Denied by {actor.mention}: {escape(reason)}")
    refresh_root(deps, request)
    dm_requester(
        deps,
        request,
        f"Your request #{request_id} ({_what_plain(request)}) was denied by {actor.mention}: {escape(reason)}",
    )
    return None


def cancel(deps: Deps, *, request_id: int, slack_user_id: str) -> Reply:
    """The requester cancels their own pending request."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    if request.requester_slack_id != slack_user_id:
        raise UserError("Only the person who asked can cancel a request.")
    with session_scope(deps.engine) as session:
        won = transition(
            session,
            request_id,
            from_states=[S.PENDING],
            to=S.CANCELLED,
            now=now,
            actor_slack_id=slack_user_id,
            action="request.cancelled",
        )
        request = get_request(session=session, request_id=request_id)
    if not won:
        raise _already(request)
    thread_reply(deps, request, "Cancelled by the requester.")
    refresh_root(deps, request)
    return Reply(f"Request #{request_id} cancelled.")


# -- making it real ---------------------------------------------------------------------------------------------


def fulfil(deps: Deps, *, request_id: int, actor_slack_id: str | None) -> None:
    """Carry an approved request as far as it can go now; an API failure leaves it `failed` with Retry."""
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    if request.state != S.APPROVED:
        return
    try:
        if request.kind == RequestKind.INVITE:
            _send_invite(deps, request, email=request.invitee_email or "", org_role=request.role, actor=actor_slack_id)
            return
        org_user = deps.admin.find_user_by_email(request.requester_email or "")
        if org_user is None:
            _send_invite(deps, request, email=request.requester_email or "", org_role="developer", actor=actor_slack_id)
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
    now = deps.clock()
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
            request.id or 0,
            from_states=[S.APPROVED],
            to=S.INVITED,
            now=now,
            actor_slack_id=actor,
            action="request.invited",
            invite_id=invite.id,
        )
        request = get_request(session=session, request_id=request.id or 0)
    if not moved:
        return
    thread_reply(deps, request, f"Invite sent to {escape(email)} (role {escape(org_role)}).")
    refresh_root(deps, request)
    if request.kind == RequestKind.INVITE:
        dm_requester(
            deps,
            request,
            f"Your invite request #{request.id} was approved: {escape(email)} has been "
            "invited and will get an email from Anthropic.",
        )
        return
    dm_requester(
        deps,
        request,
        f"Your request #{request.id} was approved. Next step: accept the invitation Anthropic emailed to "
        f"{escape(email)}. Once you have, I'll add you to *{escape(request.workspace_name or '?')}* and tell you "
        "how to create your key.",
    )


def grant(deps: Deps, *, request_id: int, org_user: OrgUser, from_state: str, actor_slack_id: str | None) -> bool:
    """Make an org member able to create keys in the workspace, then mark the request granted."""
    with session_scope(deps.engine) as session:
        request = get_request(session=session, request_id=request_id)
    steps: list[str] = []
    if request.kind == RequestKind.INVITE:
        return _finish_invite(deps, request, org_user, from_state, actor_slack_id)
    if org_user.role in RAISE_TO_DEVELOPER and request.role != "workspace_user":
        deps.admin.update_user_role(org_user.id, "developer")
        steps.append(f"Org role raised from {org_user.role} to developer.")
    workspace_id = request.workspace_id or ""
    member = deps.admin.get_workspace_member(workspace_id, org_user.id)
    if member is None:
        deps.admin.add_workspace_member(workspace_id, org_user.id, request.role)  # type: ignore[arg-type]
        steps.append(f"Added to {escape(request.workspace_name or workspace_id)} as {request.role}.")
    elif member.workspace_role != request.role and member.workspace_role in LESSER_WORKSPACE_ROLES:
        deps.admin.update_workspace_member(workspace_id, org_user.id, request.role)  # type: ignore[arg-type]
        steps.append(f"Workspace role changed from {member.workspace_role} to {request.role}.")
    else:
        steps.append(f"Already {member.workspace_role} in {escape(request.workspace_name or workspace_id)}.")
    now = deps.clock()
    expires = now + timedelta(days=request.duration_days) if request.duration_days else None
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
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
        request = get_request(session=session, request_id=request_id)
    if not moved:
        return False
    thread_reply(deps, request, " ".join(steps))
    refresh_root(deps, request)
    until = f" until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    dm_requester(
        deps,
        request,
        f"You now have access to *{escape(request.workspace_name or '?')}*{until}. Next step: create your API key "
        f"at {deps.settings.console_url}/settings/keys in that workspace, named "
        f"{key_name_hint(request.requester_handle, None)}. I'll confirm here when I see it. "
        "Never paste the key itself into Slack.",
    )
    return True


def _finish_invite(
    deps: Deps, request: AccessRequest, org_user: OrgUser, from_state: str, actor_slack_id: str | None
) -> bool:
    now = deps.clock()
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
            request.id or 0,
            from_states=[from_state],
            to=S.FULFILLED,
            now=now,
            actor_slack_id=actor_slack_id,
            action="request.fulfilled",
            anthropic_user_id=org_user.id,
            granted_at=now,
        )
        request = get_request(session=session, request_id=request.id or 0)
    if moved:
        thread_reply(deps, request, f"{escape(org_user.email)} is a member of the organization now.")
        refresh_root(deps, request)
        dm_requester(deps, request, f"{escape(org_user.email)} accepted the invite (request #{request.id}).")
    return moved


def fail(deps: Deps, *, request_id: int, error: AdminAPIError, actor_slack_id: str | None) -> None:
    """Record an Admin API failure: `failed`, the API's sentence in the thread, a Retry button."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        moved = transition(
            session,
            request_id,
            from_states=[S.APPROVED, S.INVITED, S.GRANTED],
            to=S.FAILED,
            now=now,
            actor_slack_id=actor_slack_id,
            action="request.failed",
            detail=error.user_message,
            last_error=error.user_message,
        )
        request = get_request(session=session, request_id=request_id)
    if moved:
        logger.warning("request #%s failed: %s (request_id=%s)", request_id, type(error).__name__, error.request_id)
        thread_reply(
            deps, request, f":warning: That didn't work: {escape(error.user_message)} An admin can press Retry."
        )
        refresh_root(deps, request)


# -- lists ------------------------------------------------------------------------------------------------------


def list_requests(deps: Deps, *, slack_user_id: str, which: str) -> Reply:
    """`requests mine` (with Cancel buttons) or `requests pending` (admins)."""
    with session_scope(deps.engine) as session:
        if which == "pending":
            actor = resolve_actor(deps, slack_user_id)
            if not actor.is_admin:
                raise UserError("Only admins can list everyone's pending requests; try `/claude-key requests mine`.")
            query = select(AccessRequest).where(col(AccessRequest.state).in_([S.PENDING, S.FAILED]))
        else:
            query = select(AccessRequest).where(
                AccessRequest.requester_slack_id == slack_user_id, col(AccessRequest.state).in_(list(OPEN_STATES))
            )
        requests = list(session.exec(query.order_by(col(AccessRequest.id).desc())))
    links = {r.id or 0: link for r in requests[:20] if (link := thread_link(deps, r))}
    title = "Pending requests" if which == "pending" else "Your open requests"
    blocks = build_request_list(requests, links=links, cancellable=which != "pending")
    return Reply(f"{title}: {len(requests)}", blocks)


# -- invites -----------------------------------------------------------------------------------------------------


def invite(deps: Deps, *, slack_user_id: str, args: Sequence[str]) -> Reply:
    """Admins invite at once (recorded); anyone else files an invite request approved like an access request."""
    email, role = parse_invite_args(args)
    actor = resolve_actor(deps, slack_user_id)
    if not actor.is_admin:
        return create_request(deps, slack_user_id=slack_user_id, invite=(email, role))
    created = deps.admin.create_invite(email, role)  # type: ignore[arg-type]
    with session_scope(deps.engine) as session:
        repo.append_audit(
            session=session,
            action="invite.created",
            subject_type="invite",
            subject_id=created.id,
            actor_slack_id=slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            after={"email": email, "role": role, "status": created.status},
            at=deps.clock(),
        )
    return Reply(
        f":email: Invited {escape(email)} as {role}. The invite expires {created.expires_at:%Y-%m-%d}; "
        "Anthropic emails them the link."
    )
