"""a version's thumbnail (made, or none can be) and a PDF's number of pages

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 14:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("thumbnail", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("page_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("page_count")
        batch.drop_column("thumbnail")
