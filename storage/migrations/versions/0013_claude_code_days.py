"""claude_code_day and claude_code_actor_day: finished UTC days of the Claude Code report, per actor

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("sessions", "lines_added", "lines_removed", "commits", "pull_requests", "tool_accepted", "tool_rejected")


def upgrade() -> None:
    op.create_table(
        "claude_code_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actors", sa.Integer(), nullable=False),
        sa.Column("read_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "claude_code_actor_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _COUNTS),
        sa.Column("costs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("day", "actor_kind", "actor"),
    )


def downgrade() -> None:
    op.drop_table("claude_code_actor_day")
    op.drop_table("claude_code_day")
