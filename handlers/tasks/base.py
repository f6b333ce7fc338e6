"""Tasks: the work listeners hand on after the ack, as data (a name and JSON arguments), and `run_task`.

A listener builds a `Task`; `handlers.common` stores it and a worker runs it. `task` registers a function under a
name (the other modules of this package hold the functions). Because a task is only a name and JSON, it can be
stored and run by another process. Names are stable: never rename one, add a new name. Nothing here imports
Bolt or asyncio, so a worker process can import it alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from bot.deps import Deps
from bot.slack.reply import Reply

# rate limits

logger = logging.getLogger(__name__)

JSON: TypeAlias = "str | int | bool | list[JSON] | dict[str, JSON] | None"


class TaskError(ValueError):
    """A task that cannot be built or run: an argument JSON cannot hold, or a name nothing registered."""


_SCALARS = (str, int, bool, type(None))


def _not_json(value: object) -> tuple[str, str] | None:
    """The first value in `value` JSON cannot hold: its path below `value` ("", ".key", "[0].key") and what it is,
    the path built only when there is one; None when it is all JSON."""
    kind = type(value)
    if kind in _SCALARS or isinstance(value, str | int):  # bool is an int; a StrEnum is a str
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if type(item) not in _SCALARS and (found := _not_json(item)) is not None:
                return f"[{i}]{found[0]}", found[1]
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                return "", f"dict with a key that is not a string ({type(key).__name__})"
            if type(item) not in _SCALARS and (found := _not_json(item)) is not None:
                return f".{key}{found[0]}", found[1]
        return None
    return "", kind.__name__


def _check_json(value: object, where: str) -> None:
    found = _not_json(value)
    if found is not None:
        path, kind = found
        raise TaskError(f"{where}{path} is a {kind}; a task argument is JSON only (str, int, bool, None, list, dict)")


@dataclass(frozen=True)
class Task:
    """One piece of after-ack work: a registered name and the JSON arguments its function is called with."""

    name: str
    args: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TaskError("a task needs a name")
        if not isinstance(self.args, dict):
            raise TaskError(f"task {self.name!r}: args must be a dict")
        _check_json(self.args, f"task {self.name!r} args")

    def to_json(self) -> str:
        """The task as one JSON document (what a queue stores)."""
        return json.dumps({"name": self.name, "args": self.args}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Task:
        """The task `to_json` wrote."""
        data = json.loads(text)
        return cls(name=data["name"], args=data["args"])


@dataclass(frozen=True)
class FollowedReply(Reply):
    """An answer with more work that runs after it went out (its reply, if any, is added, never replacing)."""

    follow_up: Task | None = None


TaskFn = Callable[..., Reply | None]
TASKS: dict[str, TaskFn] = {}


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        if name in TASKS:
            raise ValueError(f"task {name!r} is registered twice")
        TASKS[name] = fn
        return fn

    return register


# Tasks whose run picks up where an interrupted run stopped (each step checks Anthropic before it writes), so a
# worker may run them again after another worker died part way; any other task is never run twice once it
# began an Admin API write.
RESUMABLE = frozenset({"team.offboard.run"})


def resumable(name: str) -> bool:
    """Whether a task may run again after an interrupted run that began an Admin API write."""
    return name in RESUMABLE


def run_task(deps: Deps, task: Task) -> Reply | None:
    """Run a task's function with its arguments; an unknown name is a clear error."""
    fn = TASKS.get(task.name)
    if fn is None:
        raise TaskError(f"no task is registered as {task.name!r}")
    return fn(deps, **task.args)
