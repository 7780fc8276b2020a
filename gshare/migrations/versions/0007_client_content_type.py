"""the client's Content-Type per version; completed multipart uploads remembered for a day

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("client_content_type", sa.String(length=255), nullable=True))
    op.create_table(
        "completed_uploads",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_completed_uploads")),
    )
    op.create_index(
        op.f("ix_completed_uploads_completed_at"), "completed_uploads", ["completed_at"]
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_completed_uploads_completed_at"), table_name="completed_uploads")
    op.drop_table("completed_uploads")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("client_content_type")
