"""The decisions on a request: approve, retry, deny (admins, never their own), cancel (the requester), expire
(the jobs). Each is one transition; the admin's role and the request's state are re-checked on every click."""

from __future__ import annotations

from datetime import datetime

from bot.access import card
from bot.access.blocks import notices
from bot.access.fulfil import fulfil
from bot.access.model import REASON_LIMIT
from bot.access.state import load, move
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_decider
from bot.slack.text import clip
from storage.models import AccessRequest, RequestState

S = RequestState


def _decider(deps: Deps, slack_user_id: str, request: AccessRequest, verb: str) -> Actor:
    return resolve_decider(
        deps,
        slack_user_id,
        refusal=f"Only admins can {verb} requests.",
        is_own=request.requester_slack_id == slack_user_id,
        own_refusal=f"You can't {verb} your own request; another admin has to.",
    )


def _already(request: AccessRequest) -> UserError:
    who = f" by <@{request.decided_by_slack_id}>" if request.decided_by_slack_id else ""
    return UserError(f"Request #{request.id} was already {request.state}{who}.")


def approve(deps: Deps, *, request_id: int, slack_user_id: str) -> None:
    """An Admin (not the requester) approves: one click wins, then the bot makes it real."""
    request = load(deps, request_id)
    if request.state != S.PENDING:
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "approve")
    now = deps.clock()
    won, request = move(
        deps,
        request_id,
        from_states=[S.PENDING],
        to=S.APPROVED,
        now=now,
        actor_slack_id=slack_user_id,
        action="request.approved",
        decided_by_slack_id=slack_user_id,
        decided_at=now,
    )
    if not won:
        raise _already(request)
    card.update(deps, request, thread=notices.approved(actor.mention), status=notices.approved_dm(actor.mention))
    fulfil(deps, request_id=request_id, actor_slack_id=slack_user_id)


def retry(deps: Deps, *, request_id: int, slack_user_id: str) -> None:
    """An Admin retries a failed request from where it stopped."""
    request = load(deps, request_id)
    if request.state != S.FAILED:
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "retry")
    won, request = move(
        deps,
        request_id,
        from_states=[S.FAILED],
        to=S.APPROVED,
        now=deps.clock(),
        actor_slack_id=slack_user_id,
        action="request.retried",
        last_error=None,
    )
    if not won:
        raise _already(request)
    card.thread_reply(deps, request, notices.retried(actor.mention))
    fulfil(deps, request_id=request_id, actor_slack_id=slack_user_id)


def deny(deps: Deps, *, request_id: int, slack_user_id: str, reason: str) -> None:
    """An Admin denies with a reason; the requester is told why."""
    request = load(deps, request_id)
    if request.state not in (S.PENDING, S.FAILED):
        raise _already(request)
    actor = _decider(deps, slack_user_id, request, "deny")
    now = deps.clock()
    reason = clip(reason.strip(), REASON_LIMIT)
    won, request = move(
        deps,
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
    if not won:
        raise _already(request)
    dm = notices.denied_dm(request, actor.mention, reason)
    card.update(deps, request, thread=notices.denied(actor.mention, reason), status=dm, reply=dm)


def cancel(deps: Deps, *, request_id: int, slack_user_id: str) -> AccessRequest:
    """The requester cancels their own pending request; the request as cancelled."""
    now = deps.clock()
    request = load(deps, request_id)
    if request.requester_slack_id != slack_user_id:
        raise UserError("Only the person who asked can cancel a request.")
    won, request = move(
        deps,
        request_id,
        from_states=[S.PENDING],
        to=S.CANCELLED,
        now=now,
        actor_slack_id=slack_user_id,
        action="request.cancelled",
    )
    if not won:
        raise _already(request)
    card.update(deps, request, thread=notices.CANCELLED, status=notices.cancelled_dm())
    return request


def expire_undecided(deps: Deps, request: AccessRequest, *, now: datetime, days: int) -> bool:
    """A pending request nobody decided on in `days` expires; False if it moved already."""
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[S.PENDING],
        to=S.EXPIRED,
        now=now,
        actor_slack_id=None,
        action="request.expired",
        detail=f"no decision in {days} days",
    )
    if moved:
        dm = notices.expired_undecided_dm(request, days)
        card.update(deps, request, thread=notices.expired_undecided(days), status=dm, reply=dm)
    return moved


def expire_invite(deps: Deps, request: AccessRequest, *, now: datetime, email: str | None, status: str) -> bool:
    """An invited request whose invite expired or was deleted unused expires; False if it moved already."""
    moved, request = move(
        deps,
        request.id or 0,
        from_states=[S.INVITED],
        to=S.EXPIRED,
        now=now,
        actor_slack_id=None,
        action="request.expired",
        detail=f"invite {status}",
    )
    if moved:
        dm = notices.invite_lapsed_dm(request, status)
        card.update(deps, request, thread=notices.invite_lapsed(email, status), status=dm, reply=dm)
    return moved
