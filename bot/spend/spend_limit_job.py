"""The `spend-limit-requests` job: post each new pending increase request once, close the ones decided in the
Console, and settle decisions whose outcome was never recorded (`spend_limits.settle_stale_claims`)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.anthropic_admin import AdminAPIError, FeatureUnavailable, IncreaseRequest
from bot.deps import Deps
from bot.jobs.context import JobContext, JobResult
from bot.spend import blocks_spend_limits
from bot.spend.spend_limits import OPEN_STATES, card, render_root, settle_stale_claims
from bot.spend.writes import CHECKS as SPEND_WRITE_CHECKS
from bot.writes import reconcile
from storage import repositories as repo
from storage.models import IdentityLink, SpendLimitRequestPost, SpendRequestState

logger = logging.getLogger(__name__)

JOB = "spend-limit-requests"
UNAVAILABLE_KEY = "endpoint-unavailable"


def _slack_id_for(deps: Deps, session: Session, email: str | None) -> str | None:
    """The requester's Slack id: the identity link by email, else the stored Slack directory, else Slack's
    lookup by email."""
    if not email:
        return None
    link = session.exec(select(IdentityLink).where(IdentityLink.email == email)).first()
    if link is not None:
        return link.slack_user_id
    stored = repo.slack_ids_by_email(session=session, emails=[email]).get(email.lower())
    if stored is not None:
        return stored
    try:
        return deps.notifier.user_by_email(email)
    except SlackApiError:
        return None


def run_spend_limit_requests(ctx: JobContext) -> JobResult:
    """Post new pending increase requests; mark the ones resolved in the Console; settle decisions and budget
    mirrors whose outcome was never recorded."""
    result = _post_and_close(ctx)
    return result.absorb(settle_stale_claims(ctx)).absorb(reconcile(ctx, SPEND_WRITE_CHECKS))


def _post_and_close(ctx: JobContext) -> JobResult:
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
        currency=request.currency,
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
    render_root(ctx.deps, post, resolved_as=status)
    result.notes.append(f"{post.request_id} {status} elsewhere")
