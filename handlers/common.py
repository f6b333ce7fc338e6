"""After the ack: run a task on the worker pool and answer through response_url, whatever happens."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.core.errors import SORRY, BotError
from bot.deps import DatabaseUnavailable, Deps, Worker, as_user_facing
from bot.metrics import ERROR, OK, REFUSED, Metrics
from bot.slack.reply import Reply
from bot.writes import explain, unit_of_work
from handlers.tasks import FollowedReply, Task, run_task

logger = logging.getLogger(__name__)

WORKING = "Working on it…"


def reply_for(exc: BaseException) -> Reply:
    """The one sentence a user sees for a failure (the one place errors become words)."""
    exc = as_user_facing(exc)
    if isinstance(exc, DatabaseUnavailable):
        logger.warning("database unavailable while answering a command")
    if isinstance(exc, BotError):
        return Reply(exc.user_message)
    logger.error("command failed: %s", type(exc).__name__, exc_info=exc)
    return Reply(SORRY)


def outcome_of(exc: BaseException | None) -> str:
    """The metrics outcome: ok, refused (the user was told no: a role, a state, bad input), or error."""
    if exc is None:
        return OK
    exc = as_user_facing(exc)
    if isinstance(exc, BotError) and exc.refused:
        return REFUSED
    return ERROR


Work = Callable[[Deps], Reply | None]


def _failed(metrics: Metrics, exc: BaseException) -> Reply:
    outcome = outcome_of(exc)
    metrics.observe_interaction(outcome)
    logger.debug("answered: %s", outcome)
    return reply_for(exc)


def _compute(deps: Deps, work: Work) -> Reply | None:
    with unit_of_work() as changes:
        try:
            reply = work(deps)
        except Exception as exc:
            answer = _failed(deps.metrics, exc)
            # Once an Admin API write may have happened, "nothing was changed" would be a lie: say what is known.
            known = explain(changes)
            return answer if known is None else Reply(known)
    deps.metrics.observe_interaction(OK)
    logger.debug("answered: %s", OK)
    return reply


def _work(task: Task) -> Work:
    if not isinstance(task, Task):  # listeners describe their work as data, never as a closure
        raise TypeError(f"expected a Task, got {type(task).__name__}")
    return functools.partial(run_task, task=task)


async def run_for_reply(worker: Worker, task: Task) -> Reply | None:
    """Run `task` off the event loop; turn every failure into one clear sentence for the user."""
    work = _work(task)
    try:
        return await worker.run(_compute, work)
    except Exception as exc:  # BotBusy, or the pool shutting down
        return _failed(worker.metrics, exc)


def _post_to_response_url(response_url: str, reply: Reply, *, replace_original: bool) -> None:
    # Sync client on the worker thread: the event loop is left to acks alone (bench/ack_latency.py).
    client = WebhookClient(response_url, timeout=10)

    def send(blocks: list[Block] | None) -> WebhookResponse:
        return client.send(text=reply.text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)

    try:
        response = send(reply.blocks)
        if response.status_code == 400 and reply.blocks:  # Slack refused the blocks (invalid_blocks)
            logger.warning("response_url refused an answer's blocks: %s; sending its text alone", response.body[:100])
            response = send(None)
    except SlackObjectFormationError:  # slack_sdk refused the blocks before sending: the text alone still goes
        logger.warning("an answer's blocks were refused (SlackObjectFormationError); sending its text alone")
        response = send(None)
    if response.status_code != 200:
        logger.warning("response_url refused the answer: HTTP %s %s", response.status_code, response.body[:100])


def _answer(response_url: str | None, reply: Reply | None, *, replace_original: bool) -> None:
    if reply is None or not response_url:
        return
    try:
        _post_to_response_url(response_url, reply, replace_original=replace_original)
    except Exception as exc:  # an unreachable response_url: the work is done, only the answer is lost
        logger.warning("could not answer through response_url: %s", type(exc).__name__)


def _follow_up(deps: Deps, task: Task, response_url: str | None) -> None:
    try:
        reply = run_task(deps, task)
    except Exception as exc:  # the answer is out already; a follow-up's failure only costs the extra
        logger.warning("follow-up %s failed: %s", task.name, type(exc).__name__, exc_info=exc)
        return
    _answer(response_url, reply, replace_original=False)


async def answer_later(worker: Worker, respond: AsyncRespond, task: Task, *, replace_original: bool = True) -> None:
    """Run `task` after the ack and answer through response_url (nothing when it returns None), then its
    follow-up if the answer has one, all on a worker thread."""
    response_url = respond.response_url
    work = _work(task)

    def work_and_answer(deps: Deps) -> None:
        reply = _compute(deps, work)
        _answer(response_url, reply, replace_original=replace_original)
        if isinstance(reply, FollowedReply) and reply.follow_up is not None:
            _follow_up(deps, reply.follow_up, response_url)

    try:
        await worker.run(work_and_answer)
    except Exception as exc:  # BotBusy: say so through the async path, the pool is full
        reply = _failed(worker.metrics, exc)
        if response_url:
            await respond(text=reply.text, response_type="ephemeral", replace_original=replace_original)


async def tell_later(worker: Worker, *, user: str, channel: str | None, task: Task) -> None:
    """For modal submissions (no response_url): answer ephemerally in `channel`, else by DM."""
    reply = await run_for_reply(worker, task)
    if reply is None:
        return

    def deliver(deps: Deps, reply: Reply) -> None:
        if channel:
            try:
                deps.notifier.ephemeral(channel, user, reply.text, reply.blocks)
                return
            except Exception:  # not in that channel, or it is gone: a DM always reaches them
                logger.info("ephemeral answer failed; sending a DM instead")
        deps.notifier.dm(user, reply.text, reply.blocks)

    try:
        await worker.run(deliver, reply)
    except Exception as exc:
        logger.warning("could not deliver an answer to %s: %s", user, type(exc).__name__)
