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
from handlers.durable import run_stored, store
from handlers.tasks import Task, run_task

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


def _post_to_response_url(response_url: str, reply: Reply, *, replace_original: bool) -> bool:
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
        return False
    return True


def answered_ok(deps: Deps) -> None:
    """Count (and log) work that answered without a failure."""
    deps.metrics.observe_interaction(OK)
    logger.debug("answered: %s", OK)


def compute_reply(deps: Deps, exc: BaseException) -> Reply:
    """The answer (and the metrics outcome) for work that failed with `exc`."""
    return _failed(deps.metrics, exc)


def post_answer(response_url: str, reply: Reply, *, replace_original: bool) -> bool:
    """Answer through `response_url` (text alone when the blocks are refused); False when it didn't take it."""
    try:
        return _post_to_response_url(response_url, reply, replace_original=replace_original)
    except Exception as exc:
        logger.info("could not answer through response_url: %s", type(exc).__name__)
        return False


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
    """Store `task` as a work item and run it on a worker thread, answering through response_url (nothing when
    it returns None), then its follow-up if the answer has one. Stored first: a process that stops before it
    runs leaves it for the next one."""
    response_url = respond.response_url
    _work(task)  # a Task, never a closure
    user = task.args.get("slack_user_id")

    try:
        item_id = await worker.store(
            store,
            task,
            user_id=user if isinstance(user, str) else None,
            channel_id=None,
            response_url=response_url,
            replace_original=replace_original,
        )
    except Exception as exc:  # the database: nothing was stored, say so through the async path
        reply = _failed(worker.metrics, exc)
        if response_url:
            await respond(text=reply.text, response_type="ephemeral", replace_original=replace_original)
        return
    try:
        await worker.run(run_stored, item_id)
    except Exception as exc:  # BotBusy: stored, so a sweeper runs it once the pool has room
        logger.warning("work item %s waits for a sweeper: %s", item_id, type(exc).__name__)


async def tell_later(worker: Worker, *, user: str, channel: str | None, task: Task) -> None:
    """For modal submissions (no response_url): stored and run like `answer_later`, answered ephemerally in
    `channel`, else by DM."""
    _work(task)
    try:
        item_id = await worker.store(
            store, task, user_id=user, channel_id=channel, response_url=None, replace_original=False
        )
        await worker.run(run_stored, item_id)
    except Exception as exc:
        logger.warning("could not run the work of %s: %s", user, type(exc).__name__)
