"""the scan queue reads indexes, not the version table: signature generations, a rescan
budget, and partial indexes on what is due and on the clean versions by generation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:00:00.000000

Existing clean versions get the generation of the signatures that judged them (generations
numbered in the order their labels were first used), so an upgrade rescans nothing new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "scan_state IN ('pending', 'error')"
CLEAN = "scan_state = 'clean'"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "signature_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_generations")),
        sa.UniqueConstraint("label", name=op.f("uq_signature_generations_label")),
    )
    op.create_table(
        "rescan_budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescan_budget")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scan_generation", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "INSERT INTO signature_generations (label, first_seen_at) "
        "SELECT scan_db_version, MIN(scanned_at) FROM versions "
        "WHERE scan_db_version IS NOT NULL AND scanned_at IS NOT NULL "
        "GROUP BY scan_db_version ORDER BY MIN(scanned_at)"
    )
    op.execute(
        "UPDATE versions SET scan_generation = (SELECT g.id FROM signature_generations g "
        "WHERE g.label = versions.scan_db_version) "
        f"WHERE {CLEAN} AND scan_db_version IS NOT NULL AND scanned_at IS NOT NULL"
    )
    op.execute("UPDATE versions SET last_accessed_at = uploaded_at WHERE last_accessed_at IS NULL")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column(
            "last_accessed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_index(
        "ix_versions_scan_due",
        "versions",
        ["uploaded_at", "id"],
        unique=False,
        sqlite_where=sa.text(DUE),
        postgresql_where=sa.text(DUE),
    )
    op.create_index(
        "ix_versions_rescan",
        "versions",
        ["scan_generation", sa.column("last_accessed_at").desc(), sa.column("id").desc()],
        unique=False,
        sqlite_where=sa.text(CLEAN),
        postgresql_where=sa.text(CLEAN),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_versions_rescan", table_name="versions")
    op.drop_index("ix_versions_scan_due", table_name="versions")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.alter_column(
            "last_accessed_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
        batch_op.drop_column("scan_generation")
    op.drop_table("rescan_budget")
    op.drop_table("signature_generations")
