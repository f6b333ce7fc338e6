"""Dependencies built once per process and handed to `create_app` and the jobs."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.anthropic_admin import Workspace
from bot.anthropic_admin.lazy import lazy_gateway
from bot.config import Settings
from bot.core.cache import TTLCache
from bot.core.clock import Clock, utc_now
from bot.core.errors import DB_UNAVAILABLE, BotError, UserError
from bot.metrics import Metrics
from bot.slack.client import make_web_client
from bot.slack.notifier import Notifier
from storage.db import make_engine

if TYPE_CHECKING:
    from bot.anthropic_admin import AdminGateway

T = TypeVar("T")
P = ParamSpec("P")

# Work after an ack (Admin API, database, Slack posts) runs on these threads, never on the event loop.
WORKER_THREADS = 32
# Admin API calls of one answer run side by side (cost and tokens, two halves of "me") on a pool of their own:
# the callers already run on the worker pool, and borrowing from it could starve it under a burst.
FANOUT_THREADS = 16
MAX_QUEUED_WORK = 500
# Slack's 3 s ack deadline is hard, the answer's latency is not.
ACK_FIRST_DELAY = 0.05
BUSY = "I'm very busy right now and couldn't get to that; nothing was changed. Please try again in a minute."


class BotBusy(UserError):
    """The worker queue is full."""


class DatabaseUnavailable(BotError):
    """The bot's database could not be reached (the connection failed, not our SQL)."""


def as_user_facing(exc: BaseException) -> BaseException:
    """A database outage as the error its users see (`DatabaseUnavailable`); any other exception unchanged."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DatabaseUnavailable(DB_UNAVAILABLE)
    return exc


@dataclass
class Deps:
    """Everything listeners, services and jobs need; tests build one pointing at stand-ins."""

    settings: Settings
    engine: Engine
    slack: WebClient
    admin: AdminGateway
    clock: Clock = utc_now
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="ckb-work")
    )
    # This app's own registry (GET /metrics); build_deps also feeds it the Admin API calls.
    metrics: Metrics = field(default_factory=Metrics)
    # Called by `close` first, newest first (what the app started on these deps: the work sweeper).
    closers: list[Callable[[], None]] = field(default_factory=list)
    # Admin API answers for a few minutes (reports, the workspace list): one cache, owned here, not in globals.
    cache: TTLCache = field(default_factory=TTLCache)
    fanout: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=FANOUT_THREADS, thread_name_prefix="ckb-usage")
    )
    # Whether this process runs the work it stores (on its own pool, at once) or leaves every item to worker
    # processes (`claude-key-bot run` does: its WORKERS children, or workers elsewhere, claim them).
    work_inline: bool = True

    def workspaces(self) -> list[Workspace]:
        """The org's active workspaces by name, cached briefly: forms, parsers and reports all need them."""
        return self.cache.get_or_load(
            ("workspaces",), self.clock(), lambda: sorted(self.admin.list_workspaces(), key=lambda w: w.name.lower())
        )

    @functools.cached_property
    def notifier(self) -> Notifier:
        """Slack posting for services and jobs (one per process: it caches the workspace URL)."""
        return Notifier(self.slack)

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking work on the worker pool from a listener, after its ack; refuse when far behind."""
        # A burst beyond what the pool can work off soon gets a clear "busy" instead of a late answer and an
        # ever-growing heap (the queue holds every waiting request's payload).
        if self.executor._work_queue.qsize() >= MAX_QUEUED_WORK:
            raise BotBusy(BUSY)
        # Acks first: during a burst, pending requests are read and acked before this work starts competing
        # with the event loop for the GIL (bench/ack_latency.py: p99 at 50 concurrent 80 ms → 33 ms).
        await asyncio.sleep(ACK_FIRST_DELAY)
        loop = asyncio.get_running_loop()
        # The request's context (its request id for the logs, its labels for the metrics) goes with the work.
        context = contextvars.copy_context()
        return await loop.run_in_executor(self.executor, functools.partial(context.run, fn, *args, **kwargs))

    def close(self) -> None:
        """Release threads, connections and HTTP clients (running work finishes first; queued work is dropped;
        `closers`, such as the work sweeper and the store writer, which stores what it was handed, stop first)."""
        for closer in reversed(self.closers):
            closer()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.fanout.shutdown(wait=True, cancel_futures=True)
        self.admin.close()
        self.engine.dispose()


class Worker:
    """What a listener may use: settings, metrics, the notifier, and `run` for work after the ack. The work
    runs on a worker thread and is handed the full `Deps`; the listener itself never holds the engine or the
    Admin API gateway."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    @property
    def settings(self) -> Settings:
        """The bot's settings."""
        return self._deps.settings

    @property
    def metrics(self) -> Metrics:
        """This app's metrics registry."""
        return self._deps.metrics

    @property
    def notifier(self) -> Notifier:
        """Slack posting (sync: call it from work run through `run`)."""
        return self._deps.notifier

    @property
    def work_inline(self) -> bool:
        """Whether stored work runs in this process (False: worker processes claim it)."""
        return self._deps.work_inline

    def stored(
        self, submit: Callable[Concatenate[Deps, P], asyncio.Future[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> asyncio.Future[T]:
        """`submit(deps, *args, **kwargs)`: a quick call on the event loop that hands a store to the store
        writer's thread and returns its future (the item's id once its row is committed)."""
        return submit(self._deps, *args, **kwargs)

    async def run(self, fn: Callable[Concatenate[Deps, P], T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(deps, *args, **kwargs)` on the worker pool, after the ack; refused when far behind."""
        return await self._deps.run(fn, self._deps, *args, **kwargs)


def build_deps(settings: Settings) -> Deps:
    """Build the real dependencies from settings (no network calls here)."""
    if settings.anthropic_admin_key is None:
        raise ValueError("ANTHROPIC_ADMIN_KEY is required")
    metrics = Metrics()
    return Deps(
        settings=settings,
        engine=make_engine(settings.database_url, pool_size=WORKER_THREADS),
        slack=make_web_client(settings),
        admin=lazy_gateway(
            api_key=settings.anthropic_admin_key,
            base_url=settings.anthropic_base_url,
            on_call=metrics.observe_admin_call,
            org_type=settings.anthropic_org_type,
        ),
        metrics=metrics,
    )
