"""intent rows for Admin API writes, and what a time-bound grant changed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_write",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("actor_slack_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("admin_write", schema=None) as batch_op:
        batch_op.create_index("ix_admin_write_state_created", ["state", "created_at"], unique=False)
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grant_changes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("grant_changes")
    with op.batch_alter_table("admin_write", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_write_state_created")
    op.drop_table("admin_write")
