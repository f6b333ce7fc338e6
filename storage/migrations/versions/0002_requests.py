"""access requests: requester handle, invitee email, granted_at

Revision ID: 0002_requests
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002_requests"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_handle", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("invitee_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("granted_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_column("granted_at")
        batch_op.drop_column("invitee_email")
        batch_op.drop_column("requester_handle")
