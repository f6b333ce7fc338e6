"""The domains' own tables: budgets and spend-limit requests, key rotations and reports, leaver cases."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models.core import CLIPPED, _ts
from storage.types import utcnow

# --- Spend: budgets and spend-limit increase requests -------------------------------------------


class Budget(SQLModel, table=True):
    """A monthly budget for the org ("org") or a workspace ("workspace:<id>").

    The org row may carry no amount (MONTHLY_BUDGET_USD applies) and holds the alert thresholds.
    `revision` goes up whenever the amount changes: alert ledger keys carry it, so a changed budget
    re-arms the thresholds that are above spend again.
    """

    __tablename__ = "budget"
    __table_args__ = (UniqueConstraint("scope_key", name="uq_budget_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope_key: str = Field(max_length=80)
    workspace_id: str | None = Field(default=None, max_length=64)
    workspace_name: str | None = Field(default=None, max_length=200, sa_column_kwargs=CLIPPED)
    amount_usd: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6), nullable=True))
    thresholds: str | None = Field(default=None, max_length=200)
    revision: int = 1
    mirrored_limit_id: str | None = Field(default=None, max_length=64)
    updated_by_slack_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SpendRequestState(StrEnum):
    """States of a posted spend-limit increase request."""

    PENDING = "pending"
    APPROVING = "approving"  # claimed by one click; the API call is in flight
    DENYING = "denying"
    APPROVED = "approved"
    DENIED = "denied"
    RESOLVED_ELSEWHERE = "resolved"  # approved or denied in the Console, not through the bot
    FAILED = "failed"


class SpendLimitRequestPost(SQLModel, table=True):
    """A spend-limit increase request posted to the admin channel; decisions are conditional updates."""

    __tablename__ = "spend_limit_request_post"

    request_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(default=SpendRequestState.PENDING, max_length=16, index=True)
    period: str = Field(default="monthly", max_length=16)
    requester_user_id: str | None = Field(default=None, max_length=64)
    requester_email: str | None = Field(default=None, max_length=320)
    requester_name: str | None = Field(default=None, max_length=200, sa_column_kwargs=CLIPPED)
    requester_slack_id: str | None = Field(default=None, max_length=32)
    current_limit_usd: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6), nullable=True))
    spend_usd: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6), nullable=True))
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    decided_by_slack_id: str | None = Field(default=None, max_length=32)
    # ISO 4217 code of the amounts (the org's billing currency); None: not known (USD is assumed)
    currency: str | None = Field(default=None, max_length=3)
    approved_amount_usd: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6), nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- Key hygiene: rotations started with `/claude-key rotate`, and where weekly reports went -------


class RotationState(StrEnum):
    """States of a key rotation."""

    WAITING = "waiting"  # the owner was told to create the replacement
    REPLACED = "replaced"  # the replacement was seen; the grace period runs
    COMPLETED = "completed"  # the old key is off (deactivated by the bot or the owner, or found off)


class KeyRotation(SQLModel, table=True):
    """One rotation of an API key, from `rotate` to the old key's deactivation."""

    __tablename__ = "key_rotation"
    __table_args__ = (UniqueConstraint("open_key_id", name="uq_key_rotation_open_key_id"),)

    id: int | None = Field(default=None, primary_key=True)
    old_key_id: str = Field(max_length=64, index=True)
    old_key_name: str = Field(default="", max_length=500, sa_column_kwargs=CLIPPED)
    workspace_id: str | None = Field(default=None, max_length=64)
    owner_anthropic_id: str | None = Field(default=None, max_length=64)
    owner_slack_id: str | None = Field(default=None, max_length=32)
    started_by_slack_id: str = Field(max_length=32)
    state: str = Field(default=RotationState.WAITING, max_length=16, index=True)
    # old_key_id while the rotation is open, NULL once completed: the unique constraint then allows one open
    # rotation per key on SQLite and PostgreSQL alike (NULLs never collide).
    open_key_id: str | None = Field(default=None, max_length=64)
    new_key_id: str | None = Field(default=None, max_length=64)
    new_key_name: str | None = Field(default=None, max_length=500, sa_column_kwargs=CLIPPED)
    outcome: str | None = Field(default=None, max_length=32)
    # The owner's "Deactivate old key" DM, edited when the rotation completes.
    notice_channel: str | None = Field(default=None, max_length=32)
    notice_ts: str | None = Field(default=None, max_length=32)
    started_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    replaced_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    grace_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class KeyReport(SQLModel, table=True):
    """Where a periodic report's root message went, so a resumed run threads under it."""

    __tablename__ = "key_report"
    __table_args__ = (UniqueConstraint("kind", "period", name="uq_key_report_kind_period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    period: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# --- leaver-sweep ------------------------------------------------------------------------------------------------
class LeaverState(StrEnum):
    """Where a leaver proposal stands."""

    POSTING = "posting"  # claimed by a run that is posting the proposal now
    PROPOSED = "proposed"  # in the admin channel with Offboard / Not a leaver
    SILENCED = "silenced"  # an admin said "Not a leaver"
    OFFBOARDED = "offboarded"  # an admin clicked Offboard


class LeaverCase(SQLModel, table=True):
    """One deactivation of a Slack account that `leaver-sweep` proposed to offboard. `open_key` holds the Slack id
    while the account stays deactivated and is cleared when Slack shows it active again: unique, so a rerun or a
    second replica never opens (and posts) a second case, and a later deactivation opens a new one."""

    __tablename__ = "leaver_case"
    __table_args__ = (UniqueConstraint("open_key", name="uq_leaver_case_open_key"),)

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str = Field(max_length=32, index=True)
    email: str = Field(max_length=320)
    open_key: str | None = Field(default=None, max_length=32)
    state: str = Field(default=LeaverState.POSTING, max_length=16)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)
    opened_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
