"""users.search_name: the search key of a person's names, for the share picker

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 15:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gshare.core.names import person_search_key

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("search_name", sa.Text(), nullable=False, server_default=sa.text("''"))
        )
    _fill_keys(op.get_bind())


def _fill_keys(conn) -> None:
    """Compute the key of every existing person, a batch of rows at a time."""
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("display_name", sa.String),
        sa.column("search_name", sa.Text),
    )
    update = (
        sa.update(users)
        .where(users.c.id == sa.bindparam("user_id"))
        .values(search_name=sa.bindparam("key"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(users.c.id, users.c.display_name, users.c.username)
            .where(users.c.id > last)
            .order_by(users.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [{"user_id": i, "key": person_search_key(d, u)} for i, d, u in rows])
        last = rows[-1][0]


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("search_name")
