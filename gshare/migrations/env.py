"""Alembic environment: gshare's metadata, one connection, batch mode for SQLite."""

from alembic import context
from sqlalchemy import create_engine, pool

from gshare.core.models import Base

config = context.config


def render_item(type_, obj, autogen_context):
    """Render gshare's UTCDateTime as the plain timezone-aware DateTime it stores."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
