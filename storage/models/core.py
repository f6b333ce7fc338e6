"""The core tables: identity links, the Slack directory, access requests, intent rows, the audit log, the jobs'
ledger, leases and runs, processed events and work items; and the helpers every table module uses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel

from storage.types import UTCDateTime, utcnow


class RequestState(StrEnum):
    """States of an access request (README: Access requests)."""

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


# A name from Slack or the Console shown as is: cut to its column's length when written (PostgreSQL refuses a
# longer value, SQLite would keep it), never refused. Identifiers and emails are never cut (a cut id or address
# would name someone else); see `clip_to_columns`.
CLIPPED = {"info": {"clip": True}}


def clip_to_columns(session: Session, _context: object = None, _instances: object = None) -> None:
    """A `before_flush` hook: every CLIPPED value of a row about to be written, cut to its column's length."""
    for row in (*session.new, *session.dirty):
        table = getattr(row, "__table__", None)
        for column in table.columns if table is not None else ():
            length = getattr(column.type, "length", None)
            value = getattr(row, column.key, None)
            if column.info.get("clip") and length and isinstance(value, str) and len(value) > length:
                setattr(row, column.key, value[: length - 1] + "…")


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


class SlackUser(SQLModel, table=True):
    """The Slack directory as `users.list` last showed it (the `slack-directory` job, `user_change` events):
    the email → Slack id map jobs use instead of one `users.lookupByEmail` per person."""

    __tablename__ = "slack_user"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    email: str | None = Field(default=None, max_length=320, index=True)  # lower-cased
    name: str | None = Field(default=None, max_length=200, sa_column_kwargs=CLIPPED)
    deleted: bool = False
    is_bot: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AccessRequest(SQLModel, table=True):
    """An access or invite request; state changes are conditional updates on `state`."""

    __tablename__ = "access_request"
    __table_args__ = (Index("ix_access_request_requester_state", "requester_slack_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=RequestKind.ACCESS, max_length=16)
    state: str = Field(default=RequestState.PENDING, max_length=16, index=True)
    requester_slack_id: str = Field(max_length=32)
    requester_email: str | None = Field(default=None, max_length=320)
    requester_handle: str | None = Field(default=None, max_length=80, sa_column_kwargs=CLIPPED)
    invitee_email: str | None = Field(default=None, max_length=320)
    anthropic_user_id: str | None = Field(default=None, max_length=64)
    workspace_id: str | None = Field(default=None, max_length=64)
    workspace_name: str | None = Field(default=None, max_length=200, sa_column_kwargs=CLIPPED)
    role: str = Field(default="workspace_developer", max_length=40)
    duration_days: int | None = None
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    admin_channel_id: str | None = Field(default=None, max_length=32)
    admin_message_ts: str | None = Field(default=None, max_length=32)
    # The requester's status card (DM'd once, edited at every step) and what admins saw about them (bot/access/card.py).
    dm_channel_id: str | None = Field(default=None, max_length=32)
    dm_message_ts: str | None = Field(default=None, max_length=32)
    requester_context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by_slack_id: str | None = Field(default=None, max_length=32)
    invite_id: str | None = Field(default=None, max_length=64)
    api_key_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    granted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    grant_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # What the grant changed at Anthropic (JSON, `bot.access.model.GrantChanges`): expiry undoes this and only this.
    grant_changes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AdminWriteState(StrEnum):
    """What became of an Admin API write the bot set out to make."""

    PENDING = "pending"  # recorded before the call; still pending later means the outcome is unknown
    DONE = "done"  # the API accepted it and the bot recorded what followed
    FAILED = "failed"  # the API refused it: nothing changed at Anthropic
    RECONCILED = "reconciled"  # found pending later and checked against the API (`outcome` says what was found)


class AdminWrite(SQLModel, table=True):
    """An intent row: written and committed before an Admin API write, completed after it. A row still
    `pending` after a few minutes is a write whose outcome the bot never recorded; a job checks the API."""

    __tablename__ = "admin_write"
    __table_args__ = (Index("ix_admin_write_state_created", "state", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    target: str = Field(max_length=255)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    state: str = Field(default=AdminWriteState.PENDING, max_length=16)
    actor_slack_id: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The work item whose run made this write (None outside one): a retried item never repeats it.
    work_item_id: int | None = Field(default=None, index=True)


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


class WorkState(StrEnum):
    """States of a work item: acked work waiting for, or done by, a worker."""

    QUEUED = "queued"
    RUNNING = "running"  # claimed; a claim past `claim_expires_at` is taken over by another worker
    DONE = "done"
    GIVEN_UP = "given_up"  # failed `max_attempts` times


class WorkItem(SQLModel, table=True):
    """Acked work, recorded durably at the ack and done once by a worker: a task name and its JSON arguments,
    and where the answer goes (the response_url while it lives, else a DM to `user_id`)."""

    __tablename__ = "work_item"
    # A claim walks one state's rows in id order (storage/repositories/work.claim_work).
    __table_args__ = (Index("ix_work_item_state_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=64)
    args: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    state: str = Field(default=WorkState.QUEUED, max_length=16)
    attempts: int = 0
    max_attempts: int = 5
    not_before: datetime = Field(default_factory=utcnow, sa_column=_ts())
    claimed_by: str | None = Field(default=None, max_length=128)
    claim_expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    user_id: str | None = Field(default=None, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    # A capability (anyone holding it can answer in the user's name for 30 minutes): never logged.
    response_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replace_original: bool = True
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))  # first claimed (queue time)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
