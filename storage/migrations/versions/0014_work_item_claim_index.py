"""work_item: index (state, id) instead of (state, not_before), so a claim finds the oldest due item in a few
index reads at any backlog (with (state, not_before) both databases read every queued row and sorted them)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_work_item_state_id", "work_item", ["state", "id"], unique=False)
    op.drop_index("ix_work_item_state_due", table_name="work_item")


def downgrade() -> None:
    op.create_index("ix_work_item_state_due", "work_item", ["state", "not_before"], unique=False)
    op.drop_index("ix_work_item_state_id", table_name="work_item")
