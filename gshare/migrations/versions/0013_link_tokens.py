"""a public link's token kept encrypted, so that its managers can see it again

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 14:00:00.000000

Links made before this revision keep only their digest (token_encrypted stays NULL) and cannot
be shown again. Re-chain onto whatever revision is last when merging.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("share_links") as batch:
        batch.add_column(sa.Column("token_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("share_links") as batch:
        batch.drop_column("token_encrypted")
