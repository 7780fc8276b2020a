"""Engines, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import contextlib
import fcntl
import functools
import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event, inspect, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def make_engine(
    url: str,
    write_gate: bool = True,
    pool_size: int = 5,
    max_overflow: int = 5,
    prepared_statements: bool = True,
) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, a busy timeout and the write gate
    (see _write_gate; turned off only to measure it); PostgreSQL a pool of the given size,
    and psycopg's server-side prepared statements unless turned off (for PgBouncer in
    transaction mode, which hands each transaction any server connection: docs/postgresql.md)."""
    if url.startswith("sqlite"):
        path = _ensure_sqlite_dir(url)
        connect_args: dict[str, Any] = {"timeout": 30}
        if path is not None and write_gate:
            connect_args["factory"] = _write_gate(path)
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args={} if prepared_statements else {"prepare_threshold": None},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; services flush, callers commit."""
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_transaction_end", _release_locks)
    return factory


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic config pointing at gshare's migrations and the given database."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to the given revision, one process at a time: nodes that
    start together wait for the first, then find the schema current and change nothing.
    Nothing is prepared: each statement runs about once, and so an upgrade works through
    PgBouncer in transaction mode without a setting."""
    engine = make_engine(url, prepared_statements=False)
    try:
        with _upgrade_lock(url), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                _advisory_lock(connection, "schema upgrade")
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def lock_until_commit(db: Session, name: str) -> None:
    """Take a named lock that is held until the session's transaction ends: one holder at a
    time across processes and nodes. PostgreSQL holds it in the database (an advisory lock);
    SQLite in an flock on a file beside the database. A second taker waits. Sessions from
    make_sessionmaker let go when their transaction ends (see _release_locks)."""
    held = db.info.setdefault(_LOCKS, {})
    if name in held:
        return  # taken already in this transaction
    bind = db.get_bind()
    if bind.dialect.name == "postgresql":
        _advisory_lock(db, name)
        held[name] = None  # the database lets go at commit or rollback
        return
    path = _ensure_sqlite_dir(str(bind.engine.url))
    if path is None:
        held[name] = None  # an in-memory database has one process
        return
    lock = open(f"{path}.{name}-lock", "a")  # noqa: SIM115  (closed when the transaction ends)
    fcntl.flock(lock, fcntl.LOCK_EX)
    held[name] = lock.close


_LOCKS = "gshare.locks"


def insert(db: Session, table):
    """Return an INSERT into table for the session's database, one that takes ON CONFLICT
    clauses (PostgreSQL and SQLite both have them): a row made once by whoever comes first,
    or a counter bumped in one statement, without a SAVEPOINT or a race."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def run(db: Session, statement, params=None):
    """Execute a Core statement (one that loads no ORM object) in the session's transaction,
    after the autoflush session.execute does, without the ORM's work per statement: a quarter
    of a millisecond, as much as a small statement itself costs. For the hot paths."""
    if db.autoflush:
        db.flush()  # nothing to do, at once, when nothing changed
    return db.connection().execute(statement, params)


def insert_loaded(db: Session, obj) -> None:
    """Write a pending object with one Core INSERT and keep it in the session as if loaded
    from the database: what a flush does for it, for a third of the CPU (the unit of work's
    bookkeeping costs more than the INSERT on an upload's path). A column not set on it gets
    its default now, or is left out of the INSERT (NULL) as a flush leaves it, so nothing is
    left to load but a column with a server default alone; foreign keys must be set, not left
    to a relationship. Call it with autoflush off when other objects are pending."""
    mapper = inspect(obj).mapper
    db.expunge(obj)
    values = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in obj.__dict__:
            values[column.key] = obj.__dict__[prop.key]
        elif column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
            values[column.key] = value
            setattr(obj, prop.key, value)
        elif not column.primary_key and column.server_default is None:
            setattr(obj, prop.key, None)  # SQL NULL (a JSON column's None would be 'null')
    (primary_key,) = mapper.primary_key
    inserted = run(db, _insert_returning(mapper.local_table), values)
    setattr(obj, primary_key.key, inserted.scalar())
    make_transient_to_detached(obj)
    db.add(obj)


@functools.lru_cache(maxsize=16)
def _insert_returning(table):
    """An INSERT of a whole row returning its id, built once per table."""
    return table.insert().returning(*table.primary_key.columns)


def unreachable(url: str, exc: Exception) -> str:
    """Say in one line that the database at url (its password hidden) cannot be used, why,
    and which setting names it."""
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
    return f"cannot use the database at {shown} ([database] url): {reason}"


def _advisory_lock(executor, name: str) -> None:
    """Take PostgreSQL's advisory lock named so, held until the transaction ends."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")
    executor.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def take_turn(db: Session, name: str) -> None:
    """Make transactions that write under the same name take turns: from here until commit,
    another one taking its turn on that name waits. PostgreSQL: an advisory lock on the name;
    SQLite writes one transaction at a time, so the turn is the write gate, taken now."""
    if db.get_bind().dialect.name == "postgresql":
        _advisory_lock(db, name)
        return
    connection = db.connection().connection.dbapi_connection
    take_gate = getattr(connection, "before_write", None)
    if take_gate is not None:  # the write gate (see _write_gate); without it SQLite's own wait
        take_gate("UPDATE")


def _release_locks(session: Session, transaction) -> None:
    """Let go of the locks taken in a transaction when it ends (not when a flush's inner
    transaction does)."""
    if transaction.parent is not None:
        return
    for release in session.info.pop(_LOCKS, {}).values():
        if release is not None:
            release()


@contextlib.contextmanager
def _upgrade_lock(url: str) -> Iterator[None]:
    """Hold an flock beside a SQLite database while its schema changes (PostgreSQL locks in
    the database itself, see upgrade)."""
    path = _ensure_sqlite_dir(url) if url.startswith("sqlite") else None
    if path is None:
        yield
        return
    with open(f"{path}.upgrade-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ensure_sqlite_dir(url: str) -> Path | None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Path(path)


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_holders: collections.Counter[int] = collections.Counter()  # thread id -> gates held
_holders_lock = threading.Lock()


def _write_gate(database: Path) -> type[sqlite3.Connection]:
    """Return a connection class whose writers queue for the database in the kernel.

    SQLite lets one transaction write at a time and makes the others poll, sleeping up to
    100 ms between tries, so under parallel uploads most of the time goes to sleeping. A
    connection of this class takes an flock on `<database>.writegate` before its transaction's
    first write and lets go at its commit or rollback: waiting writers, in every gshare process
    on the machine, are woken the moment the writer before them is done. A thread that already
    holds the gate through another connection does not queue again (SQLite's own wait applies
    then, as before).
    """
    gate = f"{database}.writegate"

    class GatedConnection(sqlite3.Connection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._gate = os.open(gate, os.O_RDWR | os.O_CREAT, 0o600)
            self._held: int | bool = False  # the id of the thread holding the gate through us

        def cursor(self, factory=None):
            return super().cursor(factory or GatedCursor)

        def before_write(self, sql: str) -> None:
            if self._held or not sql.lstrip()[:7].upper().startswith(_WRITES):
                return
            thread = threading.get_ident()
            if _holders[thread]:
                return
            fcntl.flock(self._gate, fcntl.LOCK_EX)
            with _holders_lock:
                _holders[thread] += 1
            self._held = thread

        def commit(self):
            try:
                super().commit()
            finally:
                self._let_go()

        def rollback(self):
            try:
                super().rollback()
            finally:
                self._let_go()

        def close(self):
            try:
                super().close()
            finally:
                self._let_go()
                self._close_gate()

        def __del__(self):  # a connection dropped without close() must not keep its descriptor
            self._close_gate()

        def _close_gate(self) -> None:
            gate_fd, self._gate = getattr(self, "_gate", -1), -1
            if gate_fd >= 0:
                os.close(gate_fd)

        def _let_go(self) -> None:
            if self._held:
                with _holders_lock:
                    _holders[self._held] -= 1
                self._held = False
                fcntl.flock(self._gate, fcntl.LOCK_UN)

    class GatedCursor(sqlite3.Cursor):
        def execute(self, sql, *args):
            self.connection.before_write(sql)
            return super().execute(sql, *args)

        def executemany(self, sql, *args):
            self.connection.before_write(sql)
            return super().executemany(sql, *args)

    return GatedConnection


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
