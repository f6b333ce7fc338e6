"""Acked work through the work-item queue: stored before it runs, so nothing acked is lost on a restart.

A listener's task is stored (committed) by the store writer before its ack (`submit_store`); a worker process
claims the item (`bot.worker`), or, in one process (`work_inline`, the tests), `run_stored` runs it at once.
Running an item computes its answer the way every command is answered (`handlers.answers`), retries transient
failures with backoff while no Admin API write was made (`execute_item`), and answers through the
response_url while Slack still takes it, else by DM.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from bot.deps import DatabaseUnavailable, Deps, as_user_facing
from bot.jobs.lease import holder_id
from bot.slack.reply import Reply
from bot.work import Retry, WorkRunner, deliver, wakeup_for
from bot.work.queue import NewItem, StoreWriter
from bot.work.runner import RESPONSE_URL_LIFETIME
from handlers.answers import compute, post_answer
from handlers.tasks import FollowedReply, Task, run_task

logger = logging.getLogger(__name__)


def runner_for(deps: Deps) -> WorkRunner:
    """A runner on `deps` for an item this process stored and runs at once (`work_inline`; cheap: no threads)."""
    return WorkRunner(deps, execute_now, holder=holder_id(), wakeup=wakeup_for(deps.engine), threads=1)


def _transient(exc: BaseException) -> bool:
    """Worth running again later: an Admin API error marked retryable, or the bot's database unreachable."""
    exc = as_user_facing(exc)
    return isinstance(exc, DatabaseUnavailable) or bool(getattr(exc, "retryable", False))


def _answer(deps: Deps, item: Any, reply: Reply, *, replace_original: bool | None = None) -> None:
    """Through the response_url while Slack takes it (with the text fallback), else in the channel or by DM."""
    age = datetime.now(UTC) - item.created_at
    if item.response_url and age < RESPONSE_URL_LIFETIME:
        replace = item.replace_original if replace_original is None else replace_original
        if post_answer(item.response_url, reply, replace_original=replace):
            return
    deliver(deps, item, reply, datetime.now(UTC), replace_original=replace_original, response_url=False)


def execute_now(deps: Deps, item: Any) -> Reply | None:
    """Run an item just stored, while its person waits: any failure is answered at once in a sentence (the
    transport already retried), as every command is."""
    return _execute(deps, item, retry=False)


def execute_item(deps: Deps, item: Any) -> Reply | None:
    """Run an item in a worker process: a transient failure is tried again later with backoff
    while nothing was written."""
    return _execute(deps, item, retry=True)


def _execute(deps: Deps, item: Any, *, retry: bool) -> Reply | None:
    task = Task(item.task, json.loads(item.args))
    again = (lambda exc: _transient(exc) and item.attempts < item.max_attempts) if retry else None
    try:
        reply = compute(deps, functools.partial(run_task, task=task), retry=again)
    except Exception as exc:  # accepted by `again`: nothing was written, run it later
        raise Retry(getattr(as_user_facing(exc), "user_message", type(exc).__name__)) from exc
    if reply is None:
        return None
    _answer(deps, item, reply)
    if isinstance(reply, FollowedReply) and reply.follow_up is not None:
        try:
            extra = run_task(deps, reply.follow_up)
        except Exception as exc:  # the answer is out already; a follow-up's failure only costs the extra
            logger.warning("follow-up %s failed: %s", reply.follow_up.name, type(exc).__name__, exc_info=exc)
            return None
        if extra is not None:
            _answer(deps, item, extra, replace_original=False)
    return None


_WRITERS: dict[int, StoreWriter] = {}
_WRITERS_LOCK = threading.Lock()


def _writer(deps: Deps) -> StoreWriter:
    """The store writer of `deps` (made on first use; closed, storing what it holds, when `deps` closes)."""
    found = _WRITERS.get(id(deps))  # every ack asks: read without the lock, which only making one needs
    if found is not None and found.engine is deps.engine:
        return found
    with _WRITERS_LOCK:
        found = _WRITERS.get(id(deps))
        if found is None or found.engine is not deps.engine:
            writer = found = _WRITERS[id(deps)] = StoreWriter(deps.engine, wakeup_for(deps.engine))
            key = id(deps)

            def close() -> None:
                writer.close()
                with _WRITERS_LOCK:
                    if _WRITERS.get(key) is writer:
                        del _WRITERS[key]

            deps.closers.append(close)
        return found


def submit_store(
    deps: Deps,
    task: Task,
    *,
    user_id: str | None,
    channel_id: str | None,
    response_url: str | None,
    replace_original: bool,
) -> asyncio.Future[int]:
    """Hand the task to the store writer (returns at once; call it on the event loop); the future gives its
    item's id once committed."""
    item = NewItem(task.name, dict(task.args), user_id, channel_id, response_url, replace_original)
    return _writer(deps).submit(item)


def run_stored(deps: Deps, item_id: int) -> None:
    """Run the stored item here (nothing when another worker has it already)."""
    runner_for(deps).run_once(item_id)
