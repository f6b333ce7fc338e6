"""A Claude Code report day as the answers use it (one sum per actor), and finished days kept in the database.

`DayTotals` is what `bot/spend/claude_code.py` aggregates: per actor (a person by lower-cased email, an API key
by name) the day's counts and its estimated cost per (currency, model) with how many model uses made it up (the
report's currency is the one most uses are in). A day read from the Admin API is summed into one; a finished day
(past the report's lag, `day_is_final`) is then stored, once, in `claude_code_day` / `claude_code_actor_day`, and
read back from there by later answers in any process: a restart or another worker only asks the API for the days
that can still change. Money is exact: Decimal sums, stored as Decimal strings. Database work happens outside any
Admin API call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError

from bot.anthropic_admin import ClaudeCodeDay
from bot.deps import Deps
from bot.spend.analytics import cached, fan_out
from storage import repositories as repo
from storage.db import session_scope

log = logging.getLogger(__name__)

# A past UTC day's report is final once the report's lag has passed (the docs: activity shows within about an
# hour): such a day is stored and kept in memory for hours; today and the hours after midnight are read again soon.
FINAL_AFTER = timedelta(hours=6)  # after the day's end
DEFAULT_CURRENCY = "USD"


def day_is_final(day: date, now: datetime) -> bool:
    """Whether a UTC day's Claude Code report can't change any more."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return now.astimezone(UTC) >= end + FINAL_AFTER


Cost = tuple[str, str, Decimal, int]  # (CURRENCY upper-cased, model, dollars, model uses summed)


class ActorDay(NamedTuple):
    """One actor's sums on one UTC day: `kind` "user" (actor: email, "" when the record named none) or
    "api_key" (actor: the key's name). A named tuple: a 30-day report of 2,000 people reads some 60,000 of them
    back from the database, and a tuple is built several times faster than a frozen dataclass."""

    kind: str
    actor: str
    sessions: int
    lines_added: int
    lines_removed: int
    commits: int
    pull_requests: int
    tool_accepted: int
    tool_rejected: int
    costs: tuple[Cost, ...]


@dataclass(frozen=True, slots=True)
class DayTotals:
    """Every actor's sums on one UTC day, and when the day was read from the Admin API."""

    day: date
    actors: tuple[ActorDay, ...]
    read_at: datetime


def summed(report: ClaudeCodeDay, read_at: datetime) -> DayTotals:
    """A day's records summed per actor (several records of one actor, e.g. per terminal, become one)."""
    counts: dict[tuple[str, str], list[int]] = {}
    costs: dict[tuple[str, str], dict[tuple[str, str], list[Any]]] = {}
    for r in report.records:
        key = ("user", r.email or "") if r.actor_kind == "user" else ("api_key", r.api_key_name or "")
        c = counts.get(key)
        if c is None:
            c = counts[key] = [0] * 7
            costs[key] = {}
        c[0] += r.sessions
        c[1] += r.lines_added
        c[2] += r.lines_removed
        c[3] += r.commits
        c[4] += r.pull_requests
        c[5] += r.tool_accepted
        c[6] += r.tool_rejected
        per_model = costs[key]
        for use in r.models:
            slot = per_model.get((use.currency.upper(), use.model))
            if slot is None:
                per_model[(use.currency.upper(), use.model)] = [use.cost_usd, 1]
            else:
                slot[0] += use.cost_usd
                slot[1] += 1
    actors = tuple(
        ActorDay(
            kind,
            actor,
            *_seven(c),
            tuple((cur, model, v[0], v[1]) for (cur, model), v in costs[(kind, actor)].items()),
        )
        for (kind, actor), c in counts.items()
    )
    return DayTotals(report.day, actors, read_at)


def _seven(c: Sequence[int]) -> tuple[int, int, int, int, int, int, int]:
    """The seven counts, in `ActorDay`'s order (sessions … tool_rejected)."""
    return (c[0], c[1], c[2], c[3], c[4], c[5], c[6])


def _row(a: ActorDay) -> dict[str, Any]:
    return {
        "actor_kind": a.kind,
        "actor": a.actor,
        "sessions": a.sessions,
        "lines_added": a.lines_added,
        "lines_removed": a.lines_removed,
        "commits": a.commits,
        "pull_requests": a.pull_requests,
        "tool_accepted": a.tool_accepted,
        "tool_rejected": a.tool_rejected,
        "costs": json.dumps([[cur, model, str(cost), uses] for cur, model, cost, uses in a.costs]),
    }


def _actor(row: tuple[Any, ...]) -> ActorDay:
    """An actor row as `claude_code_days` reads it (the driver gives str and int as stored)."""
    _, kind, actor, sessions, added, removed, commits, pulls, accepted, rejected, costs = row
    parsed = tuple([(cur, model, Decimal(cost), uses) for cur, model, cost, uses in json.loads(costs)])
    return ActorDay(kind, actor, sessions, added, removed, commits, pulls, accepted, rejected, parsed)


def stored_days(deps: Deps, days: Iterable[date]) -> dict[date, DayTotals]:
    """The finished days among `days` that are in the database (one query for them all)."""
    wanted = [d for d in days if day_is_final(d, deps.clock())]
    if not wanted:
        return {}
    with session_scope(deps.engine) as session:
        found = repo.claude_code_days(session=session, days=wanted)
    return {day: DayTotals(day, tuple(map(_actor, rows)), read_at) for day, (read_at, rows) in found.items()}


def store_days(deps: Deps, totals: Sequence[DayTotals]) -> int:
    """Store each finished day not stored yet (one transaction a day; a day another process stored first is
    left as it is). Days that can still change are never stored. How many days were stored."""
    stored = 0
    for day in totals:
        if not day_is_final(day.day, day.read_at):  # final when it was read, not merely by now
            continue
        try:
            with session_scope(deps.engine) as session:
                repo.store_claude_code_day(
                    session=session, day=day.day, read_at=day.read_at, actors=[_row(a) for a in day.actors]
                )
            stored += 1
        except IntegrityError:
            log.info("Claude Code day %s was stored by another process first", day.day)
    return stored


# Finished days (`day_is_final`: past the report's lag) stay in memory for hours, and in the database for good.
FINAL_TTL = timedelta(hours=12)


def fetch_days(deps: Deps, days: Iterable[date]) -> tuple[list[DayTotals], datetime]:
    """Each day's sums per actor, and how fresh they are: the oldest time a day that can still change was read
    (every day final: the oldest read). A finished day comes from memory, else from the database, else from the
    Admin API (then stored); other days from the report cache's few minutes, else the API; the API's days side by
    side."""
    now = deps.clock()
    wanted = list(days)
    got: dict[date, DayTotals] = {}
    for day in wanted:
        if day_is_final(day, now) and (hit := deps.cache.peek(("claude-code-day", day), now)) is not None:
            got[day] = hit
    missing = [d for d in wanted if d not in got and day_is_final(d, now)]
    for day, totals in stored_days(deps, missing).items():
        deps.cache.put(("claude-code-day", day), totals, now, FINAL_TTL)
        got[day] = totals

    def one(day: date) -> DayTotals:
        def load() -> DayTotals:
            return summed(deps.admin.claude_code_day(day), deps.clock())

        if day_is_final(day, now):
            return deps.cache.get_or_load(("claude-code-day", day), now, load, ttl=FINAL_TTL)
        return cached(deps, ("claude-code-day", day), load)

    to_read = [d for d in wanted if d not in got]
    read: list[DayTotals] = fan_out(deps, *[lambda d=d: one(d) for d in to_read])
    got.update((totals.day, totals) for totals in read)
    store_days(deps, [t for t in read if day_is_final(t.day, now)])  # kept only if final when read
    results = [got[d] for d in wanted]
    open_reads = [t.read_at for t in results if not day_is_final(t.day, now)]
    as_of = min(open_reads or [t.read_at for t in results], default=now)
    return results, as_of


def report_currency(days: Sequence[DayTotals]) -> tuple[str, bool]:
    """The currency most of the period's cost is in, and whether any cost came in another one."""
    seen: dict[str, int] = {}
    for day in days:
        for actor in day.actors:
            for cur, _, _, uses in actor.costs:
                seen[cur] = seen.get(cur, 0) + uses
    if not seen:
        return DEFAULT_CURRENCY, False
    main = max(sorted(seen), key=lambda c: seen[c])
    return main, len(seen) > 1
