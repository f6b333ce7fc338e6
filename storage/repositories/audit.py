"""The append-only audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AuditEvent


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def append_audit(
    *,
    session: Session,
    action: str,
    subject_type: str,
    subject_id: str,
    actor_slack_id: str | None = None,
    actor_anthropic_id: str | None = None,
    before: Any = None,
    after: Any = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one audit row (never updated or deleted)."""
    row = AuditEvent(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_slack_id=actor_slack_id,
        actor_anthropic_id=actor_anthropic_id,
        before=_json(before),
        after=_json(after),
        detail=None if detail is None else detail.replace("\x00", ""),  # PostgreSQL text can't hold NUL
    )
    if at is not None:
        row.at = at
    session.add(row)
    session.flush()
    return row


def audit_since(*, session: Session, since: datetime, limit: int) -> list[AuditEvent]:
    """Audit rows at or after `since`, oldest first, at most `limit`."""
    query = select(AuditEvent).where(col(AuditEvent.at) >= since).order_by(col(AuditEvent.id)).limit(limit)
    return list(session.exec(query))
