"""SQLModel tables. Every timestamp is timezone-aware UTC (`UTCDateTime`).

Migrations in `storage/migrations` are the source of truth for the schema; a test checks that
these models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class RequestState(StrEnum):
    """States of an access request (DESIGN.md §4)."""

    PENDING = "pending"
    APPROVED = "approved"
    INVITED = "invited"
    GRANTED = "granted"
    FULFILLED = "fulfilled"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    REVOKED = "revoked"


class RequestKind(StrEnum):
    """What a request asks for."""

    ACCESS = "access"
    INVITE = "invite"


def _ts(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class IdentityLink(SQLModel, table=True):
    """A Slack user linked to an Anthropic org user by email; refreshed on a schedule."""

    __tablename__ = "identity_link"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    email: str | None = Field(default=None, max_length=320, index=True)
    anthropic_user_id: str | None = Field(default=None, max_length=64, index=True)
    org_role: str | None = Field(default=None, max_length=32)
    refreshed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AccessRequest(SQLModel, table=True):
    """An access or invite request; state changes are conditional updates on `state`."""

    __tablename__ = "access_request"
    __table_args__ = (Index("ix_access_request_requester_state", "requester_slack_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=RequestKind.ACCESS, max_length=16)
    state: str = Field(default=RequestState.PENDING, max_length=16, index=True)
    requester_slack_id: str = Field(max_length=32)
    requester_email: str | None = Field(default=None, max_length=320)
    anthropic_user_id: str | None = Field(default=None, max_length=64)
    workspace_id: str | None = Field(default=None, max_length=64)
    workspace_name: str | None = Field(default=None, max_length=200)
    role: str = Field(default="workspace_developer", max_length=40)
    duration_days: int | None = None
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    admin_channel_id: str | None = Field(default=None, max_length=32)
    admin_message_ts: str | None = Field(default=None, max_length=32)
    decided_by_slack_id: str | None = Field(default=None, max_length=32)
    invite_id: str | None = Field(default=None, max_length=64)
    api_key_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    grant_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AuditEvent(SQLModel, table=True):
    """Append-only record of every state change: when, who, what, before, after."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    actor_slack_id: str | None = Field(default=None, max_length=32)
    actor_anthropic_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=64)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class LedgerEntry(SQLModel, table=True):
    """A notice or action that happened once; (job, key) is unique so a rerun never repeats it."""

    __tablename__ = "job_ledger"
    __table_args__ = (UniqueConstraint("job", "key", name="uq_job_ledger_job_key"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    key: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JobLease(SQLModel, table=True):
    """Which replica runs a job now; a crashed holder's lease simply expires."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    acquired_at: datetime = Field(sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


class JobRun(SQLModel, table=True):
    """One run of a job, for `jobs list` and for operators."""

    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64, index=True)
    holder: str = Field(max_length=128)
    dry_run: bool = False
    status: str = Field(default="running", max_length=16)
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled (Slack retries carry the same event_id)."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
