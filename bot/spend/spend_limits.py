"""Spend-limit increase requests: post them, approve with an amount, deny.

Members of an Enterprise org ask Anthropic for a higher spend limit; the `spend-limit-requests` job posts
each new pending request to the admin channel once (ledger key `posted:<id>`), with Approve (amount in a
modal) and Deny. A decision is claimed with a conditional update (`… WHERE state IN ('pending','failed')`),
so a double click, two admins or two replicas act once; then the API is called, the thread gets a reply,
the root message loses its buttons and the requester is DM'd. On a Console org the endpoint is
unavailable: the job logs that once (ledger key `endpoint-unavailable`) and stays quiet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import ROUND_CEILING, Decimal
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.anthropic_admin import AdminAPIError, FeatureUnavailable, IncreaseRequest
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_admin
from bot.jobs.context import JobContext, JobResult
from bot.slack.notifier import Posted
from bot.spend import blocks_spend_limits
from bot.spend.model import SpendDecision, SpendRequestCard
from storage import repositories as repo
from storage.db import session_scope
from storage.models import IdentityLink, SpendLimitRequestPost, SpendRequestState

logger = logging.getLogger(__name__)

JOB = "spend-limit-requests"
UNAVAILABLE_KEY = "endpoint-unavailable"
OPEN_STATES = (SpendRequestState.PENDING, SpendRequestState.FAILED)
MIN_SUGGESTION = Decimal(100)

T = TypeVar("T")


def suggested_amount(current: Decimal | None, spend: Decimal | None) -> Decimal:
    """A starting amount for the Approve modal: half again the larger of limit and spend, whole dollars."""
    base = max(current or Decimal(0), spend or Decimal(0))
    return max((base * Decimal("1.5")).quantize(Decimal(1), rounding=ROUND_CEILING), MIN_SUGGESTION)


def card(post: SpendLimitRequestPost, tz: tzinfo, *, resolved_as: str | None = None) -> SpendRequestCard:
    """What the admin-channel message of a request shows; Approve and Deny while it is pending or failed."""
    state = str(post.state)
    return SpendRequestCard(
        request_id=post.request_id,
        state=state,
        period=post.period,
        requester_slack_id=post.requester_slack_id,
        requester_name=post.requester_name,
        requester_email=post.requester_email,
        requester_user_id=post.requester_user_id,
        current_limit=post.current_limit_usd,
        spend=post.spend_usd,
        suggestion=suggested_amount(post.current_limit_usd, post.spend_usd),
        decidable=state in OPEN_STATES,
        last_error=post.last_error,
        approved_amount=post.approved_amount_usd,
        decided_by_slack_id=post.decided_by_slack_id,
        decided_at=post.decided_at,
        resolved_as=resolved_as,
        tz=tz,
    )


def _slack_id_for(deps: Deps, session: Session, email: str | None) -> str | None:
    """The requester's Slack id: the identity link by email, else Slack's lookup by email."""
    if not email:
        return None
    link = session.exec(select(IdentityLink).where(IdentityLink.email == email)).first()
    if link is not None:
        return link.slack_user_id
    try:
        return deps.notifier.user_by_email(email)
    except SlackApiError:
        return None


def _best_effort(what: str, fn: Callable[[], T]) -> T | None:
    try:
        return fn()
    except SlackApiError as exc:
        logger.warning("could not %s: %s", what, exc.response.get("error"))
        return None


# --------------------------------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------------------------------


def run_spend_limit_requests(ctx: JobContext) -> JobResult:
    """Post new pending increase requests; mark the ones resolved in the Console."""
    result = JobResult()
    deps = ctx.deps
    channel = deps.settings.admin_channel_id
    try:
        pending = deps.admin.list_increase_requests(("pending",))
    except FeatureUnavailable:
        # Console orgs: no per-user limits, so no increase requests. Say it once, then stay quiet.
        if not ctx.already_done(UNAVAILABLE_KEY):
            logger.warning(
                "spend-limit increase requests are not available for this Anthropic organization "
                "(they exist in Enterprise orgs); the spend-limit-requests job will stay quiet"
            )
            ctx.mark_done(UNAVAILABLE_KEY)
        result.notes.append("increase requests unavailable for this organization")
        return result
    if channel is None:
        result.errors.append("no ADMIN_CHANNEL_ID")
        return result
    for request in reversed(pending):  # oldest first, so the channel reads in order
        key = f"posted:{request.id}"
        if ctx.already_done(key):
            result.skipped += 1
            continue
        try:
            _post_request(ctx, request, channel, key)
            result.sent += 1
        except Exception as exc:  # one request's failure never stops the others
            ctx.item_failed(result, request.id, exc)
    _close_resolved_elsewhere(ctx, {r.id for r in pending}, result)
    return result


def _post_request(ctx: JobContext, request: IncreaseRequest, channel: str, key: str) -> None:
    deps = ctx.deps
    slack_id = _slack_id_for(deps, ctx.session, request.requester_email)
    post = SpendLimitRequestPost(
        request_id=request.id,
        period=request.period,
        requester_user_id=request.requester_user_id,
        requester_email=request.requester_email,
        requester_name=request.requester_name,
        requester_slack_id=slack_id,
        current_limit_usd=request.current_limit_usd,
        spend_usd=request.period_to_date_spend_usd,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    message = blocks_spend_limits.spend_request_card(card(post, deps.settings.tz))
    if ctx.dry_run:
        ctx.out(f"would post to {channel}: {message.text}")
        return
    # The row first: a request whose row can't be stored is never posted (it would be posted again every run).
    post = ctx.session.merge(post)
    ctx.session.commit()
    posted = deps.notifier.post(channel, message.text, message.blocks)
    post.channel_id, post.message_ts = posted.channel, posted.ts
    ctx.session.add(post)
    ctx.mark_done(key)  # commits where it was posted with the ledger key


def _close_resolved_elsewhere(ctx: JobContext, pending_ids: set[str], result: JobResult) -> None:
    """Requests approved or denied in the Console: their messages lose the buttons."""
    posts = repo.spend_requests_in(session=ctx.session, states=OPEN_STATES)
    gone = [p for p in posts if p.request_id not in pending_ids]
    if not gone or ctx.dry_run:
        return
    try:
        resolved = {r.id: r for r in ctx.deps.admin.list_increase_requests(("approved", "denied"))}
    except AdminAPIError as exc:
        result.errors.append(f"resolved requests: {exc.user_message}")
        return
    for post in gone:
        try:
            _close_one(ctx, post, resolved.get(post.request_id), result)
        except Exception as exc:  # one request's failure never stops the others
            ctx.item_failed(result, post.request_id, exc)


def _close_one(
    ctx: JobContext, post: SpendLimitRequestPost, outcome: IncreaseRequest | None, result: JobResult
) -> None:
    """A request approved or denied in the Console (or withdrawn): its message loses the buttons."""
    status = outcome.status if outcome is not None else "withdrawn"
    claimed = repo.transition(
        session=ctx.session,
        table=SpendLimitRequestPost,
        key=post.request_id,
        from_states=OPEN_STATES,
        to=SpendRequestState.RESOLVED_ELSEWHERE,
        now=ctx.now,
        last_error=status,
    )
    ctx.session.commit()
    if claimed is None:
        return
    post.state, post.last_error = SpendRequestState.RESOLVED_ELSEWHERE, status
    _render_root(ctx.deps, post, resolved_as=status)
    result.notes.append(f"{post.request_id} {status} elsewhere")


# --------------------------------------------------------------------------------------------------
# Decisions (after the ack)
# --------------------------------------------------------------------------------------------------


def _decider(deps: Deps, slack_user_id: str, post: SpendLimitRequestPost | None) -> Actor:
    actor = resolve_admin(deps, slack_user_id, "Only admins can approve or deny spend-limit increases.")
    if post is None:
        raise UserError("I don't know that spend-limit request any more; it may have been removed.")
    if actor.anthropic_user_id is not None and actor.anthropic_user_id == post.requester_user_id:
        raise UserError("You can't decide your own spend-limit request; another admin has to.")
    return actor


def _claim(deps: Deps, slack_user_id: str, request_id: str, to: SpendRequestState, now: datetime) -> Actor:
    """Check the decider and move the request from pending or failed to `to`; UserError when someone was first."""
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        actor = _decider(deps, slack_user_id, post)
        assert post is not None
        before = repo.transition(
            session=session, table=SpendLimitRequestPost, key=request_id, from_states=OPEN_STATES, to=to, now=now
        )
        if before is None:
            session.refresh(post)
            raise UserError(f"That request was already handled (it is {post.state}).")
    return actor


def approve(deps: Deps, slack_user_id: str, request_id: str, amount: Decimal) -> SpendDecision:
    """Approve an increase request at `amount` dollars a period (whole cents)."""
    now = deps.clock()
    actor = _claim(deps, slack_user_id, request_id, SpendRequestState.APPROVING, now)
    try:
        deps.admin.approve_increase_request(request_id, amount_usd=amount)
    except AdminAPIError as exc:
        return _failed(deps, request_id, actor, "approve", exc)
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        post.state, post.decided_by_slack_id, post.decided_at = SpendRequestState.APPROVED, actor.slack_user_id, now
        post.approved_amount_usd, post.updated_at, post.last_error = amount, now, None
        repo.append_audit(
            session=session,
            action="spend_request.approved",
            subject_type="spend_limit_request",
            subject_id=request_id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"state": "pending"},
            after={"state": "approved", "amount_usd": str(amount)},
            at=now,
        )
    decision = SpendDecision("approve", actor.slack_user_id, post.period, amount=amount)
    _announce(deps, post, decision)
    return decision


def deny(deps: Deps, slack_user_id: str, request_id: str) -> SpendDecision:
    """Deny an increase request."""
    now = deps.clock()
    actor = _claim(deps, slack_user_id, request_id, SpendRequestState.DENYING, now)
    try:
        deps.admin.deny_increase_request(request_id)
    except AdminAPIError as exc:
        return _failed(deps, request_id, actor, "deny", exc)
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        post.state, post.decided_by_slack_id, post.decided_at = SpendRequestState.DENIED, actor.slack_user_id, now
        post.updated_at, post.last_error = now, None
        repo.append_audit(
            session=session,
            action="spend_request.denied",
            subject_type="spend_limit_request",
            subject_id=request_id,
            actor_slack_id=actor.slack_user_id,
            actor_anthropic_id=actor.anthropic_user_id,
            before={"state": "pending"},
            after={"state": "denied"},
            at=now,
        )
    decision = SpendDecision("deny", actor.slack_user_id, post.period)
    _announce(deps, post, decision)
    return decision


def _failed(deps: Deps, request_id: str, actor: Actor, verb: str, exc: AdminAPIError) -> SpendDecision:
    """The API refused: the request is `failed` (buttons stay, so it can be tried again) and the thread says why."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        post.state, post.last_error, post.updated_at = SpendRequestState.FAILED, exc.user_message, now
        repo.append_audit(
            session=session,
            action=f"spend_request.{verb}_failed",
            subject_type="spend_limit_request",
            subject_id=request_id,
            actor_slack_id=actor.slack_user_id,
            detail=exc.user_message,
            at=now,
        )
    decision = SpendDecision(verb, actor.slack_user_id, post.period, error=exc.user_message)
    _announce(deps, post, decision)
    return decision


def _announce(deps: Deps, post: SpendLimitRequestPost, decision: SpendDecision) -> None:
    """Thread reply, root message re-rendered, requester DM'd (each best effort: the decision stands)."""
    if post.channel_id and post.message_ts:
        channel, ts = post.channel_id, post.message_ts
        line = blocks_spend_limits.decision_thread_line(decision)
        _best_effort("reply in the thread", lambda: deps.notifier.post(channel, line, thread_ts=ts))
    _render_root(deps, post)
    dm = blocks_spend_limits.decision_dm(decision)
    if dm and post.requester_slack_id:
        slack_id = post.requester_slack_id
        _best_effort("DM the requester", lambda: deps.notifier.dm(slack_id, dm))


def _render_root(deps: Deps, post: SpendLimitRequestPost, *, resolved_as: str | None = None) -> None:
    if not (post.channel_id and post.message_ts):
        return
    message = blocks_spend_limits.spend_request_card(card(post, deps.settings.tz, resolved_as=resolved_as))
    target = Posted(post.channel_id, post.message_ts)
    _best_effort("update the request message", lambda: deps.notifier.update(target, message.text, message.blocks))
