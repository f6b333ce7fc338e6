"""Key hygiene: rotations (one open rotation per key), stale-key report roots, and the lookups the key jobs need."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import AuditEvent, IdentityLink, KeyReport, KeyRotation, RotationState


def open_rotations(*, session: Session, key_ids: Iterable[str] | None = None) -> dict[str, KeyRotation]:
    """Open rotations by old key id (of `key_ids` only, when given)."""
    query = select(KeyRotation).where(col(KeyRotation.open_key_id).is_not(None))
    if key_ids is not None:
        ids = list(key_ids)
        if not ids:
            return {}
        query = query.where(col(KeyRotation.open_key_id).in_(ids))
    return {r.old_key_id: r for r in session.exec(query)}


def get_rotation(*, session: Session, rotation_id: int) -> KeyRotation | None:
    """One rotation, or None."""
    return session.get(KeyRotation, rotation_id)


def unfinished_rotations(*, session: Session) -> list[KeyRotation]:
    """Rotations not yet completed, oldest first."""
    query = select(KeyRotation).where(col(KeyRotation.state) != RotationState.COMPLETED).order_by(col(KeyRotation.id))
    return list(session.exec(query).all())


def add_rotation(*, session: Session, rotation: KeyRotation) -> bool:
    """Insert a new open rotation; False when the key already has one (the unique `open_key_id`)."""
    try:
        with session.begin_nested():
            session.add(rotation)
    except IntegrityError:
        return False
    return True


def record_replacement(
    *, session: Session, rotation_id: int, new_key_id: str, new_key_name: str, now: datetime, grace_until: datetime
) -> bool:
    """Move a waiting rotation to replaced with its new key; False when it was no longer waiting."""
    moved = session.execute(
        update(KeyRotation)
        .where(col(KeyRotation.id) == rotation_id, col(KeyRotation.state) == RotationState.WAITING)
        .values(
            state=RotationState.REPLACED,
            new_key_id=new_key_id,
            new_key_name=new_key_name,
            replaced_at=now,
            grace_until=grace_until,
        )
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def complete_rotation(*, session: Session, rotation_id: int, outcome: str, now: datetime) -> bool:
    """Close a rotation and free its open-key slot; False when another run or click completed it first."""
    done = session.execute(
        update(KeyRotation)
        .where(col(KeyRotation.id) == rotation_id, col(KeyRotation.state) != RotationState.COMPLETED)
        .values(state=RotationState.COMPLETED, open_key_id=None, outcome=outcome, completed_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def set_rotation_notice(*, session: Session, rotation_id: int, channel: str, ts: str) -> None:
    """Remember where the owner's "Deactivate old key" message went, to edit it when the rotation completes."""
    session.execute(
        update(KeyRotation).where(col(KeyRotation.id) == rotation_id).values(notice_channel=channel, notice_ts=ts)
    )


def linked_slack_ids(*, session: Session) -> dict[str, str]:
    """Anthropic user id → Slack user id for every identity link that has an Anthropic user."""
    rows = session.exec(
        select(IdentityLink.anthropic_user_id, IdentityLink.slack_user_id).where(
            col(IdentityLink.anthropic_user_id).is_not(None)
        )
    )
    return {str(a): s for a, s in rows}


def report_root(*, session: Session, kind: str, period: str) -> KeyReport | None:
    """Where the root message of a periodic report went, if it was posted."""
    return session.exec(select(KeyReport).where(KeyReport.kind == kind, KeyReport.period == period)).first()


def add_report_root(*, session: Session, kind: str, period: str, channel: str, ts: str, now: datetime) -> KeyReport:
    """Record a periodic report's root message."""
    row = KeyReport(kind=kind, period=period, channel=channel, ts=ts, created_at=now)
    session.add(row)
    session.flush()
    return row


def last_revocation(*, session: Session, key_id: str) -> AuditEvent | None:
    """The latest `key.revoked` audit row of a key."""
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_id == key_id, AuditEvent.action == "key.revoked")
        .order_by(col(AuditEvent.at).desc())
    ).first()
