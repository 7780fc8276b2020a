"""SQLite under parallel writers: every write lands, and waiting writers queue instead of
polling (gshare.db's write gate)."""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from gshare.core.db import make_engine
from tests.helpers import eventually


def _setup(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
        conn.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, who TEXT)"))
    engine.dispose()


def _writers(url: str, threads: int, each: int) -> None:
    """Run threads that each commit `each` transactions of a read, an update and an insert."""
    engine = make_engine(url)

    def write(name: str) -> None:
        for _ in range(each):
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM rows")).scalar()
                conn.execute(text("UPDATE counter SET n = n + 1"))
                conn.execute(text("INSERT INTO rows (who) VALUES (:who)"), {"who": name})
                conn.commit()

    workers = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    engine.dispose()


def test_parallel_writers_in_two_processes_all_land(tmp_path):
    url = f"sqlite:///{tmp_path / 'gshare.db'}"
    _setup(url)
    fork = multiprocessing.get_context("fork")
    processes = [fork.Process(target=_writers, args=(url, 6, 40)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0]
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 2 * 6 * 40
        assert conn.execute(text("SELECT count(*) FROM rows")).scalar() == 2 * 6 * 40
    engine.dispose()


def _gate_is_free(database) -> bool:
    with open(f"{database}.writegate", "rb") as gate:
        try:
            fcntl.flock(gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(gate, fcntl.LOCK_UN)
        return True


def test_a_writer_holds_the_gate_from_its_first_write_to_its_commit(tmp_path):
    database = tmp_path / "gshare.db"
    _setup(f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        conn.execute(text("SELECT n FROM counter")).scalar()
        assert _gate_is_free(database)  # reading takes nothing
        conn.execute(text("UPDATE counter SET n = 5"))
        assert not _gate_is_free(database)
        conn.commit()
        assert _gate_is_free(database)
        conn.execute(text("UPDATE counter SET n = 6"))
        conn.rollback()
        assert _gate_is_free(database)
    engine.dispose()


def _waiting_at_the_gate(database) -> bool:
    """Tell whether someone waits for the write gate's flock (the kernel lists a blocked
    flock request in /proc/locks with '->' before it)."""
    inode = os.stat(f"{database}.writegate").st_ino
    with open("/proc/locks") as locks:
        return any("-> FLOCK" in line and f":{inode} " in line for line in locks)


def test_a_waiting_writer_goes_on_once_the_first_commits(tmp_path):
    database = tmp_path / "gshare.db"
    url = f"sqlite:///{database}"
    _setup(url)
    engine = make_engine(url)
    first = engine.connect()
    first.execute(text("UPDATE counter SET n = 1"))  # holds the write lock until its commit
    done = []

    def second() -> None:
        with engine.connect() as conn:
            conn.execute(text("UPDATE counter SET n = n * 10"))
            conn.commit()
            done.append(time.monotonic())

    waiter = threading.Thread(target=second)
    waiter.start()
    eventually(lambda: _waiting_at_the_gate(database), what="the second writer to wait")
    assert not done  # still waiting for the first writer
    first.commit()
    first.close()
    waiter.join(timeout=10)
    assert done
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 10  # after the first
    engine.dispose()


def test_one_thread_writing_through_two_connections_is_told_the_database_is_locked(tmp_path):
    """A nested write from the thread that holds the gate must not wait on itself forever:
    SQLite's own busy timeout answers instead."""
    url = f"sqlite:///{tmp_path / 'gshare.db'}"
    _setup(url)
    engine = make_engine(url)
    outer = engine.connect()
    outer.execute(text("UPDATE counter SET n = 1"))
    inner = engine.connect()
    inner.exec_driver_sql("PRAGMA busy_timeout = 200")
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        inner.execute(text("UPDATE counter SET n = 2"))
    assert time.monotonic() - started < 5
    inner.close()
    outer.commit()
    outer.close()
    engine.dispose()


def test_connections_closed_twice_or_dropped_keep_no_descriptor_open(tmp_path):
    import gc

    def open_on_database() -> int:
        """Descriptors of this process on the database's files (other threads' own come and
        go: counting them all made this test fail under load)."""
        targets = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        return sum(target.startswith(str(tmp_path)) for target in targets)

    engine = make_engine(f"sqlite:///{tmp_path / 'gshare.db'}")
    held = engine.raw_connection()
    held.driver_connection.execute("SELECT 1")
    assert open_on_database() >= 1  # an open connection is seen
    held.invalidate()
    for _ in range(20):
        pooled = engine.raw_connection()
        pooled.driver_connection.close()
        pooled.driver_connection.close()  # closing twice is harmless
        pooled.invalidate()
    for _ in range(20):
        engine.raw_connection().driver_connection.execute("SELECT 1")  # dropped unclosed
    engine.dispose()
    gc.collect()
    assert open_on_database() == 0
