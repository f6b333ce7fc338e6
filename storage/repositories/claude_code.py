"""Finished UTC days of the Claude Code report (`ClaudeCodeDayRead`, `ClaudeCodeActorDay`): written once per day,
read by every later answer. Core statements, not ORM objects: a month is tens of thousands of actor rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session

from storage.models import ClaudeCodeActorDay, ClaudeCodeDayRead

_DAYS = ClaudeCodeDayRead.__table__  # type: ignore[attr-defined]
_ACTORS = ClaudeCodeActorDay.__table__  # type: ignore[attr-defined]

# The columns of an actor row, in the order `claude_code_days` returns them.
ACTOR_COLUMNS = (
    "day",
    "actor_kind",
    "actor",
    "sessions",
    "lines_added",
    "lines_removed",
    "commits",
    "pull_requests",
    "tool_accepted",
    "tool_rejected",
    "costs",
)


def claude_code_days(*, session: Session, days: Iterable[date]) -> dict[date, tuple[datetime, list[tuple[Any, ...]]]]:
    """The stored days among `days`: day → (when it was read, its actor rows as tuples in `ACTOR_COLUMNS` order).
    A stored day with no actors is there with an empty list; a day not stored is missing."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    found: dict[date, tuple[datetime, list[tuple[Any, ...]]]] = {
        day: (read_at, [])
        for day, read_at in session.execute(select(_DAYS.c.day, _DAYS.c.read_at).where(_DAYS.c.day.in_(wanted)))
    }
    if found:
        columns = [_ACTORS.c[name] for name in ACTOR_COLUMNS]
        for row in session.execute(select(*columns).where(_ACTORS.c.day.in_(sorted(found)))):
            found[row[0]][1].append(tuple(row))
    return found


def store_claude_code_day(
    *, session: Session, day: date, read_at: datetime, actors: Sequence[Mapping[str, Any]]
) -> None:
    """Insert one finished day and its actor rows (each a mapping of `ACTOR_COLUMNS` without `day`); the caller
    commits. A day stored already (another process was first) fails on its primary key: IntegrityError."""
    session.execute(insert(_DAYS), [{"day": day, "actors": len(actors), "read_at": read_at}])
    if actors:
        session.execute(insert(_ACTORS), [{**a, "day": day} for a in actors])
    session.flush()
