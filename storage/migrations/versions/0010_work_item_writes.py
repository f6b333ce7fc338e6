"""work_item.started_at (its first claim) and admin_write.work_item_id (the item whose run began the write)

A retried item never repeats a write its interrupted run began; started_at - created_at is its queue time.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("admin_write", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_item_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_admin_write_work_item_id", ["work_item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_write", schema=None) as batch_op:
        batch_op.drop_index("ix_admin_write_work_item_id")
        batch_op.drop_column("work_item_id")
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_column("started_at")
