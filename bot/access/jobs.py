"""The access-request jobs: invite-sync, key-adoption, request-nudges.

Each is idempotent: state changes are conditional transitions, notices go through the ledger
(`ctx.already_done` / `ctx.mark_done`), and a failure on one request is recorded and the run continues.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta

from bot.access import card, expiry
from bot.access.blocks import notices
from bot.access.decide import expire_invite, expire_undecided
from bot.access.fulfil import adopt_key, fulfil, grant
from bot.anthropic_admin import AdminAPIError
from bot.jobs.context import JobContext, JobResult
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AccessRequest, RequestKind, RequestState

logger = logging.getLogger(__name__)

S = RequestState
# An approval whose fulfilment has not moved for this long was interrupted (a restart, a crash): resume it.
STUCK_AFTER = timedelta(minutes=5)
INVITE_REMINDER_AFTER = timedelta(days=3)
INVITE_ESCALATE_AFTER = timedelta(days=7)
NUDGE_AFTER = timedelta(hours=4)
ESCALATE_AFTER = timedelta(days=1)
EXPIRE_AFTER = timedelta(days=7)
GRANT_WARNING = timedelta(days=1)


def _requests(ctx: JobContext, *states: str) -> list[AccessRequest]:
    with session_scope(ctx.deps.engine) as session:
        return repo.find_requests(session=session, states=states)


def _each(
    ctx: JobContext, result: JobResult, requests: list[AccessRequest], step: Callable[[AccessRequest], None]
) -> None:
    out = ctx.out
    for request in requests:
        if ctx.dry_run:  # every "would …" line of this request names the people it is about
            ctx.out = functools.partial(_with_people, out, request)
        try:
            step(request)
        except AdminAPIError as exc:
            result.errors.append(f"request #{request.id}: {exc.user_message}")
        except Exception as exc:
            logger.exception("request #%s failed in %s", request.id, ctx.job)
            result.errors.append(f"request #{request.id}: {type(exc).__name__}")
        finally:
            ctx.out = out


def _with_people(out: Callable[[str], None], request: AccessRequest, line: str) -> None:
    people = [f"requester {request.requester_email or request.requester_slack_id}"]
    if request.invitee_email:
        people.append(f"invitee {request.invitee_email}")
    if request.workspace_name:
        people.append(f"workspace {request.workspace_name}")
    out(f"{line} ({', '.join(people)})")


def _notice(ctx: JobContext, result: JobResult, key: str, description: str, send: Callable[[], None]) -> None:
    """Send a notice once: skipped when the ledger has it, printed on a dry run, recorded after it went out."""
    if ctx.already_done(key):
        result.skipped += 1
        return
    if ctx.dry_run:
        ctx.out(description)
        result.sent += 1
        return
    send()
    ctx.mark_done(key)
    result.sent += 1


def invite_sync(ctx: JobContext) -> JobResult:
    """Accepted invites continue their requests; remind at 3 days, flag at 7 or on expiry; resume stuck approvals."""
    result = JobResult()
    deps = ctx.deps

    def resume(request: AccessRequest) -> None:
        if ctx.now - request.updated_at < STUCK_AFTER:
            return
        if ctx.dry_run:
            ctx.out(f"would resume the interrupted approval of request #{request.id}")
            return
        card.thread_reply(deps, request, notices.RESUMING)
        fulfil(deps, request_id=request.id or 0, actor_slack_id=None)
        result.sent += 1

    def follow(request: AccessRequest) -> None:
        email = request.invitee_email if request.kind == RequestKind.INVITE else request.requester_email
        invites = deps.admin.list_invites(email=email or "")
        invite = next((i for i in invites if i.id == request.invite_id), invites[-1] if invites else None)
        if invite is None:
            return
        if invite.status == "accepted":
            org_user = deps.admin.find_user_by_email(email or "")
            if org_user is None:  # accepted a moment ago; the member list catches up on the next run
                return
            if ctx.dry_run:
                ctx.out(f"would grant request #{request.id} to {org_user.email}")
                return
            grant(deps, request_id=request.id or 0, org_user=org_user, from_state=S.INVITED, actor_slack_id=None)
            result.sent += 1
        elif invite.status in ("expired", "deleted"):
            if ctx.dry_run:
                ctx.out(f"would expire request #{request.id}: invite {invite.status}")
                return
            if expire_invite(deps, request, now=ctx.now, email=email, status=invite.status):
                result.sent += 1
        else:
            age = ctx.now - invite.invited_at
            if age >= INVITE_ESCALATE_AFTER:
                _notice(
                    ctx,
                    result,
                    f"invite-escalated:{request.id}",
                    f"would flag request #{request.id}'s invite",
                    lambda: card.thread_reply(
                        deps, request, notices.invite_unaccepted(email, INVITE_ESCALATE_AFTER.days)
                    ),
                )
            elif age >= INVITE_REMINDER_AFTER:
                _notice(
                    ctx,
                    result,
                    f"invite-reminded:{request.id}",
                    f"would remind request #{request.id}'s invitee",
                    lambda: card.tell_requester(
                        deps,
                        request,
                        reply=notices.invite_reminder_dm(request, email, invite.expires_at, deps.settings.tz),
                        edit=False,
                    ),
                )

    _each(ctx, result, _requests(ctx, S.APPROVED), resume)
    _each(ctx, result, _requests(ctx, S.INVITED), follow)
    return result


def key_adoption(ctx: JobContext) -> JobResult:
    """Keys created by granted requesters in their workspace fulfil the request, with a thread reply."""
    result = JobResult()
    deps = ctx.deps

    def adopt(request: AccessRequest) -> None:
        if not (request.anthropic_user_id and request.workspace_id and request.granted_at):
            return
        keys = deps.admin.list_api_keys(created_by_user_id=request.anthropic_user_id, workspace_id=request.workspace_id)
        fresh = [k for k in keys if k.created_at >= request.granted_at and k.status == "active"]
        if not fresh:
            return
        key = min(fresh, key=lambda k: k.created_at)
        if ctx.dry_run:
            ctx.out(f"would fulfil request #{request.id} with key {key.name}")
            return
        if adopt_key(deps, request, key, now=ctx.now):
            result.sent += 1

    _each(ctx, result, [r for r in _requests(ctx, S.GRANTED) if r.kind == RequestKind.ACCESS], adopt)
    return result


def request_nudges(ctx: JobContext) -> JobResult:
    """Pending > 4 h: nudge; > 1 day: escalate; > 7 days: expire. Time-bound grants: warn, then remove access."""
    result = JobResult()
    deps = ctx.deps

    def unposted(request: AccessRequest) -> None:
        if request.admin_message_ts:
            return
        if ctx.dry_run:
            ctx.out(f"would post request #{request.id} to the admin channel")
            return
        posted = card.post_root(deps, request.id or 0, None, known=False)
        if posted.admin_message_ts:
            result.sent += 1

    def pending(request: AccessRequest) -> None:
        age = ctx.now - request.created_at
        if age >= EXPIRE_AFTER:
            if ctx.dry_run:
                ctx.out(f"would expire request #{request.id} after 7 days without a decision")
                return
            if expire_undecided(deps, request, now=ctx.now, days=EXPIRE_AFTER.days):
                result.sent += 1
        elif age >= ESCALATE_AFTER:
            _notice(
                ctx,
                result,
                f"escalated:{request.id}",
                f"would escalate request #{request.id}",
                lambda: card.post_in_channel(
                    deps, request, notices.escalation(request, card.thread_link(deps, request))
                ),
            )
        elif age >= NUDGE_AFTER:
            _notice(
                ctx,
                result,
                f"nudged:{request.id}",
                f"would nudge request #{request.id}",
                lambda: card.thread_reply(deps, request, notices.NUDGE),
            )

    def grant_ending(request: AccessRequest) -> None:
        ends = request.grant_expires_at
        if ends is None or not (request.anthropic_user_id and request.workspace_id):
            return
        if ctx.now >= ends:
            if ctx.dry_run:
                what = notices.grant_plan(request, expiry.plan(deps, request))
                ctx.out(f"would end request #{request.id}: {what}")
                return
            if expiry.end_grant(deps, request.id or 0, now=ctx.now):
                result.sent += 1
        elif ctx.now >= ends - GRANT_WARNING:
            if ctx.already_done(f"grant-ending:{request.id}"):
                result.skipped += 1
                return
            plan = expiry.plan(deps, request)
            _notice(
                ctx,
                result,
                f"grant-ending:{request.id}",
                f"would warn about request #{request.id} ending: {notices.grant_plan(request, plan)}",
                lambda: card.tell_requester(
                    deps, request, reply=notices.grant_ending_dm(request, ends, plan, deps.settings.tz), edit=False
                ),
            )

    _each(ctx, result, _requests(ctx, S.PENDING, S.FAILED), unposted)
    _each(ctx, result, _requests(ctx, S.PENDING), pending)
    _each(ctx, result, _requests(ctx, S.GRANTED, S.FULFILLED), grant_ending)
    return result
