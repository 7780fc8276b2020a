"""gshare through PgBouncer in transaction pooling mode, as docs/postgresql.md sets it up.

The module starts a PgBouncer of its own (Debian's `pgbouncer`; its ini and userlist in a temp
directory, a free port, `pool_mode = transaction`, at most four server connections per
database) in front of the suite's PostgreSQL, and a fresh database behind it, dropped at the
end. gshare connects to PgBouncer with `[database] prepared_statements = false`.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, make_url, select, text

from gshare.core import db as database
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Base, Node, ScanState, User, Version
from gshare.files import content
from gshare.scanning.queue import claim
from tests.fixtures.database import POSTGRES, _truncate
from tests.fixtures.world import World, mark_scanned
from tests.helpers import eventually, missing

pytestmark = pytest.mark.postgres

SERVER_CONNECTIONS = 4  # PgBouncer's default_pool_size here: PostgreSQL sees at most this many


@dataclass
class Bouncer:
    """A running PgBouncer: URLs through it, and its admin console."""

    port: int
    user: str
    password: str
    process: subprocess.Popen
    log: Path

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def console(self, command: str) -> list[dict]:
        """Run a command on PgBouncer's admin console; return its rows."""
        conninfo = psycopg.conninfo.make_conninfo(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="pgbouncer",
        )
        # the console speaks the simple query protocol only: a client-side-binding cursor
        with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as c:
            cursor = c.execute(command)
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def connections(self, kind: str, database_name: str) -> int:
        """How many connections to a database PgBouncer holds: kind CLIENTS (from gshare) or
        SERVERS (to PostgreSQL)."""
        return sum(row["database"] == database_name for row in self.console(f"SHOW {kind}"))

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def pgbouncer_program() -> str:
    """Debian installs pgbouncer in /usr/sbin, which a normal user's PATH may lack."""
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found is None:
        missing("pgbouncer is not installed (apt-get install pgbouncer)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def bouncer(tmp_path_factory):
    """Start PgBouncer in transaction mode in front of the suite's PostgreSQL."""
    program = pgbouncer_program()
    server = make_url(POSTGRES)
    user, password = server.username or "postgres", server.password or "pgbouncer-test"
    where = tmp_path_factory.mktemp("pgbouncer")
    port = free_port()
    (where / "userlist.txt").write_text(f'"{user}" "{password}"\n')
    (where / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {where / 'userlist.txt'}\n"
        f"admin_users = {user}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 200\n"
    )
    # PgBouncer refuses to run as root; as root, it reads its files and becomes nobody
    as_user = ["-u", "nobody"] if os.geteuid() == 0 else []
    log = where / "pgbouncer.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [program, *as_user, str(where / "pgbouncer.ini")], stdout=out, stderr=out
        )
    running = Bouncer(port, user, password, process, log)

    def answers():
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited at start:\n{running.output()}", pytrace=False)
        return running.console("SHOW VERSION")

    try:
        eventually(answers, timeout=15, retry_on=(psycopg.OperationalError,), what="pgbouncer")
        yield running
    finally:
        process.terminate()
        process.wait(timeout=15)


def create_database() -> str:
    """Create an empty database on the suite's PostgreSQL (directly, not through PgBouncer)."""
    name = f"gshare_pgbouncer_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection problem: say it, fail or skip
        missing(f"PostgreSQL not available: {str(exc).splitlines()[0]}")
    finally:
        admin.dispose()
    return name


def drop_database(name: str) -> None:
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def server_connections(name: str) -> int:
    """How many connections PostgreSQL itself has open to a database (pg_stat_activity)."""
    admin = create_engine(f"{POSTGRES}/postgres")
    with admin.connect() as conn:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name")
        count = conn.scalar(query, {"name": name})
    admin.dispose()
    return count


@pytest.fixture(scope="module")
def bounced_database(bouncer):
    """A fresh database at head for the module, its schema made through PgBouncer."""
    name = create_database()
    database.upgrade(bouncer.url(name))
    yield name
    drop_database(name)


@pytest.fixture
def config(bouncer, bounced_database, tmp_path):
    """gshare's config through PgBouncer (replaces the suite's: gs, ctx and world use it); the
    database is emptied after each test."""
    yield Config().replace(
        database={"url": bouncer.url(bounced_database), "prepared_statements": False},
        server={"data_dir": str(tmp_path / "var")},
    )
    _truncate(f"{POSTGRES}/{bounced_database}")


def run_all(target, count: int) -> list:
    """Run target(n) in `count` threads started together; return what each returned (an
    exception it raised in its place)."""
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = target(n)
        except Exception as exc:  # reported by the test with every thread's
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def read_back(gs: Gshare, person_id: int, node_id: int, version_id: int | None = None) -> bytes:
    """Download a file as a person, in a unit of work of its own."""
    with gs.unit_of_work() as ctx:
        download = content.open_download(ctx, ctx.db.get(User, person_id), node_id, version_id)
        with download.stream as stream:
            return b"".join(stream)


@pytest.mark.slow  # two gshare processes, one waiting for the other
def test_two_nodes_running_db_upgrade_through_pgbouncer_at_once_both_succeed(bouncer, tmp_path):
    """`gshare db upgrade` from two nodes at once, through PgBouncer: one waits for the
    other's transaction-scoped lock, both exit 0 and the schema is the models' schema."""
    name = create_database()
    try:
        url = bouncer.url(name)
        config = tmp_path / "config.toml"
        config.write_text(
            f'[server]\ndata_dir = "{tmp_path / "var"}"\n'
            f'[database]\nurl = "{url}"\nprepared_statements = false\n'
        )
        gshare = str(Path(sys.executable).parent / "gshare")
        runs = [
            subprocess.Popen(
                [gshare, "--config", str(config), "db", "upgrade"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        engine = database.make_engine(url, prepared_statements=False)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        engine.dispose()
    finally:
        drop_database(name)


def test_departments_people_and_files_work_end_to_end_through_pgbouncer(gs):
    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice = world.user("alice", department="Planning")
        bob = world.user("bob", department="Planning")
        shared = world.department_root("Planning")
        alice_id, bob_id = alice.id, bob.id
    files = {f"report-{n}.txt": f"report {n}\n".encode() * 1000 for n in range(5)}
    nodes = {}
    for name, data in files.items():  # each upload a unit of work of its own
        with gs.unit_of_work() as ctx:
            version = World(ctx).upload(ctx.db.get(User, alice_id), shared, name, data)
            nodes[name] = version.node_id
    with gs.unit_of_work() as ctx:
        second = World(ctx).upload(ctx.db.get(User, bob_id), shared, "report-0.txt", b"revised")
    assert second.number == 2 and second.node_id == nodes["report-0.txt"]
    for name, data in files.items():
        expected = b"revised" if name == "report-0.txt" else data
        assert read_back(gs, bob_id, nodes[name]) == expected
    with gs.unit_of_work() as ctx:
        bob = ctx.db.get(User, bob_id)
        history = content.list_versions(ctx, bob, nodes["report-0.txt"])
        assert [v.number for v in history] == [2, 1]
        first_id = history[1].id
    assert read_back(gs, bob_id, nodes["report-0.txt"], first_id) == files["report-0.txt"]


def test_writers_racing_onto_one_name_through_pgbouncer_add_contiguous_versions(gs):
    """Eight writers PUT one name at once, more than PgBouncer's four server connections:
    each adds a version in its turn (an advisory lock held to the end of its transaction)."""
    with gs.unit_of_work() as ctx:
        alice = World(ctx).user("alice")
        alice_id, home_id = alice.id, World(ctx).home(alice).id

    def put(n: int) -> tuple[int, bytes]:
        data = f"writer {n}".encode()
        with gs.unit_of_work() as ctx:
            person, folder = ctx.db.get(User, alice_id), ctx.db.get(Node, home_id)
            version = content.upload_file(ctx, person, folder, "same.txt", io.BytesIO(data))
            return version.number, data

    results = run_all(put, 8)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(number for number, _ in results) == list(range(1, 9))
    node_id = _only_file(gs, home_id)
    assert read_back(gs, alice_id, node_id) == max(results)[1]  # the last writer's bytes


def _only_file(gs: Gshare, folder_id: int) -> int:
    with gs.unit_of_work() as ctx:
        (node_id,) = ctx.db.scalars(select(Node.id).where(Node.parent_id == folder_id)).all()
        return node_id


def test_two_scan_workers_through_pgbouncer_claim_different_versions(gs):
    """Two workers claim at the same moment, three times over: SKIP LOCKED gives each its own
    version, and together they take every pending one."""
    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice = world.user("alice")
        home = world.home(alice)
        pending = {
            world.upload(alice, home, f"scan-me-{n}.txt", b"to scan %d" % n, clean=False).id
            for n in range(6)
        }
    with gs.unit_of_work() as ctx:
        states = ctx.db.scalars(select(Version.scan_state).where(Version.id.in_(pending)))
        assert set(states) == {ScanState.PENDING}
    rounds = threading.Barrier(2)

    def work(n: int) -> list[int | None]:
        claimed = []
        for _ in range(3):
            rounds.wait()
            claimed.append(claim(gs, f"worker-{n}", None))
        return claimed

    first, second = run_all(work, 2)
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(pending)


def test_twelve_gshare_processes_through_pgbouncer_use_four_server_connections(
    bouncer, bounced_database, config, s3_store
):
    """Twelve gshare runtimes (a process each, as on two nodes: web, S3 and worker processes)
    upload and read at once: PgBouncer holds a client connection for each, PostgreSQL sees
    at most PgBouncer's four."""
    runtimes = [Gshare(config, s3_store) for _ in range(12)]
    try:
        with runtimes[0].unit_of_work() as ctx:
            alice = World(ctx).user("alice")
            alice_id, home_id = alice.id, World(ctx).home(alice).id

        def upload_and_read(n: int) -> bool:
            gs, data = runtimes[n], f"process {n}\n".encode() * 100
            with gs.unit_of_work() as ctx:
                person, folder = ctx.db.get(User, alice_id), ctx.db.get(Node, home_id)
                upload = content.upload_file(ctx, person, folder, f"p{n}.txt", io.BytesIO(data))
                mark_scanned(upload, ScanState.CLEAN)
                node_id = upload.node_id
            return all(read_back(gs, alice_id, node_id) == data for _ in range(10))

        results = run_all(upload_and_read, 12)
        assert results == [True] * 12, results
        assert bouncer.connections("CLIENTS", bounced_database) == 12
        assert 0 < bouncer.connections("SERVERS", bounced_database) <= SERVER_CONNECTIONS
        assert 0 < server_connections(bounced_database) <= SERVER_CONNECTIONS
    finally:
        for gs in runtimes:
            gs.engine.dispose()
