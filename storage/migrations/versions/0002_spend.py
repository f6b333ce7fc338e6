"""spend: budgets and posted spend-limit increase requests

Revision ID: 0002_spend
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_spend"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=80), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column("workspace_name", sa.String(length=200), nullable=True),
        sa.Column("amount_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column("thresholds", sa.String(length=200), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("mirrored_limit_id", sa.String(length=64), nullable=True),
        sa.Column("updated_by_slack_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope_key", name="uq_budget_scope_key"),
    )
    op.create_table(
        "spend_limit_request_post",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("requester_user_id", sa.String(length=64), nullable=True),
        sa.Column("requester_email", sa.String(length=320), nullable=True),
        sa.Column("requester_name", sa.String(length=200), nullable=True),
        sa.Column("requester_slack_id", sa.String(length=32), nullable=True),
        sa.Column("current_limit_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column("spend_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("decided_by_slack_id", sa.String(length=32), nullable=True),
        sa.Column("approved_amount_usd", sa.Numeric(18, 6), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    with op.batch_alter_table("spend_limit_request_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spend_limit_request_post_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spend_limit_request_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_limit_request_post_state"))
    op.drop_table("spend_limit_request_post")
    op.drop_table("budget")
