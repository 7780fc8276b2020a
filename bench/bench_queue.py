"""The scan queue's cost at scale, on PostgreSQL: what /readyz and /metrics ask of the queue
(queue_stats) at N versions. (Claims and idle polls come next, with the queue's own indexes.)

    .venv/bin/python bench/bench_queue.py [N]        # N versions, default 1,000,000

It makes a database of its own (dropped at the end) on GSHARE_TEST_POSTGRES or
127.0.0.1:5432, fills it with SQL (N versions over 1,000 files: almost all clean, a few
pending, errors and quarantined), then prints the median of each measure and the plans
PostgreSQL chose for queue_stats' queries (a "Seq Scan on versions" is what the goal forbids).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_ms  # noqa: E402

from gshare.core import db as database  # noqa: E402
from gshare.core.db import make_engine, make_sessionmaker  # noqa: E402
from gshare.scanning import queue  # noqa: E402

SERVER = os.environ.get("GSHARE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
FILL = """
INSERT INTO departments (id, name, created_at) VALUES (1, 'Bench', now());
INSERT INTO spaces (id, slug, name, kind, department_id, used_bytes, created_at)
    VALUES (1, 'bench', 'Bench', 'department', 1, 0, now());
INSERT INTO nodes (id, space_id, parent_id, path, kind, name, search_name, created_at, updated_at)
    VALUES (1, 1, NULL, '/', 'folder', '', '', now(), now());
INSERT INTO nodes (id, space_id, parent_id, path, kind, name, search_name, created_at, updated_at)
    SELECT 1 + f, 1, 1, '/1/', 'file', 'f' || f, 'f' || f, now(), now()
    FROM generate_series(1, 1000) AS f;
INSERT INTO versions (node_id, number, blob_key, size, etag, content_type, uploaded_at,
                      scan_state, scan_db_version, scan_attempts, release_reason)
    SELECT 2 + (v % 1000), 1 + v / 1000, 'v/' || v, 100, 'e', 'text/plain',
           now() - (v || ' seconds')::interval,
           CASE WHEN v % 100000 = 1 THEN 'pending' WHEN v % 100000 = 2 THEN 'error'
                WHEN v % 100000 = 3 THEN 'infected' ELSE 'clean' END,
           'sigs-1', 0, NULL
    FROM generate_series(0, :n - 1) AS v;
VACUUM ANALYZE versions;
"""


def main(count: int) -> None:
    name = f"gshare_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{SERVER}/{name}"
    try:
        database.upgrade(url)
        engine = make_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"n": count})
        measure(engine, count)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(engine, count: int) -> None:
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        stats = queue.queue_stats(db)
        print(f"{count:,} versions: {stats}")
        print(f"queue_stats (/readyz, /metrics): {median_ms(lambda: queue.queue_stats(db)):.2f} ms")
        for label, sql in PLANS.items():
            plan = "\n    ".join(r[0] for r in db.execute(text(f"EXPLAIN {sql}")))
            print(f"plan of {label}:\n    {plan}")


PLANS = {
    "pending count": "SELECT count(*) FROM versions WHERE scan_state = 'pending'",
    "quarantined count": "SELECT count(*) FROM versions WHERE (scan_state = 'infected' OR "
    "scan_state = 'blocked') AND release_reason IS NULL",
    "oldest pending": "SELECT min(uploaded_at) FROM versions WHERE scan_state = 'pending'",
}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
