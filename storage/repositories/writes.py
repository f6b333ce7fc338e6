"""Intent rows for Admin API writes (`AdminWrite`): begun before the call, finished after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import AdminWrite, AdminWriteState


def begin_write(
    *,
    session: Session,
    kind: str,
    target: str,
    payload: str,
    actor_slack_id: str | None,
    at: datetime,
    work_item_id: int | None = None,
) -> AdminWrite:
    """Add a `pending` intent row (flushed, so it has its id; the caller commits before calling the API)."""
    row = AdminWrite(
        kind=kind,
        target=target[:255],
        payload=payload,
        actor_slack_id=actor_slack_id,
        created_at=at,
        work_item_id=work_item_id,
    )
    session.add(row)
    session.flush()
    return row


def finish_write(*, session: Session, write_id: int, to: AdminWriteState, outcome: str | None, at: datetime) -> bool:
    """Move a `pending` intent to `to`; False when it was no longer pending (a reconciler got there first)."""
    result = session.execute(
        update(AdminWrite)
        .where(col(AdminWrite.id) == write_id, col(AdminWrite.state) == AdminWriteState.PENDING)
        .values(state=to, outcome=outcome, completed_at=at)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def pending_writes(*, session: Session, kinds: Sequence[str], before: datetime, limit: int = 100) -> list[AdminWrite]:
    """Intents of `kinds` still pending that were begun before `before`, oldest first."""
    query = (
        select(AdminWrite)
        .where(
            col(AdminWrite.state) == AdminWriteState.PENDING,
            col(AdminWrite.kind).in_(kinds),
            col(AdminWrite.created_at) < before,
        )
        .order_by(col(AdminWrite.created_at), col(AdminWrite.id))
        .limit(limit)
    )
    return list(session.exec(query))


def writes_for(*, session: Session, kind: str, target: str) -> list[AdminWrite]:
    """Every intent of `kind` about `target`, oldest first."""
    query = (
        select(AdminWrite)
        .where(col(AdminWrite.kind) == kind, col(AdminWrite.target) == target)
        .order_by(col(AdminWrite.created_at), col(AdminWrite.id))
    )
    return list(session.exec(query))


def writes_of_item(*, session: Session, work_item_id: int) -> list[AdminWrite]:
    """The intents begun while work item `work_item_id` ran, oldest first."""
    query = select(AdminWrite).where(col(AdminWrite.work_item_id) == work_item_id).order_by(col(AdminWrite.id))
    return list(session.exec(query))
