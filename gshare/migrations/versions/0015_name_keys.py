"""nodes.sort_key (Lao dictionary order) and search_name recomputed (NFKC, Lao mark order)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gshare.core.collation import sort_key
from gshare.core.names import search_key

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("nodes") as batch:
        batch.add_column(
            sa.Column("sort_key", sa.LargeBinary(), nullable=False, server_default=sa.text("''"))
        )
    _fill_keys(op.get_bind())
    with op.batch_alter_table("nodes") as batch:
        batch.create_index("ix_nodes_parent_id_sort_key", ["parent_id", "sort_key"], unique=False)


def _fill_keys(conn) -> None:
    """Compute both keys of every existing name, a batch of rows at a time."""
    nodes = sa.table(
        "nodes",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("search_name", sa.String),
        sa.column("sort_key", sa.LargeBinary),
    )
    update = (
        sa.update(nodes)
        .where(nodes.c.id == sa.bindparam("node_id"))
        .values(search_name=sa.bindparam("search"), sort_key=sa.bindparam("sort"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(nodes.c.id, nodes.c.name)
            .where(nodes.c.id > last)
            .order_by(nodes.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            update,
            [{"node_id": i, "search": search_key(n), "sort": sort_key(n)} for i, n in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("nodes") as batch:
        batch.drop_index("ix_nodes_parent_id_sort_key")
        batch.drop_column("sort_key")
