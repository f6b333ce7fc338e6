"""Events API deliveries already handled (Slack retries are dropped by event id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import ProcessedEvent


def mark_event_processed(*, session: Session, event_id: str, now: datetime) -> bool:
    """Record an Events API event id; False when it was seen before (a Slack retry)."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
    except IntegrityError:
        return False
    return True
