"""The scan queue's cost at scale: what a scan worker asks of the database when it is idle,
when it claims a new upload and when it claims a rescan after a signature update, what
/readyz and /metrics ask of the queue (queue_stats), and the whole /readyz and /metrics of a
node that runs everything (with a real clamd, an S3 store, an S3 listener probed on its health
path and a worker heartbeat), at N versions, on PostgreSQL and SQLite.

    .venv/bin/python bench/bench_queue.py [N] [postgresql|sqlite ...]   # default 1,000,000, both

Each backend gets a database of its own (dropped at the end): on GSHARE_TEST_POSTGRES or
127.0.0.1:5432, and a SQLite file in a temporary directory. It is filled with SQL (N versions
over 1,000 files: almost all clean and judged by today's signatures, a few pending, errors and
quarantined). It prints the median of each measure, then the plan the database chose for each
query (a "Seq Scan on versions" or "SCAN versions" is what the goal forbids).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_ms, s3_server  # noqa: E402

from antivirus import ClamdScanner  # noqa: E402
from gshare.core import db as database  # noqa: E402
from gshare.core.config import Config  # noqa: E402
from gshare.core.context import Gshare  # noqa: E402
from gshare.core.models import ScanState, Version, utcnow  # noqa: E402
from gshare.ops.health import NodeParts  # noqa: E402
from gshare.scanning import queue  # noqa: E402
from storage import S3Store  # noqa: E402
from tests.fixtures.clamd import ClamdDaemon  # noqa: E402
from tests.helpers import serving  # noqa: E402
from web import create_app  # noqa: E402
from web.s3.app import create_s3_app  # noqa: E402

SERVER = os.environ.get("GSHARE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
TODAY, TOMORROW = "sigs-2", "sigs-3"
CLAIMS = 200

SETUP = """
INSERT INTO departments (id, name, created_at) VALUES (1, 'Bench', {now});
INSERT INTO spaces (id, slug, name, kind, department_id, used_bytes, created_at)
    VALUES (1, 'bench', 'Bench', 'department', 1, 0, {now});
INSERT INTO nodes (id, space_id, parent_id, path, kind, name, search_name, created_at, updated_at)
    VALUES (1, 1, NULL, '/', 'folder', '', '', {now}, {now});
INSERT INTO signature_generations (label, first_seen_at) VALUES ('sigs-1', {now});
INSERT INTO signature_generations (label, first_seen_at) VALUES ('sigs-2', {now})
"""
# {series} yields v from 0 to :n - 1; {ago} is a timestamp v seconds before now.
FILL = """
INSERT INTO nodes (id, space_id, parent_id, path, kind, name, search_name, created_at, updated_at)
    SELECT 1 + v, 1, 1, '/1/', 'file', 'f' || v, 'f' || v, {now}, {now}
    FROM {series} WHERE v >= 1 AND v <= 1000;
INSERT INTO versions (node_id, number, blob_key, size, etag, content_type, uploaded_at,
                      last_accessed_at, scan_state, scan_db_version, scan_generation,
                      scan_attempts)
    SELECT 2 + (v % 1000), 1 + v / 1000, 'v/' || v, 100, 'e', 'text/plain', {ago}, {ago},
           CASE WHEN v % 100000 = 1 THEN 'pending' WHEN v % 100000 = 2 THEN 'error'
                WHEN v % 100000 = 3 THEN 'infected' ELSE 'clean' END,
           'sigs-2', 2, 0
    FROM {series}
"""
DIALECT = {
    "postgresql": {
        "now": "now()",
        "series": "generate_series(0, :n - 1) AS s(v)",
        "ago": "now() - (v || ' seconds')::interval",
        "explain": "EXPLAIN",
        "analyze": "VACUUM ANALYZE versions",
    },
    "sqlite": {
        "now": "datetime('now')",
        "series": "s",
        "ago": "datetime('now', '-' || v || ' seconds') || '.000000'",
        "explain": "EXPLAIN QUERY PLAN",
        "analyze": "ANALYZE",
    },
}


def main(count: int, backends: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, s3_server() as (endpoint, *keys):
        (Path(tmp) / "clamd").mkdir()
        clamd = ClamdDaemon(Path(tmp) / "clamd")
        clamd.start()
        try:
            store = S3Store(endpoint, *keys, bucket="bench")
            store.ensure_bucket()
            for backend in backends:
                with database_for(backend) as url:
                    database.upgrade(url)
                    fill(url, backend, count)
                    measure(url, backend, count, store, clamd, Path(tmp))
        finally:
            clamd.stop()


class database_for:
    """A fresh, empty database of the backend, dropped afterwards."""

    def __init__(self, backend: str):
        self.backend = backend

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            self.tmp = tempfile.TemporaryDirectory()
            return f"sqlite:///{self.tmp.name}/bench.db"
        self.name = f"gshare_bench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return f"{SERVER}/{self.name}"

    def __exit__(self, *exc) -> None:
        if self.backend == "sqlite":
            self.tmp.cleanup()
            return
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def fill(url: str, backend: str, count: int) -> None:
    words = DIALECT[backend]
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in SETUP.format(**words).split(";\n"):
            conn.execute(text(statement))
        fill = FILL.format(**words)
        for statement in fill.split(";\n"):
            if backend == "sqlite":  # no generate_series: a recursive CTE counts instead
                head, _, rest = statement.partition("SELECT")
                statement = (
                    f"{head}WITH RECURSIVE s(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM s "
                    f"WHERE v < :n - 1) SELECT{rest}"
                )
            conn.execute(text(statement), {"n": count})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(words["analyze"]))
    engine.dispose()
    print(f"\n{backend}: {count:,} versions filled in {time.perf_counter() - started:.0f} s")


def measure(url: str, backend: str, count: int, store, clamd, tmp: Path) -> None:
    config = Config().replace(
        database={"url": url},
        antivirus={"rescans_per_hour": 10_000_000, "lease_seconds": 3600, "clamd": clamd.address},
    )
    gs = Gshare(config, store, scanner=ClamdScanner(clamd.address))
    with gs.sessions() as db:
        print(f"  queue: {queue.queue_stats(db)}")
        print(
            f"  queue_stats (/readyz, /metrics): {median_ms(lambda: queue.queue_stats(db)):.2f} ms"
        )
    lease_the_waiting(gs)
    print(f"  idle poll: {median_ms(lambda: queue.claim(gs, 'idle', TODAY)):.2f} ms")
    print(f"  claim of a new upload: {claim_new_uploads(gs):.2f} ms")
    print(f"  claim after a signature update: {claim_rescans(gs):.2f} ms")
    endpoints(gs, tmp)
    explain(gs, backend)
    gs.engine.dispose()


def endpoints(gs: Gshare, tmp: Path) -> None:
    """Median time of the whole /readyz and /metrics, as `gshare serve`'s web app answers them:
    database, store, clamd, the S3 listener's health path, the workers' heartbeat, the queue."""
    beat = tmp / "scan-workers.beat"
    beat.touch()
    with serving(create_s3_app(gs.config, gs)) as s3:
        parts = NodeParts(s3_listen=f"127.0.0.1:{s3.port}", worker_beat=beat)
        client = create_app(gs.config, gs, parts).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        for path in ("/readyz", "/metrics"):
            print(f"  {path} (whole endpoint): {median_ms(lambda p=path: client.get(p)):.2f} ms")


def lease_the_waiting(gs: Gshare) -> None:
    """Lease the filled pending and error versions away, so that the queue is idle."""
    while queue.claim(gs, "away", None) is not None:
        pass
    assert queue.claim(gs, "idle", TODAY) is None


def claim_new_uploads(gs: Gshare) -> float:
    """Median time to claim a version just uploaded (added outside the timing)."""
    times = []
    for n in range(CLAIMS):
        with gs.unit_of_work() as ctx:
            version = Version(
                node_id=2,
                number=10_000_000 + n,
                blob_key=f"new/{n}",
                size=1,
                etag="e",
                content_type="text/plain",
                scan_state=ScanState.PENDING,
                uploaded_at=utcnow(),
            )
            ctx.db.add(version)
            ctx.db.flush()
            new_id = version.id
        start = time.perf_counter()
        claimed = queue.claim(gs, "bench", TODAY)
        times.append((time.perf_counter() - start) * 1000)
        assert claimed == new_id, (claimed, new_id)
    return statistics.median(times)


def claim_rescans(gs: Gshare) -> float:
    """Median time to claim a rescan once clamd reports new signatures (each claim leases one
    more clean version; the first numbers the new generation)."""
    queue.claim(gs, "bench", TOMORROW)
    times = []
    for _ in range(CLAIMS):
        start = time.perf_counter()
        claimed = queue.claim(gs, "bench", TOMORROW)
        times.append((time.perf_counter() - start) * 1000)
        assert claimed is not None
    return statistics.median(times)


def explain(gs: Gshare, backend: str) -> None:
    now = utcnow()
    free = queue.or_(Version.scan_lease_until.is_(None), Version.scan_lease_until < now)
    queries = {
        "due lane (idle poll, new upload)": queue._due(free, now).limit(1),
        "rescan lane": queue._stale(free, 3).limit(1),
    }
    with gs.engine.connect() as conn:
        for label, query in queries.items():
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            rows = conn.execute(text(f"{DIALECT[backend]['explain']} {sql}"))
            plan = "\n      ".join(str(row[-1]) for row in rows)
            print(f"  plan of the {label}:\n      {plan}")
        for label, sql in STATS_PLANS.items():
            rows = conn.execute(text(f"{DIALECT[backend]['explain']} {sql}"))
            plan = "\n      ".join(str(row[-1]) for row in rows)
            print(f"  plan of {label}:\n      {plan}")


STATS_PLANS = {
    "pending count": "SELECT count(*) FROM versions WHERE scan_state = 'pending'",
    "quarantined count": "SELECT count(*) FROM versions WHERE (scan_state = 'infected' OR "
    "scan_state = 'blocked') AND release_reason IS NULL",
    "oldest pending": "SELECT min(uploaded_at) FROM versions WHERE scan_state = 'pending'",
}


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per health probe
    arguments = sys.argv[1:]
    number = int(arguments.pop(0)) if arguments and arguments[0].isdigit() else 1_000_000
    main(number, arguments or ["postgresql", "sqlite"])
