"""where an account comes from (local or the directory) and its directory entry

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=10), server_default="local", nullable=False)
        )
        batch.add_column(sa.Column("directory_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("directory_dn", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("directory_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(batch.f("uq_users_directory_id"), ["directory_id"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(batch.f("uq_users_directory_id"), type_="unique")
        batch.drop_column("directory_seen_at")
        batch.drop_column("directory_dn")
        batch.drop_column("directory_id")
        batch.drop_column("source")
