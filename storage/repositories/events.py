"""Events API deliveries already handled (Slack retries are dropped by event id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import ProcessedEvent


def mark_event_processed(*, session: Session, event_id: str, now: datetime) -> bool:
    """Record an Events API event id; False when it was seen before (a Slack retry)."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
    except IntegrityError:
        return False
    return True


def prune_processed_events(*, session: Session, before: datetime) -> int:
    """Forget event ids received before `before` (Slack retries come within minutes); how many went."""
    gone = session.execute(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before))
    return int(gone.rowcount)  # type: ignore[attr-defined]
