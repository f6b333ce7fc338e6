"""What a job function gets (`JobContext`, with the `once` ledger) and gives back (`JobResult`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.core.errors import BotError
from bot.deps import Deps
from storage import repositories as repo

logger = logging.getLogger(__name__)


@dataclass
class JobResult:
    """What a run did; `errors` are per-item failures the run continued past."""

    sent: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def absorb(self, other: JobResult) -> JobResult:
        """Add another run's counts and messages to this one (jobs made of two steps)."""
        self.sent += other.sent
        self.skipped += other.skipped
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)
        return self

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = f"sent {self.sent}, skipped {self.skipped}, errors {len(self.errors)}"
        return text + ("; " + "; ".join(self.notes) if self.notes else "")


@dataclass
class JobContext:
    """What a job gets: dependencies, the time, the session for this run, and dry-run output."""

    deps: Deps
    session: Session
    now: datetime
    dry_run: bool
    job: str
    out: Callable[[str], None] = print
    # Raises when the run's lease was lost (`bot.jobs.lease.LeaseLost`): checked before every send.
    check_lease: Callable[[], None] = lambda: None

    def already_done(self, key: str) -> bool:
        """True when this job already recorded `key` (a notice sent, an action taken); stops a run that lost
        its lease, since a send follows."""
        self.check_lease()
        return repo.ledger_has(session=self.session, job=self.job, key=key)

    def mark_done(self, key: str) -> bool:
        """Record `key` after Slack or the Admin API accepted the action; False if another run did."""
        if self.dry_run:
            return True
        recorded = repo.ledger_record(session=self.session, job=self.job, key=key, at=self.now)
        self.session.commit()
        self.check_lease()  # recorded what was sent; a run that lost its lease sends no more
        return recorded

    def item_failed(self, result: JobResult, item: str, exc: Exception) -> None:
        """One item of the run failed: record it in `result.errors` and let the run carry on with the next (a
        database error first rolls the session back, so the next item can write)."""
        if isinstance(exc, SQLAlchemyError):
            self.session.rollback()
        if isinstance(exc, BotError):
            detail = exc.user_message
        elif isinstance(exc, SlackApiError):
            detail = f"Slack {exc.response.get('error')}"
        else:
            logger.exception("%s: %s failed", self.job, item)
            detail = type(exc).__name__
        result.errors.append(f"{item}: {detail}")


JobFn = Callable[[JobContext], JobResult]
