"""`gshare fsck` over N version rows: its time and peak RSS growth, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_fsck.py [--versions 200000] [--real-blobs] [--postgres URL]

The rows are inserted directly, in bulk, in random key order. The real S3 server holds blobs
for a sample of them, a few orphans, and none for a few rows (so fsck has something to report).
The other rows' blobs are not stored: the store's listing names them from a sorted file, as the
pages of a real listing would, so a run takes seconds, not the hour 200,000 PUTs would. With
--real-blobs every blob is stored for real (use a smaller --versions).

fsck runs in a fresh process, so the RSS it reports is fsck's own, not the setup's.
"""

from __future__ import annotations

import argparse
import heapq
import io
import multiprocessing
import random
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import PeakRSS, on_both_databases, s3_server, timed
from sqlalchemy import insert, select, text

import storage
from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Node, NodeKind, ScanState, Version
from gshare.ops import maintenance
from gshare.org import departments, spaces, users

SAMPLE, ORPHANS, MISSING = 500, 10, 10
FILES = 1_000
BATCH = 10_000


class ListedStore:
    """The real store, whose listing also names the blobs of a sorted key file."""

    def __init__(self, store: storage.S3Store, listed: Path):
        self.store, self.listed = store, listed

    def __getattr__(self, name):
        return getattr(self.store, name)

    def list(self, prefix: str = ""):
        return heapq.merge(self.store.list(prefix), self._named(prefix), key=lambda o: o.key)

    def _named(self, prefix: str):
        with self.listed.open() as fh:
            for line in fh:
                if line.startswith(prefix):
                    yield storage.ObjectInfo(line.rstrip("\n"), 1, "0" * 32, None)


def build(gs: Gshare, versions: int, listed: Path, real_blobs: bool) -> None:
    """Insert the rows; store the sample's blobs and the orphans; write the listed keys."""
    with gs.unit_of_work() as ctx:
        dep = departments.add_department(ctx, OPERATOR, "Bench", slug="bench")
        alice = users.add_user(ctx, OPERATOR, "alice", "Alice", dep)
        root = spaces.root_of(ctx.db, spaces.personal_space(ctx, alice))
        ctx.db.execute(
            insert(Node),
            [
                dict(
                    space_id=root.space_id,
                    parent_id=root.id,
                    path=root.child_path,
                    kind=NodeKind.FILE,
                    name=f"file {i:04}.pdf",
                    search_name=f"file {i:04}.pdf",
                    created_by=alice.id,
                )
                for i in range(FILES)
            ],
        )
        nodes = ctx.db.scalars(select(Node.id).where(Node.parent_id == root.id)).all()
        keys = [f"v/{uuid.uuid4().hex}" for _ in range(versions)]
        for start in range(0, versions, BATCH):
            ctx.db.execute(
                insert(Version),
                [
                    dict(
                        node_id=nodes[i % FILES],
                        number=i // FILES + 1,
                        blob_key=keys[i],
                        size=1,
                        etag="0" * 32,
                        content_type="application/pdf",
                        uploaded_by=alice.id,
                        scan_state=ScanState.CLEAN,
                    )
                    for i in range(start, min(start + BATCH, versions))
                ],
            )
    shuffled = random.sample(keys, len(keys))
    missing = set(shuffled[:MISSING])
    stored = shuffled[MISSING:] if real_blobs else shuffled[MISSING : MISSING + SAMPLE]
    orphans = [f"v/{uuid.uuid4().hex}" for _ in range(ORPHANS)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: gs.store.put(key, io.BytesIO(b"x"), 1), stored + orphans))
    skip = missing | set(stored)
    listed.write_text("".join(f"{key}\n" for key in sorted(keys) if key not in skip))


def measure(url: str, endpoint: str, access: str, secret: str, listed: str, queue) -> None:
    """Run fsck in this fresh process and send back its time, RSS growth and findings."""
    store = storage.S3Store(endpoint, access, secret, "bench")
    gs = Gshare(Config().replace(database={"url": url}), ListedStore(store, Path(listed)))
    with gs.unit_of_work() as ctx:
        ctx.db.execute(text("SELECT 1"))
        result = {}
        with PeakRSS() as rss:
            seconds = timed(lambda: result.setdefault("report", maintenance.fsck(ctx)))
        report = result["report"]
        queue.put((seconds, rss.growth_mb, len(report.missing_blobs), len(report.orphan_blobs)))
    gs.engine.dispose()


def run(label: str, url: str, args, s3) -> None:
    database.upgrade(url)
    endpoint, access, secret = s3
    store = storage.S3Store(endpoint, access, secret, "bench")
    store.ensure_bucket()
    with tempfile.TemporaryDirectory() as tmp:
        listed = Path(tmp) / "listed.txt"
        gs = Gshare(Config().replace(database={"url": url}), store)
        build(gs, args.versions, listed, args.real_blobs)
        gs.engine.dispose()
        spawn = multiprocessing.get_context("spawn")
        queue = spawn.Queue()
        child = spawn.Process(target=measure, args=(url, *s3, str(listed), queue))
        child.start()
        seconds, growth, missing, orphans = queue.get()
        child.join()
    for blob in store.list():
        store.delete(blob.key)
    print(
        f"{label:10} {args.versions:,} versions: fsck {seconds:6.2f} s, peak RSS "
        f"+{growth:6.1f} MB ({missing} missing, {orphans} orphans found)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=200_000)
    parser.add_argument("--real-blobs", action="store_true")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    print(f"fsck from {maintenance.__file__}")
    with s3_server() as s3:
        on_both_databases(lambda label, url, _tmp: run(label, url, args, s3), args.postgres)


if __name__ == "__main__":
    main()
