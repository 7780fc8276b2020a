"""A fleet for the module: two gshare nodes and one extra scan worker on one PostgreSQL database
(made for the module, dropped after it), one S3 server (the session's SeaweedFS, a bucket of
the fleet's own) and the suite's clamd.

Each node runs the split commands a fleet's units run (`gshare web`, `gshare s3`, `gshare
worker`), so every process has a pid of its own: a test can pause a node's scan worker, kill
one, or restart a whole node. All configs share one `[server] secret_key`, so a session cookie
and an access key work on every node. Every process writes to a log of its own under the
fleet's directory.
"""

from __future__ import annotations

import secrets
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.fixtures.database import POSTGRES
from tests.fixtures.s3 import remove_bucket
from tests.fixtures.served import Key, Served, free_port, stop
from tests.fleet.nodes import Fleet, Node, add_people, node_config, start_worker
from tests.helpers import missing


@pytest.fixture(scope="module")
def fleet_database():
    """Create an empty PostgreSQL database for the fleet (its nodes bring it to the head of
    the schema as they start); drop it after the module."""
    name = f"gshare_fleet_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except Exception as exc:  # any connection problem: say it, fail or skip
        missing(f"PostgreSQL not available: {str(exc).splitlines()[0]}")
    yield f"{POSTGRES}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def fleet_bucket(s3_server, s3_credentials):
    """Name a bucket of the fleet's own on the session's S3 server (the nodes create it)."""
    bucket = f"fleet-{uuid.uuid4().hex[:20]}"
    yield bucket
    remove_bucket(s3_server, s3_credentials, bucket)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, fleet_database, fleet_bucket, s3_server, s3_credentials, clamd_daemon):
    """Start two nodes and an extra scan worker; add Finance, alice (with a key and a
    password) and her colleague carol."""
    root = tmp_path_factory.mktemp("fleet")
    settings = {
        "secret_key": secrets.token_urlsafe(32),
        "database": fleet_database,
        "endpoint": s3_server.endpoint,
        "access_key": s3_credentials.access_key,
        "store_secret": s3_credentials.secret_key,
        "bucket": fleet_bucket,
        "clamd": clamd_daemon.address,
    }
    nodes = []
    for name in ("a", "b"):
        web, s3 = free_port(), free_port()
        config = node_config(root / name, settings, web, s3)
        nodes.append(Node(name, config, root, f"http://127.0.0.1:{web}", f"http://127.0.0.1:{s3}"))
    extra_config = node_config(root / "extra", settings, free_port(), free_port())
    extra_log = root / "extra-worker.log"
    extra = None
    try:
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_up()
        extra = start_worker(extra_config, extra_log)
        site = Served(nodes[0].s3_url, extra_config, extra_log, Key("", ""))
        colleague = add_people(site)
        yield Fleet(*nodes, extra, extra_log, site, colleague, fleet_database)
    finally:
        if extra is not None:
            stop(extra)
        for node in nodes:
            node.stop()
