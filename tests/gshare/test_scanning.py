"""The scan gate against a real clamd: nobody but the uploader sees a file before it is clean.

Signatures are the suite's own (tests/fixtures/clamd.py): EICAR by hash, and body signatures
for marker strings, which clamd also finds inside ZIP files.
"""

import io
import os
import struct
import threading
import time
import uuid
import zipfile
from datetime import datetime, timedelta

import pytest

from antivirus import ClamdScanner
from gshare.access.permissions import Role
from gshare.activity import notifications
from gshare.core.actor import OPERATOR
from gshare.core.context import Gshare
from gshare.core.errors import NotFound, Quarantined
from gshare.core.models import ScanState, SignatureGeneration, UserRole, Version, utcnow
from gshare.files import content, lookup
from gshare.ops.health import WEB_ALONE, NodeParts
from gshare.scanning import quarantine
from gshare.scanning.queue import Backoff, Heartbeat, Worker, claim, scan_version
from gshare.scanning.verdicts import signature_generation
from gshare.sharing import grants
from tests.fixtures.clamd import EICAR_SIGNATURE, MARKER, body_signature, eicar_bytes
from tests.fixtures.world import World
from tests.helpers import eventually, serving
from web.s3.app import create_s3_app

MiB = 1024 * 1024
CLEAN_TEXT = "Minutes of the budget meeting, ສະບາຍດີ\n".encode() * 100
FAST = Backoff(base=0.1, cap=0.5)


@pytest.fixture
def scan_config(config, clamd_daemon):
    return config.replace(
        antivirus={"clamd": clamd_daemon.address, "max_scan_size_mb": 20, "lease_seconds": 60}
    )


@pytest.fixture
def gs(scan_config, s3_store, scanner):
    runtime = Gshare(
        scan_config, s3_store, scanner=ClamdScanner(scan_config.antivirus.clamd, timeout=20)
    )
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def office(gs):
    """Finance (where alice uploads to the department space) shares it with Audit (bob)."""
    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice, bob = world.user("alice", "Finance"), world.user("bob", "Audit")
        root = world.department_root("Finance")
        grants.grant_role(ctx, OPERATOR, root.id, Role.VIEWER, department=bob.department)
        return alice, bob, root


def upload(gs, actor, folder, name, data: bytes, size: int | None = -1) -> Version:
    with gs.unit_of_work() as ctx:
        ctx.db.add_all([actor, folder])
        return content.upload_file(
            ctx, actor, folder, name, io.BytesIO(data), len(data) if size == -1 else size
        )


def state(gs, version_id: int) -> Version:
    with gs.unit_of_work() as ctx:
        return ctx.db.get(Version, version_id)


def can_read(gs, actor, node_id: int) -> bool:
    with gs.unit_of_work() as ctx:
        ctx.db.add(actor)
        try:
            download = content.open_download(ctx, actor, node_id)
        except (NotFound, Quarantined):
            return False
        if download.stream:
            download.stream.close()
        return True


@pytest.fixture
def worker(gs):
    """Run one scan worker in a thread for the test."""
    w = Worker(gs, backoff=FAST, idle_seconds=0.05)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    yield w
    w.stop()
    thread.join(timeout=30)


def pe_executable() -> bytes:
    dos_header = b"MZ" + bytes(58) + struct.pack("<I", 64)
    coff_header = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
    optional_header = bytearray(0xE0)
    struct.pack_into("<H", optional_header, 0, 0x10B)
    struct.pack_into("<H", optional_header, 68, 3)
    return dos_header + coff_header + bytes(optional_header) + bytes(512)


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_clean_upload_is_readable_by_the_other_department_the_moment_it_ends(gs, office):
    alice, bob, root = office
    version = upload(gs, alice, root, "minutes.txt", b"meeting minutes\n" * 100)
    assert state(gs, version.id).scan_state == ScanState.CLEAN
    assert can_read(gs, bob, version.node_id)


def test_eicar_is_quarantined_invisible_to_others_and_its_uploader_is_told(gs, office):
    alice, bob, root = office
    clean = upload(gs, alice, root, "minutes.txt", CLEAN_TEXT)
    version = upload(gs, alice, root, "invoice.txt", eicar_bytes())
    stored = state(gs, version.id)
    assert (stored.scan_state, stored.scan_signature) == (ScanState.INFECTED, EICAR_SIGNATURE)
    assert can_read(gs, bob, clean.node_id)
    assert not can_read(gs, bob, version.node_id)
    with gs.unit_of_work() as ctx:
        ctx.db.add_all([alice, bob, root])
        assert [e.node.name for e in lookup.list_folder(ctx, alice, root)] == [
            "invoice.txt",
            "minutes.txt",
        ]  # its uploader is shown it (and told why it cannot be opened)
        assert [e.node.name for e in lookup.list_folder(ctx, bob, root)] == ["minutes.txt"]
        with pytest.raises(Quarantined):
            content.open_download(ctx, alice, version.node_id)
        notices = notifications.list_notifications(ctx, alice)
        assert [(n.kind, n.params["signature"]) for n in notices] == [
            ("scan.infected", EICAR_SIGNATURE)
        ]
        assert [i.version.id for i in quarantine.list_quarantine(ctx, OPERATOR)] == [version.id]


def test_marker_inside_a_zip_is_caught(gs, office):
    alice, bob, root = office
    plain = upload(gs, alice, root, "plain.zip", zipped("inner/readme.txt", CLEAN_TEXT))
    version = upload(gs, alice, root, "archive.zip", zipped("inner/readme.txt", MARKER * 3))
    assert state(gs, plain.id).scan_state == ScanState.CLEAN and can_read(gs, bob, plain.node_id)
    assert state(gs, version.id).scan_state == ScanState.INFECTED
    assert not can_read(gs, bob, version.node_id)


def test_disguised_executable_is_blocked_with_its_reason(gs, office):
    alice, bob, root = office
    real = upload(gs, alice, root, "minutes.pdf", b"%PDF-1.4\n" + CLEAN_TEXT + b"%%EOF\n")
    assert state(gs, real.id).scan_state == ScanState.CLEAN and can_read(gs, bob, real.node_id)
    version = upload(gs, alice, root, "report.pdf", pe_executable())
    stored = state(gs, version.id)
    assert stored.scan_state == ScanState.BLOCKED
    assert "program" in stored.scan_signature and "application/pdf" in stored.scan_signature
    assert not can_read(gs, bob, version.node_id)


@pytest.mark.slow  # 21 MiB
def test_file_above_the_scan_limit_is_unscannable_and_blocked(gs, office):
    alice, bob, root = office
    version = upload(gs, alice, root, "big.bin", bytes(21 * MiB))
    assert state(gs, version.id).scan_state == ScanState.UNSCANNABLE
    assert not can_read(gs, bob, version.node_id)
    assert can_read(gs, alice, version.node_id)


@pytest.mark.slow  # 21 MiB
def test_unscannable_files_may_be_allowed_by_setting(scan_config, s3_store, scanner):
    allowing = scan_config.replace(antivirus={"unscannable": "allow"})
    gs = Gshare(allowing, s3_store, scanner=scanner)
    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice, bob = world.user("alice"), world.user("bob")
        version = world.upload(
            alice, world.department_root("Finance"), "big.bin", bytes(21 * MiB), clean=False
        )
        assert version.scan_state == ScanState.UNSCANNABLE
        assert content.open_download(ctx, bob, version.node_id).version.id == version.id


def test_size_unknown_upload_is_scanned_by_the_worker(gs, office, worker):
    alice, bob, root = office
    version = upload(gs, alice, root, "stream.txt", b"streamed", size=None)
    eventually(lambda: state(gs, version.id).scan_state == ScanState.CLEAN, what="the scan")
    assert state(gs, version.id).sha256 is not None
    assert can_read(gs, bob, version.node_id)


def test_scanner_down_keeps_uploads_pending_until_it_returns_by_itself(
    gs, office, clamd_daemon, worker
):
    alice, bob, root = office
    clamd_daemon.stop()
    try:
        version = upload(gs, alice, root, "while-down.txt", b"uploaded while clamd is down")
        assert state(gs, version.id).scan_state == ScanState.PENDING
        assert not can_read(gs, bob, version.node_id)
        assert can_read(gs, alice, version.node_id)
    finally:
        clamd_daemon.start()
    eventually(lambda: state(gs, version.id).scan_state == ScanState.CLEAN, what="the scan")
    assert can_read(gs, bob, version.node_id)


def test_job_of_a_worker_that_died_is_done_by_another_after_its_lease(gs, office):
    alice, _, root = office
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": False, "lease_seconds": 1})
    version = upload(gs, alice, root, "orphaned-job.txt", b"job")
    assert claim(gs, "worker-that-dies", None) == version.id
    assert claim(gs, "second-worker", None) is None
    second = eventually(lambda: claim(gs, "second-worker", None), what="the lease to run out")
    assert second == version.id
    assert scan_version(gs, version.id, "second-worker", FAST) == ScanState.CLEAN
    assert scan_version(gs, version.id, "worker-that-dies", FAST) == "lease lost"


def test_a_scan_longer_than_its_lease_keeps_its_job(gs, office):
    """The worker renews its lease while it scans, so nobody takes the job from it."""
    alice, _, root = office
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": False, "lease_seconds": 1})
    version = upload(gs, alice, root, "long-scan.txt", b"a long scan")
    assert claim(gs, "scanning-worker", None) == version.id
    first_until = state(gs, version.id).scan_lease_until
    with Heartbeat(gs, version.id, "scanning-worker"):
        eventually(lambda: state(gs, version.id).scan_lease_until > first_until, what="renewal")
        eventually(lambda: utcnow() > first_until, what="the first lease's end")
        assert claim(gs, "second-worker", None) is None
    assert state(gs, version.id).scan_lease_owner == "scanning-worker"
    assert scan_version(gs, version.id, "scanning-worker", FAST) == ScanState.CLEAN


def stale(gs, generations: dict[int, str], accessed: dict[int, datetime] | None = None) -> None:
    """Say that versions were judged by older signatures (by label) and when they were used."""
    with gs.unit_of_work() as ctx:
        for version_id, label in generations.items():
            version = ctx.db.get(Version, version_id)
            version.scan_generation = signature_generation(ctx.db, label)
            version.scan_db_version = label
            if accessed and version_id in accessed:
                version.last_accessed_at = accessed[version_id]


def test_rescans_take_the_oldest_signatures_first_then_the_most_recently_used(gs, office):
    alice, _, root = office
    with gs.unit_of_work() as ctx:  # two signature databases seen before today's
        assert signature_generation(ctx.db, "sigs-1") < signature_generation(ctx.db, "sigs-2")
    old, older_used, newer = (
        upload(gs, alice, root, f"{name}.txt", CLEAN_TEXT) for name in ("a", "b", "c")
    )
    today = state(gs, old.id).scan_db_version
    assert today and state(gs, old.id).scan_state == ScanState.CLEAN
    assert claim(gs, "worker", today) is None  # all judged by today's signatures
    stale(
        gs,
        {old.id: "sigs-1", older_used.id: "sigs-1", newer.id: "sigs-2"},
        accessed={old.id: utcnow() - timedelta(days=30), older_used.id: utcnow()},
    )
    claims = [claim(gs, "worker", today) for _ in range(4)]
    assert claims == [older_used.id, old.id, newer.id, None]


def test_rescans_keep_to_the_budget_and_new_uploads_go_first(gs, office):
    alice, _, root = office
    gs.config = gs.config.replace(antivirus={"rescans_per_hour": 60})  # one a minute
    with gs.unit_of_work() as ctx:
        signature_generation(ctx.db, "sigs-old")
    versions = [upload(gs, alice, root, f"{n}.txt", CLEAN_TEXT) for n in range(3)]
    today = state(gs, versions[0].id).scan_db_version
    stale(gs, {v.id: "sigs-old" for v in versions})
    assert claim(gs, "worker", today) in {v.id for v in versions}
    assert claim(gs, "worker", today) is None  # the minute's rescan is spent
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": False})
    new = upload(gs, alice, root, "new.txt", b"uploaded now")
    assert claim(gs, "worker", today) == new.id
    gs.config = gs.config.replace(antivirus={"rescans_per_hour": 0})
    assert claim(gs, "other-worker", today) is None


def test_a_signature_label_numbered_in_a_rolled_back_upload_is_numbered_again(gs):
    """Labels are numbered once and remembered per process; a number given in a transaction
    that rolled back is not (SQLite hands the same id to the next label)."""
    with pytest.raises(RuntimeError), gs.unit_of_work() as ctx:
        first = signature_generation(ctx.db, "sigs-rolled-back")
        assert signature_generation(ctx.db, "sigs-rolled-back") == first
        raise RuntimeError("the upload failed after its verdict")
    with gs.unit_of_work() as ctx:
        kept = signature_generation(ctx.db, "sigs-kept")
    for _ in range(2):  # the second time from memory
        with gs.unit_of_work() as ctx:
            assert ctx.db.get(SignatureGeneration, kept).label == "sigs-kept"
            assert signature_generation(ctx.db, "sigs-kept") == kept
            again = signature_generation(ctx.db, "sigs-rolled-back")
            assert ctx.db.get(SignatureGeneration, again).label == "sigs-rolled-back"
    assert again != kept


@pytest.mark.slow  # clamd reloads, the worker rescans
def test_new_signature_pulls_back_a_formerly_clean_file(gs, office, clamd_daemon, worker):
    alice, bob, root = office
    marker = f"GSHARE-NEW-THREAT-{uuid.uuid4().hex}".encode()
    version = upload(gs, alice, root, "looked-fine.txt", b"header " + marker + b" trailer")
    assert state(gs, version.id).scan_state == ScanState.CLEAN and can_read(
        gs, bob, version.node_id
    )
    clamd_daemon.add_signature(body_signature("Gshare.Test.NewThreat", marker))
    clamd_daemon.reload()
    eventually(lambda: state(gs, version.id).scan_state == ScanState.INFECTED, what="the rescan")
    assert not can_read(gs, bob, version.node_id)
    with gs.unit_of_work() as ctx:
        notices = notifications.list_notifications(ctx, alice)
        assert notices[0].kind == "scan.pulled_back"


def test_admin_releases_a_false_positive_with_a_reason(gs, office):
    from gshare.activity.audit import list_events

    alice, bob, root = office
    version = upload(gs, alice, root, "flagged.txt", eicar_bytes())
    with gs.unit_of_work() as ctx, pytest.raises(Exception, match="Say why"):
        quarantine.release_version(ctx, OPERATOR, version.id, "  ")
    with gs.unit_of_work() as ctx:
        quarantine.release_version(ctx, OPERATOR, version.id, "test file, agreed with ICT")
    assert can_read(gs, bob, version.node_id)
    with gs.unit_of_work() as ctx:
        event = list_events(ctx.db, action="quarantine.release")[0]
        assert event.detail["reason"] == "test file, agreed with ICT"


def test_admin_deletes_a_quarantined_file_and_its_blob(gs, office):
    alice, _, root = office
    version = upload(gs, alice, root, "bad.txt", eicar_bytes())

    def listed_to_alice():
        with gs.unit_of_work() as ctx:
            ctx.db.add_all([alice, root])
            return [e.node.name for e in lookup.list_folder(ctx, alice, root)]

    assert [o.key for o in gs.store.list()] == [state(gs, version.id).blob_key]
    assert listed_to_alice() == ["bad.txt"]  # its uploader sees it, quarantined
    with gs.unit_of_work() as ctx:
        quarantine.delete_quarantined(ctx, OPERATOR, version.id)
    assert [o.key for o in gs.store.list()] == []
    assert listed_to_alice() == []
    assert not can_read(gs, alice, version.node_id)


def health_client(gs, parts: NodeParts = WEB_ALONE):
    """A Flask client for the health endpoints alone (the full app is tested in tests/web)."""
    from flask import Flask

    from web import health

    app = Flask(__name__)
    app.extensions["gshare"], app.extensions["gshare_parts"] = gs, parts
    app.register_blueprint(health.bp)
    return app.test_client()


def test_readyz_vouches_for_the_s3_listener_and_workers_serve_runs_beside_it(gs, tmp_path):
    beat = tmp_path / "scan-workers.beat"
    with serving(create_s3_app(gs.config, gs)) as s3:
        parts = NodeParts(s3_listen=f"127.0.0.1:{s3.port}", worker_beat=beat)
        client = health_client(gs, parts)
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.get_json()["s3_listener"]["up"] is True
        assert waiting.get_json()["scan_workers"]["reason"] == "the scan workers have not started"
        beat.touch()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["scan_workers"]["up"] is True
        long_ago = time.time() - 60
        os.utime(beat, (long_ago, long_ago))
        stale = client.get("/readyz")
        assert stale.status_code == 503
        assert stale.get_json()["scan_workers"]["reason"].startswith("no sign of the scan workers")
        beat.touch()
    gone = client.get("/readyz")  # the S3 listener has stopped
    assert gone.status_code == 503 and gone.get_json()["s3_listener"]["up"] is False
    assert 'gshare_up{component="s3_listener"} 0.0' in client.get("/metrics").text


def scans_counted(client, outcome: str) -> float:
    prefix = f'gshare_scans_total{{outcome="{outcome}"}} '
    lines = [ln for ln in client.get("/metrics").text.splitlines() if ln.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


def test_metrics_count_the_scans_by_outcome(gs, office, worker):
    alice, _, root = office
    client = health_client(gs)
    before = scans_counted(client, "clean")
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": False})
    version = upload(gs, alice, root, "counted.txt", CLEAN_TEXT)
    eventually(lambda: state(gs, version.id).scan_state == ScanState.CLEAN, what="the scan")
    eventually(lambda: scans_counted(client, "clean") == before + 1, what="the count")
    assert "gshare_scan_duration_seconds_bucket" in client.get("/metrics").text


def test_readyz_reports_the_scanner_and_its_signatures(gs):
    client = health_client(gs)
    body = client.get("/readyz").get_json()
    assert body["scanner"]["up"] is True and body["scanner"]["signatures"] >= 1
    assert body["database"]["up"] and body["object_store"]["up"]


def test_readyz_and_metrics_show_the_waiting_uploads(gs, office, clamd_daemon):
    alice, _, root = office
    client = health_client(gs)
    clamd_daemon.stop()
    try:
        upload(gs, alice, root, "waiting.txt", b"waiting for clamd")
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.get_json()["scanner"]["up"] is False
        assert down.get_json()["scan_queue"]["pending"] == 1
        assert 'gshare_up{component="scanner"} 0.0' in client.get("/metrics").text
        assert "gshare_scan_pending 1.0" in client.get("/metrics").text
    finally:
        clamd_daemon.start()
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) on a free port; yields the messages it received."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = Received()

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    controller = Controller(Keep(), hostname="127.0.0.1", port=free_port())
    controller.start()
    received.port = controller.port
    yield received
    controller.stop()


class Received(list):
    port = 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_system_admins_are_alerted_at_once_in_the_app_and_by_mail(gs, office, mailbox):
    alice, _, root = office
    with gs.unit_of_work() as ctx:
        admin = World(ctx).user("sysadmin", "ICT", role=UserRole.SYSTEM_ADMIN)
        admin.email = "sysadmin@mptc.gov.la"
    gs.config = gs.config.replace(
        mail={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "starttls": False,
            "sender": "G-Share <gshare@mptc.gov.la>",
        },
        alerts={"emails": ["security@mptc.gov.la"]},
    )
    upload(gs, alice, root, "minutes.txt", CLEAN_TEXT)
    version = upload(gs, alice, root, "invoice.txt", eicar_bytes())
    assert state(gs, version.id).scan_state == ScanState.INFECTED
    with gs.unit_of_work() as ctx:
        notices = notifications.list_notifications(ctx, ctx.db.merge(admin))
        assert [(n.kind, n.params["name"], n.params["uploader"]) for n in notices] == [
            ("alert.infected", "invoice.txt", "alice")
        ]
    message = eventually(lambda: mailbox[0] if mailbox else None, what="the alert e-mail")
    assert sorted(message["X-RcptTo"].split(", ")) == [
        "security@mptc.gov.la",
        "sysadmin@mptc.gov.la",
    ]
    assert "a file was found infected" in str(message["Subject"])
    body = message.get_payload(decode=True).decode()
    assert "finance/invoice.txt (uploaded by alice) was found infected" in body
    assert "(Gshare.Test.EICAR.UNOFFICIAL)" in body and "ຕິດໄວຣັສ" in body
    assert f"gshare quarantine show {version.id}" in body
    assert len(mailbox) == 1  # the clean upload sent nothing
