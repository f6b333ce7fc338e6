"""APScheduler in a background thread; each fire goes through `run_job` (lease + ledger)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from bot.jobs.runner import run_job
from bot.jobs.spec import JobSpec

logger = logging.getLogger(__name__)


def _fire(name: str, deps: Deps, registry: Mapping[str, JobSpec]) -> None:
    try:
        run_job(name, deps, registry=registry, out=lambda line: logger.info("%s: %s", name, line))
    except Exception:
        # Logged inside run_job; the scheduler must keep running the other jobs.
        logger.warning("scheduled run of %s failed", name)


def _hand_on(name: str, deps: Deps, hand_on: Callable[[str, Deps], object]) -> None:
    try:
        hand_on(name, deps)
    except Exception as exc:  # the database: the next fire tries again
        logger.warning("could not hand on the scheduled run of %s: %s", name, type(exc).__name__)


def start_scheduler(
    deps: Deps, registry: Mapping[str, JobSpec], *, hand_on: Callable[[str, Deps], object] | None = None
) -> BackgroundScheduler:
    """Schedule every job of `registry` in TIMEZONE and start the scheduler thread. Each fire runs the job here,
    or with `hand_on` only hands it on (`run` adds a work item that a worker process runs)."""
    specs = registry
    scheduler = BackgroundScheduler(timezone=deps.settings.tz)
    for spec in specs.values():
        trigger = dict(spec.trigger)
        kind = str(trigger.pop("trigger"))
        scheduler.add_job(
            _fire if hand_on is None else _hand_on,
            kind,
            args=(spec.name, deps, specs if hand_on is None else hand_on),
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            **trigger,
        )
    scheduler.start()
    logger.info("scheduler started with %d job(s)", len(scheduler.get_jobs()))
    return scheduler
