"""key hygiene: key rotations and report roots

Revision ID: 0002_keys
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_keys"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_rotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_key_id", sa.String(length=64), nullable=False),
        sa.Column("old_key_name", sa.String(length=500), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=True),
        sa.Column("owner_anthropic_id", sa.String(length=64), nullable=True),
        sa.Column("owner_slack_id", sa.String(length=32), nullable=True),
        sa.Column("started_by_slack_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("open_key_id", sa.String(length=64), nullable=True),
        sa.Column("new_key_id", sa.String(length=64), nullable=True),
        sa.Column("new_key_name", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("notice_channel", sa.String(length=32), nullable=True),
        sa.Column("notice_ts", sa.String(length=32), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("grace_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key_id", name="uq_key_rotation_open_key_id"),
    )
    with op.batch_alter_table("key_rotation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_rotation_old_key_id"), ["old_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_rotation_state"), ["state"], unique=False)

    op.create_table(
        "key_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period", name="uq_key_report_kind_period"),
    )


def downgrade() -> None:
    op.drop_table("key_report")
    with op.batch_alter_table("key_rotation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_rotation_state"))
        batch_op.drop_index(batch_op.f("ix_key_rotation_old_key_id"))
    op.drop_table("key_rotation")
