"""Helpers shared by the benchmarks: a synthetic stream, an RSS sampler, a local S3 server."""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

MiB = 1024 * 1024


TEXT_BLOCK = (
    "ບົດລາຍງານປະຈຳປີ ຂອງກະຊວງ, ພາກທີ 4.2: annual report of the ministry, "
    "section 4.2, budget lines and staffing\n" * 12000
).encode()[:MiB]


class Synthetic:
    """A readable stream of `size` bytes built from one MiB (random unless given), never held
    whole. Random bytes stand for compressed documents (PDF, DOCX, JPEG, ZIP)."""

    def __init__(self, size: int, block: bytes | None = None):
        self.left = size
        self.block = block or os.urandom(MiB)

    def read(self, n: int = -1) -> bytes:
        n = min(self.left, MiB if n is None or n < 0 else n, MiB)
        self.left -= n
        return self.block[:n]


def rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRSS:
    """Sample this process's RSS every 20 ms; `growth` is the peak over the starting value."""

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / MiB


@contextlib.contextmanager
def s3_server():
    """Yield (endpoint, access_key, secret_key) of a fresh embedded S3 server."""
    import storage

    keys = ("bench" + secrets.token_hex(4), secrets.token_urlsafe(24))
    with tempfile.TemporaryDirectory() as tmp:
        server = storage.EmbeddedS3Server(Path(tmp), *keys)
        server.start()
        try:
            yield server.endpoint, *keys
        finally:
            server.stop()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(fn, runs: int = 50) -> float:
    """Return the median time of fn in milliseconds over runs calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"  # the server the benches default to


@contextlib.contextmanager
def scratch_postgres(server: str = POSTGRES):
    """Yield the URL of a new, empty PostgreSQL database on server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"gshare_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def on_both_databases(run, postgres: str | None = POSTGRES) -> None:
    """Call run(label, database_url, scratch_dir) on a new SQLite file, then (unless postgres
    is None) on a new PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.db", Path(tmp))
    if postgres:
        with scratch_postgres(postgres) as url, tempfile.TemporaryDirectory() as tmp:
            run("PostgreSQL", url, Path(tmp))
