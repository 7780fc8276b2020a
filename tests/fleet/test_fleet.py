"""A fleet at work: two gshare nodes and an extra scan worker sharing one PostgreSQL database,
one S3 server and one clamd (tests/fleet/conftest.py starts them).

What a person sees: a session begun on one node works on the other; a multipart upload may
send its parts to any node; the scan queue is shared by every worker, a job whose worker dies
is taken over within a lease, and a sync tool behind a load balancer does not notice a node
restarting. Where CI=true a missing PostgreSQL, clamd or aws cli fails the module.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import http.cookiejar
import itertools
import os
import re
import socket
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from gshare.core.models import Node, Version
from tests.fixtures.served import start_aws
from tests.fleet.nodes import BUCKET, DISPLAY_NAME, LEASE_SECONDS, PASSWORD
from tests.helpers import eventually

pytestmark = pytest.mark.fleet

MiB = 1024 * 1024
JUDGED = re.compile(r"version (\d+): clean")
SERVER_ERROR = re.compile(r'HTTP/[\d.]+" 5\d\d ')


@pytest.fixture(scope="module")
def database(fleet):
    """An engine on the fleet's database, to watch the scan queue as the workers see it."""
    engine = create_engine(fleet.database_url, pool_size=1, max_overflow=1)
    yield engine
    engine.dispose()


def version_of(database, name: str):
    """Return the newest version of the file called name, its scan state and lease."""
    query = (
        select(
            Version.id,
            Version.scan_state,
            Version.scan_lease_owner,
            Version.scan_lease_until,
            Version.scanned_at,
        )
        .join(Node, Node.id == Version.node_id)
        .where(Node.name == name)
        .order_by(Version.id.desc())
        .limit(1)
    )
    with database.connect() as conn:
        return conn.execute(query).one_or_none()


def judged_by(fleet) -> dict[str, set[int]]:
    """Return, for each scan worker process, the versions its log says it found clean."""
    return {
        name: {int(n) for n in JUDGED.findall(log.read_text())}
        for name, log in fleet.worker_logs().items()
    }


def html_report(size: int, title: str) -> bytes:
    """Return an HTML page of about size bytes full of small scripts: clamd normalises every
    one, so a 19 MiB page takes it a second or two where random bytes take a quarter."""
    block = "<div><script>var total = 1 + 2;</script><p>ລາຍງານ budget line</p></div>\n".encode()
    head = f"<html><head><title>{title}</title></head><body>\n".encode()
    return (head + block * (size // len(block) + 1))[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- 1. a session begun on one node works on the other ----------------------------------------


def browser() -> urllib.request.OpenerDirector:
    """Return a browser of sorts: follows redirects and keeps cookies."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def test_session_begun_on_one_node_shows_the_person_on_the_other(fleet):
    person = browser()
    with person.open(f"{fleet.a.web_url}/login", timeout=10) as form:
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.read().decode())[1]
    fields = {"csrf_token": token, "username": "alice", "password": PASSWORD}
    with person.open(
        f"{fleet.a.web_url}/login", urllib.parse.urlencode(fields).encode(), timeout=10
    ) as home:
        assert home.url == f"{fleet.a.web_url}/"
        assert DISPLAY_NAME in home.read().decode()

    with person.open(f"{fleet.b.web_url}/", timeout=10) as on_b:
        assert on_b.url == f"{fleet.b.web_url}/"  # not sent to B's sign-in page
        assert DISPLAY_NAME in on_b.read().decode()
    with browser().open(f"{fleet.b.web_url}/", timeout=10) as stranger:
        assert urllib.parse.urlsplit(stranger.url).path == "/login"  # B asks anyone else
        assert DISPLAY_NAME not in stranger.read().decode()


# -- 2. a multipart upload whose parts go to both nodes ---------------------------------------


def test_multipart_upload_with_parts_on_both_nodes_reads_back_exactly(fleet):
    on_a, on_b = fleet.site.client(url=fleet.a.s3_url), fleet.site.client(url=fleet.b.s3_url)
    key = "ຫຼາຍພາກ/ລາຍງານປະຈຳປີ.bin"
    parts = [os.urandom(5 * MiB) for _ in range(3)] + [os.urandom(MiB + 7)]
    upload = on_a.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    sent = []
    for number, (client, data) in enumerate(zip(itertools.cycle([on_a, on_b]), parts), 1):
        done = client.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=data
        )
        sent.append({"PartNumber": number, "ETag": done["ETag"]})
    listed = on_b.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == [
        (p["PartNumber"], p["ETag"]) for p in sent
    ]  # B knows the parts A took
    on_b.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": sent}
    )

    got = on_a.get_object(Bucket=BUCKET, Key=key)
    assert got["ETag"].endswith('-4"')
    assert sha256(got["Body"].read()) == sha256(b"".join(parts))


# -- 3. the scan queue is shared by every worker ----------------------------------------------


def test_uploads_are_judged_clean_by_the_workers_of_the_fleet_between_them(fleet, database):
    alice = [fleet.site.client(url=fleet.a.s3_url), fleet.site.client(url=fleet.b.s3_url)]
    names = [f"queue/ລາຍງານ-{n:02}.html" for n in range(9)]
    # About 0.3 s of clamd's time each: together longer than a worker's idle poll (1 s), so
    # every worker comes back for work while some is left.
    pages = {name: html_report(4 * MiB, name) for name in names}
    for client, name in zip(itertools.cycle(alice), names):
        client.put_object(Bucket=BUCKET, Key=name, Body=pages[name])
    carol = fleet.site.client(fleet.colleague, url=fleet.b.s3_url)

    def carol_sees_them_all():
        listed = carol.list_objects_v2(Bucket=BUCKET, Prefix="queue/").get("Contents", [])
        assert sorted(o["Key"] for o in listed) == names  # only clean files show to others
        return True

    eventually(carol_sees_them_all, timeout=60, interval=0.2)
    for name in names:
        assert sha256(carol.get_object(Bucket=BUCKET, Key=name)["Body"].read()) == sha256(
            pages[name]
        )

    ids = {version_of(database, name.rsplit("/", 1)[1]).id for name in names}
    judged = {worker: found & ids for worker, found in judged_by(fleet).items()}
    assert set().union(*judged.values()) == ids
    assert sum(len(found) for found in judged.values()) == len(ids)  # none judged twice
    assert len([worker for worker, found in judged.items() if found]) >= 2, judged


# -- 4. a worker killed mid-scan: another takes its job over ----------------------------------


def test_scan_of_a_killed_worker_is_taken_over_after_its_lease_and_the_file_ends_clean(
    fleet, database
):
    name = "ລາຍງານໃຫຍ່.html"
    page = html_report(19 * MiB, name)  # under max_scan_size_mb = 20
    for node in (fleet.a, fleet.b):  # for now only the extra worker takes jobs
        node.stop_worker()
    try:
        fleet.site.client(url=fleet.a.s3_url).put_object(
            Bucket=BUCKET, Key=f"takeover/{name}", Body=page
        )
        leased = eventually(
            lambda: (v := version_of(database, name)) and v.scan_lease_owner and v,
            timeout=30,
            interval=0.02,
            what="the extra worker to lease the scan",
        )
        fleet.extra_worker.kill()  # kill -9, mid-scan
        fleet.extra_worker.wait()
        held = version_of(database, name)
        assert held.scan_state == "pending", "the scan ended before the worker was killed"
    finally:
        for node in (fleet.a, fleet.b):  # their supervisor starts them again
            node.start_worker()

    carol = fleet.site.client(fleet.colleague, url=fleet.b.s3_url)

    def carol_reads_it():
        return sha256(carol.get_object(Bucket=BUCKET, Key=f"takeover/{name}")["Body"].read())

    # hidden from carol until clean: NoSuchKey is "not yet"
    digest = eventually(
        carol_reads_it,
        timeout=LEASE_SECONDS + 20,
        interval=0.2,
        retry_on=(carol.exceptions.NoSuchKey,),
        what="another worker to judge the file",
    )
    assert digest == sha256(page)
    judged = judged_by(fleet)
    assert leased.id not in judged["extra"]
    assert leased.id in judged["a"] | judged["b"]
    assert version_of(database, name).scanned_at > held.scan_lease_until  # never a live lease


# -- 5. a node restarted while the aws cli syncs through a load balancer ----------------------


class FailoverProxy:
    """A TCP load balancer in front of the nodes' S3 endpoints: each new connection goes to the
    next node in turn, or to the other when that one refuses (it is down)."""

    def __init__(self, upstreams: list[str]):
        self.upstreams = [urllib.parse.urlsplit(url).netloc.rsplit(":", 1) for url in upstreams]
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections: collections.Counter[int] = collections.Counter()
        self._turn = itertools.count()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FailoverProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._thread.join()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._carry, args=(client,), daemon=True).start()

    def _connect(self) -> socket.socket:
        first = next(self._turn)
        for n in range(first, first + len(self.upstreams)):
            index = n % len(self.upstreams)
            host, port = self.upstreams[index]
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except ConnectionRefusedError:
                continue
            upstream.settimeout(None)
            self.connections[index] += 1
            return upstream
        raise ConnectionRefusedError("no node answers")

    def _carry(self, client: socket.socket) -> None:
        with client:
            client.settimeout(None)
            try:
                upstream = self._connect()
            except OSError:
                return
            with upstream:
                back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
                back.start()
                _pump(client, upstream)
                back.join()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until the source ends, then end the target's side (or both on an error)."""
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def make_tree(root: Path) -> None:
    """Write a folder tree to sync: 200 small files, some with Lao names, and one file the aws
    cli sends in three parts."""
    for n in range(200):
        folder = root / ("ເອກະສານ" if n % 3 else "reports") / f"ປີ {2020 + n % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"ບົດລາຍງານ {n:03}.txt" if n % 2 else f"note-{n:03}.csv"
        (folder / name).write_bytes(f"{n}: ລາຍງານ\n".encode() * (n + 1) + os.urandom(n))
    (root / "ຖານຂໍ້ມູນ.bin").write_bytes(os.urandom(17 * MiB))  # parts of 8 MiB


def stored_under(client, prefix: str) -> dict[str, str]:
    """Return {key below prefix: ETag} of what the client's person lists."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"][len(prefix) :]: o["ETag"] for p in pages for o in p.get("Contents", [])}


def count_versions(database) -> int:
    with database.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Version))


def server_errors(fleet) -> list[str]:
    """Return the lines of every node's logs that record a 5xx answer."""
    logs = [node.log(part) for node in (fleet.a, fleet.b) for part in ("web", "s3")]
    lines = [line for log in logs for line in log.read_text().splitlines()]
    return [line for line in lines if SERVER_ERROR.search(line)]


def test_aws_sync_through_a_balancer_goes_on_through_a_node_restart_and_loses_nothing(
    fleet, database, tmp_path
):
    source = tmp_path / "source"
    make_tree(source)
    files = {str(p.relative_to(source)): p for p in source.rglob("*") if p.is_file()}
    sync = ("s3", "sync", "--no-progress", f"{source}/", f"s3://{BUCKET}/sync/")
    before = count_versions(database)
    with FailoverProxy([fleet.a.s3_url, fleet.b.s3_url]) as balancer:
        first = start_aws(fleet.site, tmp_path, *sync, url=balancer.url)
        eventually(lambda: count_versions(database) >= before + 20, timeout=60, interval=0.1)
        assert first.poll() is None, "the sync ended before node A was stopped"
        fleet.a.restart()
        first_out, first_err = first.communicate(timeout=300)
        again = start_aws(fleet.site, tmp_path, *sync, url=balancer.url)
        again_out, again_err = again.communicate(timeout=300)
    assert first.returncode == 0, first_out + first_err  # the restart went unnoticed
    assert again.returncode == 0 and again_out.strip() == "", again_out + again_err  # all there
    assert balancer.connections[0] and balancer.connections[1], balancer.connections

    stored = stored_under(fleet.site.client(url=fleet.b.s3_url), "sync/")
    assert set(stored) == set(files)
    for name, path in files.items():
        if path.stat().st_size < 8 * MiB:  # sent whole: the ETag is the MD5 of the bytes
            assert stored[name] == f'"{hashlib.md5(path.read_bytes()).hexdigest()}"', name
    big = fleet.site.client(url=fleet.a.s3_url).get_object(Bucket=BUCKET, Key="sync/ຖານຂໍ້ມູນ.bin")
    assert big["ETag"].endswith('-3"')
    assert sha256(big["Body"].read()) == sha256(files["ຖານຂໍ້ມູນ.bin"].read_bytes())
    assert server_errors(fleet) == []
