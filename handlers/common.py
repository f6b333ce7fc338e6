"""Acked work: a listener's task is stored as a work item, and only then acked (pass `ack`), so whatever Slack
saw acknowledged is in the database; it runs on this process's pool (`work_inline`) or in a worker process,
and is answered through response_url (or in the channel, or by DM), whatever happens.

The store goes to the store writer (one thread, a group commit per batch) and is awaited for at most
STORE_WAIT seconds: Slack's 3-second ack deadline is hard. A store that takes longer is acked anyway; if it
then fails, the person is told through the response_url."""

from __future__ import annotations

import functools
import logging

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.core.waiting import settled_within
from bot.deps import Worker
from bot.slack.reply import Reply
from handlers.answers import Work, compute, failed
from handlers.durable import run_stored, submit_store
from handlers.tasks import Task, run_task

logger = logging.getLogger(__name__)

WORKING = "Working on it…"
# How long an ack waits for its work to be stored (then it acks anyway: the store still lands or is reported).
STORE_WAIT = 1.5


def _work(task: Task) -> Work:
    if not isinstance(task, Task):  # listeners describe their work as data, never as a closure
        raise TypeError(f"expected a Task, got {type(task).__name__}")
    return functools.partial(run_task, task=task)


async def run_for_reply(worker: Worker, task: Task) -> Reply | None:
    """Run `task` off the event loop; turn every failure into one clear sentence for the user."""
    work = _work(task)
    try:
        return await worker.run(compute, work)
    except Exception as exc:  # BotBusy, or the pool shutting down
        return failed(worker.metrics, exc)


async def _ack(ack: AsyncAck | None, working: str | None) -> None:
    if ack is None:
        return
    if working is None:
        await ack()
    else:
        await ack(text=working, response_type="ephemeral")


async def _store(
    worker: Worker,
    task: Task,
    *,
    ack: AsyncAck | None,
    working: str | None,
    user_id: str | None,
    channel_id: str | None,
    response_url: str | None,
    replace_original: bool,
) -> int:
    """Store the task, then ack (`working`: the ack's text, None for a bare ack); the item's id. A failed store
    is acked with its one sentence when the ack still can carry one, and raised."""
    _work(task)  # a Task, never a closure
    try:
        stored = worker.stored(
            submit_store,
            task,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            replace_original=replace_original,
        )
        if await settled_within(stored, STORE_WAIT):
            item_id = stored.result()
            await _ack(ack, working)
            return item_id
    except Exception as exc:
        if ack is not None and working is not None:  # the ack itself says it
            await ack(text=failed(worker.metrics, exc).text, response_type="ephemeral")
            raise _Told() from exc
        await _ack(ack, None)
        raise
    await _ack(ack, working)  # slow: ack in time; the store lands later (or its failure is told below)
    return await stored


class _Told(Exception):
    """The store failed and the ack already told the person."""


async def answer_later(
    worker: Worker,
    respond: AsyncRespond,
    task: Task,
    *,
    ack: AsyncAck | None = None,
    working: str | None = WORKING,
    replace_original: bool = True,
) -> None:
    """Store `task` as a work item, then ack (with `working`; None for a button's bare ack) when `ack` is given,
    and run it (here, or in a worker process), answering through response_url (nothing when it returns None),
    then its follow-up if the answer has one. Stored first: a process that stops leaves it for the next one."""
    _work(task)  # a Task, never a closure
    response_url = respond.response_url
    user = task.args.get("slack_user_id")
    try:
        item_id = await _store(
            worker,
            task,
            ack=ack,
            working=working,
            user_id=user if isinstance(user, str) else None,
            channel_id=None,
            response_url=response_url,
            replace_original=replace_original,
        )
    except _Told:
        return
    except Exception as exc:  # the database: nothing was stored, say so through the async path
        reply = failed(worker.metrics, exc)
        if response_url:
            await respond(text=reply.text, response_type="ephemeral", replace_original=replace_original)
        return
    if not worker.work_inline:  # a worker process claims it (woken by the store)
        return
    try:
        await worker.run(run_stored, item_id)
    except Exception as exc:  # BotBusy: it stays stored for a worker process to claim
        logger.warning("work item %s stays queued: %s", item_id, type(exc).__name__)


async def tell_later(
    worker: Worker, *, user: str | None, channel: str | None, task: Task, ack: AsyncAck | None = None
) -> None:
    """For modal submissions (no response_url): stored, then the submission acked (closing the modal), and run
    like `answer_later`, answered ephemerally in `channel`, else by DM (nobody, for `user=None`)."""
    _work(task)  # a Task, never a closure
    try:
        item_id = await _store(
            worker,
            task,
            ack=ack,
            working=None,
            user_id=user,
            channel_id=channel,
            response_url=None,
            replace_original=False,
        )
        if worker.work_inline:
            await worker.run(run_stored, item_id)
    except Exception as exc:  # the database, or BotBusy after the store (it stays queued)
        logger.warning("could not run %s now: %s", task.name, type(exc).__name__)


async def work_later(worker: Worker, task: Task) -> None:
    """For events (Bolt acked them already; nobody waits for an answer): stored and run like `tell_later`; a
    failure is logged only."""
    await tell_later(worker, user=None, channel=None, task=task)
