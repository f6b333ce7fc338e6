"""After the ack: store a task as a work item; it runs on this process's pool (`work_inline`) or in a worker
process, and is answered through response_url (or in the channel, or by DM), whatever happens."""

from __future__ import annotations

import functools
import logging

from slack_bolt.async_app import AsyncRespond

from bot.deps import Worker
from bot.slack.reply import Reply
from handlers.answers import Work, compute, failed
from handlers.durable import run_stored, store
from handlers.tasks import Task, run_task

logger = logging.getLogger(__name__)

WORKING = "Working on it…"


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
        reply = failed(worker.metrics, exc)
        if response_url:
            await respond(text=reply.text, response_type="ephemeral", replace_original=replace_original)
        return
    if not worker.work_inline:  # a worker process claims it (woken by the store)
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
        if worker.work_inline:
            await worker.run(run_stored, item_id)
    except Exception as exc:
        logger.warning("could not run the work of %s: %s", user, type(exc).__name__)


async def work_later(worker: Worker, task: Task) -> None:
    """For events (nobody waits for an answer): stored and run like `answer_later`; a failure is logged only."""
    _work(task)
    try:
        item_id = await worker.store(
            store, task, user_id=None, channel_id=None, response_url=None, replace_original=False
        )
        if worker.work_inline:
            await worker.run(run_stored, item_id)
    except Exception as exc:  # BotBusy after the store: a sweeper runs it once the pool has room
        logger.warning("could not run %s now: %s", task.name, type(exc).__name__)
