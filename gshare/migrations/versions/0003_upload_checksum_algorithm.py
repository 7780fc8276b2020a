"""upload sessions keep the checksum algorithm and type their S3 multipart upload asked for

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("upload_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checksum_algorithm", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("checksum_type", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("upload_sessions", schema=None) as batch_op:
        batch_op.drop_column("checksum_type")
        batch_op.drop_column("checksum_algorithm")
