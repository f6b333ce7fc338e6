"""Workers: threads that claim work items, run them, answer the user, and retry or give up.

The answer goes through the item's response_url while Slack still takes it (30 minutes, 5 uses), else by DM.
An item whose run raises `Retry` is queued again with backoff; after its last attempt the user is told it was
given up and the admin channel gets one line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.webhook import WebhookClient

from bot.deps import Deps
from bot.slack.reply import Reply
from bot.work.context import running_item
from bot.work.wakeup import Wakeup
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AdminWriteState, WorkItem, WorkState

logger = logging.getLogger(__name__)

# Renewed every third of itself while an item runs: a dead worker's item is free again within a minute.
LEASE = timedelta(seconds=60)
# Slack's response_url takes answers for 30 minutes; past this age a DM is surer.
RESPONSE_URL_LIFETIME = timedelta(minutes=29)
POLL_SECONDS = 1.0
INTERRUPTED_UNSURE = (
    "I was interrupted part way through that, after asking Anthropic for a change whose outcome I couldn't see, "
    "so I did not repeat it. Within a few minutes the bot checks with Anthropic and tells you and the admins "
    "what it finds."
)
INTERRUPTED_DONE = (
    "I was interrupted part way through that, after the change at Anthropic was made, so I did not repeat it. "
    "Run the command again to see where things stand."
)
GIVEN_UP = (
    "I couldn't finish that after {attempts} tries ({why}), so I stopped. Nothing more will happen on its own; "
    "try again later, and the admins have been told."
)


class Retry(Exception):
    """Raised by a run to try the item again later; `why` is a sentence the user may see on the last try."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


Execute = Callable[[Deps, WorkItem], Reply | None]


def backoff(attempts: int) -> timedelta:
    """2, 4, 8, … seconds, at most a minute."""
    return timedelta(seconds=min(2**attempts, 60))


def deliver(
    deps: Deps,
    item: WorkItem,
    reply: Reply,
    now: datetime,
    *,
    replace_original: bool | None = None,
    response_url: bool = True,
) -> str:
    """Answer the item's user: its response_url while young enough (unless the caller tried it already:
    `response_url=False`), else ephemerally in its channel, else a DM; where it went ("response_url",
    "ephemeral", "dm", "nowhere")."""
    if response_url and item.response_url and now - item.created_at < RESPONSE_URL_LIFETIME:
        try:
            response = WebhookClient(item.response_url, timeout=10).send(
                text=reply.text,
                blocks=reply.blocks,
                response_type="ephemeral",
                replace_original=item.replace_original if replace_original is None else replace_original,
            )
            if response.status_code == 200:
                return "response_url"
            logger.info("response_url refused the answer (HTTP %s); sending a DM", response.status_code)
        except Exception as exc:
            logger.info("response_url unreachable (%s); sending a DM", type(exc).__name__)
    if not item.user_id:
        return "nowhere"
    if item.channel_id and not item.response_url:
        try:
            deps.notifier.ephemeral(item.channel_id, item.user_id, reply.text, reply.blocks)
            return "ephemeral"
        except Exception:  # not in that channel, or it is gone: a DM always reaches them
            logger.info("ephemeral answer failed; sending a DM instead")
    deps.notifier.dm(item.user_id, reply.text, reply.blocks)
    return "dm"


class WorkRunner:
    """`threads` workers in this process, each claiming one item at a time under `holder`."""

    def __init__(
        self,
        deps: Deps,
        execute: Execute,
        *,
        holder: str,
        wakeup: Wakeup,
        threads: int = 4,
        lease: timedelta = LEASE,
        poll: float = POLL_SECONDS,
        resumable: Callable[[str], bool] = lambda task: False,
    ) -> None:
        self.deps, self.execute, self.holder, self.wakeup = deps, execute, holder, wakeup
        self.size, self.lease, self.poll = threads, lease, poll
        # Tasks whose run picks up where an interrupted one stopped (each step checks before it writes); any
        # other task that a dead worker left after an Admin API write is not run again.
        self.resumable = resumable
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_hand: set[int] = set()
        self._in_hand_lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether its threads run."""
        return bool(self._threads)

    def start(self) -> WorkRunner:
        """Start the worker threads (and, on PostgreSQL, the wake-up listener)."""
        self.wakeup.listen()
        for n in range(self.size):
            thread = threading.Thread(target=self._loop, name=f"ckb-work-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        renewer = threading.Thread(target=self._renew_loop, name="ckb-work-renew", daemon=True)
        renewer.start()
        self._threads.append(renewer)
        return self

    def _renew_loop(self) -> None:
        """Keep the claims of the items in hand (a job can run longer than a lease) until they finish."""
        every = self.lease.total_seconds() / 3
        while not self._stopping.wait(every):
            self.renew()

    def renew(self) -> None:
        """Extend the claim of every item this runner is running."""
        with self._in_hand_lock:
            in_hand = sorted(self._in_hand)
        if not in_hand:
            return
        try:
            with session_scope(self.deps.engine) as session:
                now = repo.database_now(session=session)
                for item_id in in_hand:
                    repo.extend_claim(session=session, item_id=item_id, holder=self.holder, now=now, lease=self.lease)
        except Exception as exc:  # the database went away: the next round tries again
            logger.warning("could not renew work claims: %s", type(exc).__name__)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the items in hand, claim no more (unstarted items stay queued for the next start)."""
        self._stopping.set()
        self.wakeup.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception as exc:  # the database went away: wait, then try again
                logger.warning("worker could not claim work: %s", type(exc).__name__)
                self._stopping.wait(self.poll)
                continue
            if not worked:
                self.wakeup.wait(self.poll)

    def run_once(self, item_id: int | None = None) -> bool:
        """Claim and run one due item (`item_id`: that one); False when there was none (or another worker has it)."""
        with session_scope(self.deps.engine) as session:
            now = repo.database_now(session=session)
            items = repo.claim_work(session=session, holder=self.holder, now=now, lease=self.lease, item_id=item_id)
        if not items:
            return False
        item = items[0]
        assert item.id is not None
        with self._in_hand_lock:
            self._in_hand.add(item.id)
        try:
            with running_item(item.id):
                self._run(item)
        finally:
            with self._in_hand_lock:
                self._in_hand.discard(item.id)
        return True

    def _interrupted(self, item: WorkItem) -> Reply | None:
        """For an item claimed again after a worker stopped during it: what to tell its user instead of running
        it again, when that earlier run already began an Admin API write (None: nothing was written, run it)."""
        assert item.id is not None
        if item.attempts <= 1 or self.resumable(item.task):
            return None
        with session_scope(self.deps.engine) as session:
            writes = repo.writes_of_item(session=session, work_item_id=item.id)
        if any(write.state == AdminWriteState.PENDING for write in writes):
            return Reply(INTERRUPTED_UNSURE)
        if any(write.state != AdminWriteState.FAILED for write in writes):
            return Reply(INTERRUPTED_DONE)
        return None  # nothing written, or every write refused: nothing changed, so running it again is safe

    def _run(self, item: WorkItem) -> None:
        assert item.id is not None
        if item.attempts > item.max_attempts:  # claimed again after a worker died on its last attempt
            self._give_up(item, "a worker stopped while doing it")
            return
        try:
            reply = self._interrupted(item)
            if reply is None:
                reply = self.execute(self.deps, item)
            else:
                logger.warning(
                    "work item %s (%s) was interrupted after an Admin API write; not repeated", item.id, item.task
                )
        except Retry as retry:
            self._retry(item, retry.why)
            return
        except Exception as exc:  # a bug in the run: answered once, never retried
            logger.error("work item %s (%s) failed: %s", item.id, item.task, type(exc).__name__, exc_info=exc)
            self._give_up(item, "something went wrong on my side")
            return
        if reply is not None:
            try:
                deliver(self.deps, item, reply, self._now())
            except Exception as exc:  # the work is done; only the answer is lost
                logger.warning("could not answer work item %s: %s", item.id, type(exc).__name__)
        with session_scope(self.deps.engine) as session:
            if not repo.finish_work(session=session, item_id=item.id, holder=self.holder, now=self._now()):
                logger.warning("work item %s was taken over before it finished", item.id)

    def _now(self) -> datetime:
        with session_scope(self.deps.engine) as session:
            return repo.database_now(session=session)

    def _retry(self, item: WorkItem, why: str) -> None:
        assert item.id is not None
        with session_scope(self.deps.engine) as session:
            to = repo.retry_work(
                session=session,
                item_id=item.id,
                holder=self.holder,
                now=repo.database_now(session=session),
                delay=backoff(item.attempts),
                error=why,
            )
        if to == WorkState.GIVEN_UP:
            self._tell_given_up(item, why)
        else:
            self.wakeup.notify_later(backoff(item.attempts).total_seconds())

    def _give_up(self, item: WorkItem, why: str) -> None:
        assert item.id is not None
        with session_scope(self.deps.engine) as session:
            now = repo.database_now(session=session)
            repo.give_up_work(session=session, item_id=item.id, holder=self.holder, now=now, error=why)
        self._tell_given_up(item, why)

    def _tell_given_up(self, item: WorkItem, why: str) -> None:
        attempts = min(item.attempts, item.max_attempts)
        try:
            deliver(self.deps, item, Reply(GIVEN_UP.format(attempts=attempts, why=why)), self._now())
        except Exception as exc:
            logger.warning("could not tell the user work item %s was given up: %s", item.id, type(exc).__name__)
        channel = self.deps.settings.admin_channel_id
        if channel:
            who = f"<@{item.user_id}>" if item.user_id else "someone"
            line = f":warning: Gave up on `{item.task}` for {who} after {attempts} tries: {why}."
            try:
                self.deps.notifier.post(channel, line)
            except Exception as exc:
                logger.warning("could not tell the admins work item %s was given up: %s", item.id, type(exc).__name__)
