"""access_request: the requester's status card (dm_channel_id, dm_message_ts) and requester_context

The card is DM'd once and edited at every step; requester_context is what admins saw about the requester when
the request came in, kept on the admin card after the decision.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dm_channel_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dm_message_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("requester_context", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("requester_context")
        batch_op.drop_column("dm_message_ts")
        batch_op.drop_column("dm_channel_id")
