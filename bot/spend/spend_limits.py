"""Spend-limit increase requests: post them, approve with an amount, deny.

Members of an Enterprise org ask Anthropic for a higher spend limit; the `spend-limit-requests` job posts
each new pending request to the admin channel once (ledger key `posted:<id>`), with Approve (amount in a
modal) and Deny. A decision is claimed with a conditional update (`… WHERE state IN ('pending','failed')`),
so a double click, two admins or two replicas act once; then the API is called, the thread gets a reply,
the root message loses its buttons and the requester is DM'd. The claim is the decision's intent row: one
whose outcome was never recorded (a kill, no clear answer from the API) is checked against the API by the job
(`bot/spend/spend_limit_job.py`) a few minutes later. On a Console org the endpoint is unavailable: the job
logs that once (ledger key `endpoint-unavailable`) and stays quiet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal
from typing import Literal, TypeVar

from slack_sdk.errors import SlackApiError

from bot.anthropic_admin import AdminAPIError, IncreaseRequest
from bot.core.errors import UserError
from bot.deps import Deps
from bot.identity import Actor, resolve_admin
from bot.jobs.context import JobContext, JobResult
from bot.slack.notifier import Posted
from bot.spend import blocks_spend_limits
from bot.spend.model import SpendDecision, SpendRequestCard
from bot.writes import CHECK_WITHIN, Intent, Outcome, note, uncertain
from storage import repositories as repo
from storage.db import session_scope
from storage.models import SpendLimitRequestPost, SpendRequestState

logger = logging.getLogger(__name__)

OPEN_STATES = (SpendRequestState.PENDING, SpendRequestState.FAILED)
# A decision's claim: the API call is in flight, or it was interrupted (then `settle_stale_claims` checks it).
CLAIMED_STATES = (SpendRequestState.APPROVING, SpendRequestState.DENYING)
Verb = Literal["approve", "deny"]
CLAIMS: dict[Verb, SpendRequestState] = {"approve": SpendRequestState.APPROVING, "deny": SpendRequestState.DENYING}
STALE_CLAIM = timedelta(minutes=5)
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
        currency=post.currency or "USD",
    )


def _best_effort(what: str, fn: Callable[[], T]) -> T | None:
    """Slack calls after a decision: the decision stands whatever Slack says (an error, a timeout)."""
    try:
        return fn()
    except SlackApiError as exc:
        logger.warning("could not %s: %s", what, exc.response.get("error"))
    except Exception as exc:
        logger.warning("could not %s: %s", what, type(exc).__name__)
    return None


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


def _claim(
    deps: Deps, slack_user_id: str, request_id: str, to: SpendRequestState, now: datetime, amount: Decimal | None
) -> Actor:
    """Check the decider and move the request from pending or failed to `to`, recording who decided and the
    amount (the claim is the decision's intent row); UserError when someone was first."""
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        actor = _decider(deps, slack_user_id, post)
        assert post is not None
        before = repo.transition(
            session=session,
            table=SpendLimitRequestPost,
            key=request_id,
            from_states=OPEN_STATES,
            to=to,
            now=now,
            decided_by_slack_id=actor.slack_user_id,
            approved_amount_usd=amount,
        )
        if before is None:
            session.refresh(post)
            if post.state in CLAIMED_STATES:
                raise UserError(
                    f"Another decision on that request is still being made (it is {post.state}); if it doesn't "
                    f"finish, I'll check it with Anthropic {CHECK_WITHIN}."
                )
            raise UserError(f"That request was already handled (it is {post.state}).")
    return actor


def _decide(
    deps: Deps, slack_user_id: str, request_id: str, verb: Verb, amount: Decimal | None, call: Callable[[], object]
) -> SpendDecision:
    now = deps.clock()
    actor = _claim(deps, slack_user_id, request_id, CLAIMS[verb], now, amount)
    phrase = f"approve spend-limit request {request_id} at ${amount}" if verb == "approve" else f"deny {request_id}"
    intent = Intent("spend_limit.decision", request_id, phrase, actor_slack_id=actor.slack_user_id)
    try:
        call()
    except Exception as exc:
        if uncertain(exc):  # it may have happened: stays claimed; spend-limit-requests checks it with the API
            note(intent, Outcome.UNKNOWN)
            raise
        assert isinstance(exc, AdminAPIError)
        return _failed(deps, request_id, actor, verb, exc)
    change = note(intent, Outcome.UNRECORDED)
    post = _record(deps, request_id, verb, actor.slack_user_id, actor.anthropic_user_id, amount, now, detail=None)
    change.outcome = Outcome.RECORDED
    decision = SpendDecision(verb, actor.slack_user_id, post.period, amount=amount, currency=post.currency or "USD")
    _announce(deps, post, decision)
    return decision


def approve(deps: Deps, slack_user_id: str, request_id: str, amount: Decimal) -> SpendDecision:
    """Approve an increase request at `amount` dollars a period (whole cents)."""
    call = lambda: deps.admin.approve_increase_request(request_id, amount_usd=amount)  # noqa: E731
    return _decide(deps, slack_user_id, request_id, "approve", amount, call)


def deny(deps: Deps, slack_user_id: str, request_id: str) -> SpendDecision:
    """Deny an increase request."""
    return _decide(deps, slack_user_id, request_id, "deny", None, lambda: deps.admin.deny_increase_request(request_id))


def _record(
    deps: Deps,
    request_id: str,
    verb: Verb,
    by_slack_id: str | None,
    by_anthropic_id: str | None,
    amount: Decimal | None,
    now: datetime,
    *,
    detail: str | None,
) -> SpendLimitRequestPost:
    """The decision Anthropic accepted: state, who and when, and its audit row."""
    state = SpendRequestState.APPROVED if verb == "approve" else SpendRequestState.DENIED
    after: dict[str, str] = {"state": str(state)}
    if amount is not None:
        after["amount_usd"] = str(amount)
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        post.state, post.decided_by_slack_id, post.decided_at = state, by_slack_id, now
        post.approved_amount_usd, post.updated_at, post.last_error = amount, now, None
        repo.append_audit(
            session=session,
            action=f"spend_request.{state}",
            subject_type="spend_limit_request",
            subject_id=request_id,
            actor_slack_id=by_slack_id,
            actor_anthropic_id=by_anthropic_id,
            before={"state": "pending"},
            after=after,
            detail=detail,
            at=now,
        )
    return post


def _failed(deps: Deps, request_id: str, actor: Actor, verb: str, exc: AdminAPIError) -> SpendDecision:
    """The API refused: the request is `failed` (buttons stay, so it can be tried again) and the thread says why."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        post = session.get(SpendLimitRequestPost, request_id)
        assert post is not None
        post.state, post.last_error, post.updated_at = SpendRequestState.FAILED, exc.user_message, now
        post.decided_by_slack_id, post.approved_amount_usd = None, None
        repo.append_audit(
            session=session,
            action=f"spend_request.{verb}_failed",
            subject_type="spend_limit_request",
            subject_id=request_id,
            actor_slack_id=actor.slack_user_id,
            detail=exc.user_message,
            at=now,
        )
    decision = SpendDecision(
        verb, actor.slack_user_id, post.period, error=exc.user_message, currency=post.currency or "USD"
    )
    _announce(deps, post, decision)
    return decision


def _announce(deps: Deps, post: SpendLimitRequestPost, decision: SpendDecision) -> None:
    """Thread reply, root message re-rendered, requester DM'd (each best effort: the decision stands)."""
    if post.channel_id and post.message_ts:
        channel, ts = post.channel_id, post.message_ts
        line = blocks_spend_limits.decision_thread_line(decision)
        _best_effort("reply in the thread", lambda: deps.notifier.post(channel, line, thread_ts=ts))
    render_root(deps, post)
    dm = blocks_spend_limits.decision_dm(decision)
    if dm and post.requester_slack_id:
        slack_id = post.requester_slack_id
        _best_effort("DM the requester", lambda: deps.notifier.dm(slack_id, dm))


def render_root(deps: Deps, post: SpendLimitRequestPost, *, resolved_as: str | None = None) -> None:
    """Re-render the request's admin-channel message from its row (best effort)."""
    if not (post.channel_id and post.message_ts):
        return
    message = blocks_spend_limits.spend_request_card(card(post, deps.settings.tz, resolved_as=resolved_as))
    target = Posted(post.channel_id, post.message_ts)
    _best_effort("update the request message", lambda: deps.notifier.update(target, message.text, message.blocks))


# --------------------------------------------------------------------------------------------------
# Claims whose outcome was never recorded (a crash, a kill, no clear answer from the API)
# --------------------------------------------------------------------------------------------------


def settle_stale_claims(ctx: JobContext) -> JobResult:
    """Claims older than `STALE_CLAIM` are checked against the API: decided there → recorded and announced;
    still pending → back to `failed` with the buttons, and the thread says the decision didn't go through."""
    result = JobResult()
    stale = [
        p
        for p in repo.spend_requests_in(session=ctx.session, states=CLAIMED_STATES)
        if p.updated_at <= ctx.now - STALE_CLAIM
    ]
    if not stale:
        return result
    if ctx.dry_run:
        for post in stale:
            ctx.out(f"would check the interrupted {post.state} of {post.request_id} with Anthropic")
        return result
    try:
        found = {r.id: r for r in ctx.deps.admin.list_increase_requests(None)}
    except AdminAPIError as exc:
        result.errors.append(f"interrupted decisions: {exc.user_message}")
        return result
    for post in stale:
        try:
            _settle(ctx, post, found.get(post.request_id), result)
        except Exception as exc:  # one request's failure never stops the others
            ctx.item_failed(result, post.request_id, exc)
    return result


def _settle(ctx: JobContext, post: SpendLimitRequestPost, found: IncreaseRequest | None, result: JobResult) -> None:
    deps, claimed = ctx.deps, SpendRequestState(post.state)
    verb: Verb = "approve" if claimed == SpendRequestState.APPROVING else "deny"
    status = found.status if found is not None else "withdrawn"
    expected = "approved" if verb == "approve" else "denied"
    if status == expected:
        recorded = _record(
            deps,
            post.request_id,
            verb,
            post.decided_by_slack_id,
            None,
            post.approved_amount_usd if verb == "approve" else None,
            ctx.now,
            detail="recorded by spend-limit-requests: the decision's outcome was never recorded",
        )
        decision = SpendDecision(
            verb,
            post.decided_by_slack_id,
            recorded.period,
            amount=recorded.approved_amount_usd,
            currency=recorded.currency or "USD",
        )
        _announce(deps, recorded, decision)
        result.notes.append(f"{post.request_id}: {status} (recorded now)")
        result.sent += 1
        return
    error = f"The {verb} didn't go through (it was interrupted); Anthropic says the request is {status}."
    moved = repo.transition(
        session=ctx.session,
        table=SpendLimitRequestPost,
        key=post.request_id,
        from_states=[claimed],
        to=SpendRequestState.FAILED if status == "pending" else SpendRequestState.RESOLVED_ELSEWHERE,
        now=ctx.now,
        last_error=error if status == "pending" else status,
        decided_by_slack_id=None,
        approved_amount_usd=None,
    )
    ctx.session.commit()
    if moved is None:
        return
    ctx.session.refresh(post)
    if post.channel_id and post.message_ts:
        channel, ts = post.channel_id, post.message_ts
        _best_effort("reply in the thread", lambda: deps.notifier.post(channel, error, thread_ts=ts))
    render_root(deps, post, resolved_as=None if status == "pending" else status)
    result.notes.append(f"{post.request_id}: interrupted {verb}, {status}")
    result.sent += 1
