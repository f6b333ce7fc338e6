"""Admin API writes with an intent row: committed before the call, completed after it.

`perform` records what the bot is about to change, calls the API, then records what followed (the caller's
audit row and state) in the same transaction that completes the intent. Every change it makes is also noted
for the unit of work running it (`unit_of_work`), so whatever fails afterwards, the user is told what is known
(`explain`) rather than "nothing was changed". An intent still pending a few minutes later is a write whose
outcome the bot never recorded; a job checks it against the API (`bot.writes.reconcile`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sqlmodel import Session

from bot.anthropic_admin import AdminAPIError, Unavailable
from bot.deps import Deps
from bot.work.context import current_item
from storage import repositories as repo
from storage.db import session_scope
from storage.models import AdminWriteState

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# How long after an intent was begun the reconciler may check it (the call and its retries are over by then).
CHECK_AFTER_MINUTES = 5
# What users are told about when the check happens: the reconciling jobs run every 5 or 15 minutes.
CHECK_WITHIN = "within about 20 minutes"


@dataclass(frozen=True)
class Intent:
    """A write the bot is about to make: its kind, what it acts on, a phrase for people, and what the
    reconciler needs to check it (`payload`, JSON-able)."""

    kind: str
    target: str
    what: str  # "deactivate key `ci` (…abcd)": completes "I asked Anthropic to …"
    payload: dict[str, Any] = field(default_factory=dict)
    actor_slack_id: str | None = None


class Outcome(StrEnum):
    """How far a write got, as the unit of work knows it."""

    UNKNOWN = "unknown"  # asked; Anthropic's answer never came clearly (a timeout, a 5xx)
    UNRECORDED = "unrecorded"  # Anthropic made the change; recording it here failed
    RECORDED = "recorded"  # made and recorded


@dataclass
class Change:
    intent: Intent
    outcome: Outcome


_changes: ContextVar[list[Change] | None] = ContextVar("admin_writes", default=None)


@contextmanager
def unit_of_work() -> Iterator[list[Change]]:
    """Collect the writes made while the body runs (worker threads are reused: each unit starts empty)."""
    changes: list[Change] = []
    token = _changes.set(changes)
    try:
        yield changes
    finally:
        _changes.reset(token)


def _note(change: Change) -> None:
    changes = _changes.get()
    if changes is not None:
        changes.append(change)


def note(intent: Intent, outcome: Outcome) -> Change:
    """Tell the unit of work about a write whose intent is recorded elsewhere (a claimed row's state); the
    caller moves `outcome` on as it learns more."""
    change = Change(intent, outcome)
    _note(change)
    return change


def uncertain(exc: BaseException) -> bool:
    """True when a failed write may still have happened: no clear answer (a timeout, a 5xx, a dropped
    connection, anything not a refusal from the API)."""
    return isinstance(exc, Unavailable) or not isinstance(exc, AdminAPIError)


def perform(deps: Deps, intent: Intent, call: Callable[[], T], record: Callable[[Session, T], R]) -> R:
    """Begin the intent (committed), make the write, then `record` what followed and complete the intent in one
    transaction. A refusal from the API completes it as failed and re-raises (nothing changed); any other
    failure leaves it pending for the reconciler, and the unit of work knows how far it got."""
    now = deps.clock()
    with session_scope(deps.engine) as session:
        write_id = repo.begin_write(
            session=session,
            kind=intent.kind,
            target=intent.target,
            payload=json.dumps(intent.payload, sort_keys=True, default=str),
            actor_slack_id=intent.actor_slack_id,
            at=now,
            work_item_id=current_item(),
        ).id
    assert write_id is not None
    change = Change(intent, Outcome.UNKNOWN)
    try:
        result = call()
    except Exception as exc:
        if uncertain(exc):
            _note(change)
            logger.warning("admin write %s (%s) has no clear outcome: %s", write_id, intent.kind, type(exc).__name__)
        else:
            _refused(deps, write_id, exc)
        raise
    change.outcome = Outcome.UNRECORDED
    _note(change)
    with session_scope(deps.engine) as session:
        recorded = record(session, result)
        repo.finish_write(session=session, write_id=write_id, to=AdminWriteState.DONE, outcome=None, at=deps.clock())
    change.outcome = Outcome.RECORDED
    return recorded


def _refused(deps: Deps, write_id: int, exc: Exception) -> None:
    message = exc.user_message if isinstance(exc, AdminAPIError) else type(exc).__name__
    try:
        with session_scope(deps.engine) as session:
            repo.finish_write(
                session=session, write_id=write_id, to=AdminWriteState.FAILED, outcome=message, at=deps.clock()
            )
    except Exception:  # left pending: the reconciler finds nothing changed and closes it
        logger.warning("could not mark admin write %s as refused", write_id)


def explain(changes: list[Change]) -> str | None:
    """What to tell the user when their work failed after writes were made; None when none were."""
    if not changes:
        return None
    parts: list[str] = []
    for change in changes:
        what = change.intent.what
        if change.outcome == Outcome.RECORDED:
            parts.append(f"I asked Anthropic to {what}: that is done and recorded.")
        elif change.outcome == Outcome.UNRECORDED:
            parts.append(
                f"I asked Anthropic to {what}: Anthropic made the change, but I couldn't record it here. "
                f"I'll record it {CHECK_WITHIN} and tell the admins."
            )
        else:
            parts.append(
                f"I asked Anthropic to {what} but got no clear answer, so it may have happened. "
                f"I'll check with Anthropic {CHECK_WITHIN} and post what I find in the admin channel."
            )
    if all(change.outcome == Outcome.RECORDED for change in changes):
        parts.append("Then something went wrong on my side before I could finish; the change stands.")
    return " ".join(parts)
