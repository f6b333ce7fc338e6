"""APScheduler in a background thread; each fire goes through `run_job` (lease + ledger)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

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


def start_scheduler(deps: Deps, registry: Mapping[str, JobSpec]) -> BackgroundScheduler:
    """Schedule every job of `registry` in TIMEZONE and start the scheduler thread."""
    specs = registry
    scheduler = BackgroundScheduler(timezone=deps.settings.tz)
    for spec in specs.values():
        trigger = dict(spec.trigger)
        kind = str(trigger.pop("trigger"))
        scheduler.add_job(
            _fire,
            kind,
            args=(spec.name, deps, specs),
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
