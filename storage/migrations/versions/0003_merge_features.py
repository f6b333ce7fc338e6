"""merge the access-request, key-hygiene and spend branches into one head

Revision ID: 0003
Revises: 0002_keys, 0002_requests, 0002_spend
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("0002_keys", "0002_requests", "0002_spend")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
