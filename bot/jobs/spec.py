"""A job's name, schedule and function (the registry in `bot/registry.py` lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.context import JobFn


@dataclass(frozen=True)
class JobSpec:
    """A job's name, one-line description, human schedule, APScheduler trigger and function."""

    name: str
    description: str
    schedule: str
    trigger: dict[str, object]
    target: JobFn
