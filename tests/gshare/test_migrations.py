"""The schema Alembic builds is exactly the schema the models describe, on both backends."""

import subprocess
import sys
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from gshare.core.models import Base


def test_upgrade_head_on_empty_database_gives_the_models_schema(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert differences == []
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def test_nodes_starting_together_upgrade_one_at_a_time(db_url, tmp_path):
    """Two processes run `gshare db upgrade` on an empty database at once (what auto_upgrade
    does when nodes start together): both succeed and the schema is the models' schema."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        admin = None
    else:
        name = f"gshare_upgrade_{uuid.uuid4().hex[:8]}"
        admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = db_url.rsplit("/", 1)[0] + f"/{name}"
    code = "import sys; from gshare.core import db; db.upgrade(sys.argv[1])"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    errors = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert "nodes" in inspect(conn).get_table_names()
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
