"""security keys (WebAuthn): the challenges gshare sent, each spent once; the OpenID Connect
provider's session (sid) a session came from, for the provider's front-channel logout; who
disabled an account (the directory enables again only those it disabled)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "key_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("challenge", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_key_challenges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_challenges")),
        sa.UniqueConstraint("challenge", name=op.f("uq_key_challenges_challenge")),
    )
    op.create_index(op.f("ix_key_challenges_user_id"), "key_challenges", ["user_id"], unique=False)
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("provider_sid", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_sessions_provider_sid"), ["provider_sid"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_by", sa.String(length=20), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_by")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(batch.f("ix_sessions_provider_sid"))
        batch.drop_column("provider_sid")
    op.drop_index(op.f("ix_key_challenges_user_id"), table_name="key_challenges")
    op.drop_table("key_challenges")
