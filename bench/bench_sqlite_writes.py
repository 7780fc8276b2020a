"""SQLite under parallel writers, with and without gshare's write gate (gshare/db.py).

    .venv/bin/python bench/bench_sqlite_writes.py [--processes 2] [--threads 8] [--each 100]

Each of --processes processes runs --threads threads; each thread commits --each transactions
shaped like an upload's: a read, the quota update, some Python work while SQLite's write lock
is held, an insert. Prints transactions per second and the slowest transaction, both ways.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import text  # noqa: E402

from gshare.core.db import make_engine


def writers(url: str, gate: bool, threads: int, each: int, slowest) -> None:
    engine = make_engine(url, write_gate=gate)
    worst = [0.0]

    def write() -> None:
        for _ in range(each):
            start = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM rows WHERE id < 10")).scalar()
                conn.execute(text("UPDATE counter SET n = n + 1"))
                sum(range(20_000))  # the ORM's work between a transaction's statements
                conn.execute(text("INSERT INTO rows (v) VALUES (:v)"), {"v": "x" * 100})
                conn.commit()
            worst[0] = max(worst[0], time.perf_counter() - start)

    running = [threading.Thread(target=write) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    with slowest.get_lock():
        slowest.value = max(slowest.value, worst[0])
    engine.dispose()


def run(gate: bool, processes: int, threads: int, each: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE counter (n INTEGER)"))
            conn.execute(text("INSERT INTO counter VALUES (0)"))
            conn.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, v TEXT)"))
        engine.dispose()
        fork = multiprocessing.get_context("fork")
        slowest = fork.Value("d", 0.0)
        start = time.perf_counter()
        running = [
            fork.Process(target=writers, args=(url, gate, threads, each, slowest))
            for _ in range(processes)
        ]
        for process in running:
            process.start()
        for process in running:
            process.join()
        elapsed = time.perf_counter() - start
        return processes * threads * each / elapsed, slowest.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--each", type=int, default=100)
    args = parser.parse_args()
    for gate in (True, False, True, False):
        rate, worst = run(gate, args.processes, args.threads, args.each)
        print(
            f"write gate {'on ' if gate else 'off'}: {rate:6.0f} transactions/s, "
            f"slowest {worst * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
