"""Uploads in parts: resumable sessions shared by the browser and S3 multipart."""

import hashlib
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from gshare.access import gate
from gshare.core.actor import OPERATOR
from gshare.core.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    StorageDown,
)
from gshare.core.models import Node, ScanState, UploadSession, User, Version
from gshare.files import content, uploads
from gshare.sharing.grants import grant_role

MiB = 1024 * 1024


def send(ctx, actor, session, number, data):
    return uploads.upload_part(ctx, actor, session.token, number, io.BytesIO(data), len(data))


def read_back(ctx, actor, version):
    download = content.open_download(ctx, actor, version.node_id, version.id)
    with download.stream as stream:
        return b"".join(stream)


def test_parts_in_any_order_become_one_file_with_the_multipart_etag(ctx, world):
    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "big.bin")
    first, second = b"a" * (5 * MiB), b"tail"
    send(ctx, alice, session, 2, second)
    send(ctx, alice, session, 1, b"x" * (5 * MiB))
    send(ctx, alice, session, 1, first)  # sent again: replaces part 1
    assert [p.number for p in uploads.list_parts(ctx, alice, session.token)] == [1, 2]
    version = uploads.complete_upload(ctx, alice, session.token)
    md5s = hashlib.md5(first).digest() + hashlib.md5(second).digest()
    assert version.etag == f"{hashlib.md5(md5s).hexdigest()}-2"
    assert version.size == len(first) + len(second) and version.sha256 is None
    assert version.scan_state == ScanState.PENDING
    assert read_back(ctx, alice, version) == first + second
    assert ctx.db.query(UploadSession).count() == 0


def test_completing_onto_an_existing_name_adds_a_version(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    world.upload(alice, home, "report.txt", b"old")
    session = uploads.start_upload(ctx, alice, home, "report.txt")
    send(ctx, alice, session, 1, b"new")
    version = uploads.complete_upload(
        ctx, alice, session.token, [(1, hashlib.md5(b"new").hexdigest())]
    )
    assert version.number == 2


def test_uploader_role_gets_a_free_name(ctx, world):
    alice, bob = world.user("alice"), world.user("bob", "Health")
    inbox = world.folder(world.home(alice), "inbox")
    world.upload(alice, inbox, "cv.pdf", b"mine")
    grant_role(ctx, OPERATOR, inbox.id, "uploader", user=bob)
    session = uploads.start_upload(ctx, bob, inbox, "cv.pdf")
    send(ctx, bob, session, 1, b"theirs")
    assert uploads.complete_upload(ctx, bob, session.token).node.name == "cv (2).pdf"


def test_only_the_owner_of_a_session_sees_it(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    session = uploads.start_upload(ctx, alice, world.department_root("Finance"), "x.txt")
    for call in (
        lambda: send(ctx, bob, session, 1, b"x"),
        lambda: uploads.list_parts(ctx, bob, session.token),
        lambda: uploads.abort_upload(ctx, bob, session.token),
        lambda: uploads.complete_upload(ctx, bob, session.token),
    ):
        with pytest.raises(NotFound):
            call()
    assert uploads.list_uploads(ctx, bob) == []
    assert [s.token for s in uploads.list_uploads(ctx, alice)] == [session.token]


def test_viewer_cannot_start_an_upload(ctx, world):
    alice, bob = world.user("alice"), world.user("bob", "Health")
    shared = world.folder(world.home(alice), "shared")
    grant_role(ctx, OPERATOR, shared.id, "viewer", user=bob)
    with pytest.raises(PermissionDenied):
        uploads.start_upload(ctx, bob, shared, "x.txt")


def test_parts_beyond_the_quota_are_refused(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    home.space.quota_bytes = 10
    session = uploads.start_upload(ctx, alice, home, "x.bin")
    send(ctx, alice, session, 1, b"123456")
    with pytest.raises(QuotaExceeded):
        send(ctx, alice, session, 2, b"123456")
    with pytest.raises(QuotaExceeded):
        uploads.start_upload(ctx, alice, home, "y.bin", size=11)


def test_small_middle_part_and_wrong_etag_are_refused(ctx, world):
    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "x.bin")
    send(ctx, alice, session, 1, b"small")
    send(ctx, alice, session, 2, b"small")
    with pytest.raises(InvalidInput) as small:
        uploads.complete_upload(ctx, alice, session.token)
    assert small.value.detail["reason"] == "part_too_small"
    with pytest.raises(InvalidInput) as wrong:
        uploads.complete_upload(ctx, alice, session.token, [(1, "0" * 32)])
    assert wrong.value.detail["reason"] == "invalid_part"


def test_abort_drops_the_session_and_its_backend_upload(ctx, world):
    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "x.bin")
    send(ctx, alice, session, 1, b"x")
    assert [s.token for s in uploads.list_uploads(ctx, alice)] == [session.token]
    assert len(list(ctx.store.list_multipart_uploads("v/"))) == 1
    uploads.abort_upload(ctx, alice, session.token)
    assert uploads.list_uploads(ctx, alice) == []
    assert [u.upload_id for u in ctx.store.list_multipart_uploads("v/")] == []


def test_gc_helpers_know_session_uploads_and_expire_stale_ones(ctx, world):
    from gshare.core.models import utcnow

    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "x.bin")
    assert uploads.session_upload_ids(ctx.db) == {session.backend_upload_id}
    assert uploads.expire_uploads(ctx, utcnow()) == 1
    assert uploads.session_upload_ids(ctx.db) == set()


def test_a_part_keeps_a_session_that_was_quiet_for_days_from_expiring(ctx, world):
    """Parts refresh a session's last use at most once a minute, but a part after a long
    silence does: expiry does not end an upload that is going on."""
    from gshare.core.models import utcnow

    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "x.bin")
    session.updated_at = utcnow() - timedelta(days=2)
    send(ctx, alice, session, 1, b"x")
    assert uploads.expire_uploads(ctx, utcnow() - timedelta(days=1)) == 0
    assert [s.token for s in uploads.list_uploads(ctx, alice)] == [session.token]
    assert uploads.expire_uploads(ctx, utcnow() + timedelta(minutes=1)) == 1
    assert uploads.list_uploads(ctx, alice) == []


def test_parallel_uploads_onto_one_name_all_succeed_and_the_last_wins(gs, world):
    """Eight writers put the same name at once (sync tools racing on one key): every upload
    succeeds, the file has one version per upload, numbered 1..8 without gaps, and the
    newest is the one committed last."""
    alice = world.user("alice")
    home = world.home(alice)
    world.ctx.db.commit()
    alice_id, home_id = alice.id, home.id
    errors, committed = [], []
    start = threading.Barrier(8)

    def put(n: int) -> None:
        data = f"writer {n}".encode()
        try:
            start.wait()
            with gs.unit_of_work() as ctx:
                person, folder = ctx.db.get(User, alice_id), ctx.db.get(Node, home_id)
                version = content.upload_file(ctx, person, folder, "same.txt", io.BytesIO(data))
                number = version.number
            committed.append((number, data))
        except Exception as exc:  # reported below with every writer's
            errors.append(exc)

    writers = [threading.Thread(target=put, args=(n,)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert errors == []
    with gs.unit_of_work() as ctx:
        files = list(ctx.db.scalars(select(Node).where(Node.parent_id == home_id)))
        assert [f.name for f in files] == ["same.txt"]
        numbers = sorted(
            ctx.db.scalars(select(Version.number).where(Version.node_id == files[0].id))
        )
        assert numbers == list(range(1, 9))
        newest = max(committed)[1]
        version = gate.current_version(ctx.db, ctx.db.get(User, alice_id), files[0])
        assert version.number == 8
        assert b"".join(ctx.store.get(version.blob_key)) == newest


def test_a_part_takes_the_stores_etag_for_its_md5_when_the_store_gives_md5s(ctx, world):
    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "trusted.bin")
    data = b"part bytes " * 1000
    assert ctx.store.part_etags_are_md5 is True
    part = send(ctx, alice, session, 1, data)
    assert part.md5 == part.etag == hashlib.md5(data).hexdigest()


def test_a_part_is_hashed_here_when_the_store_is_not_trusted_for_md5s(ctx, world, monkeypatch):
    alice = world.user("alice")
    session = uploads.start_upload(ctx, alice, world.home(alice), "hashed.bin")
    first = b"first part " * 1000
    sent = ctx.store.upload_part
    # the store may serve other tests: what this one teaches it is forgotten at its end
    monkeypatch.setattr(ctx.store, "_part_etags_are_md5", ctx.store.part_etags_are_md5)
    answers = iter(["not-an-md5"])  # the store's first answer is no MD5; later ones are

    def upload_part(*args):
        etag = sent(*args)
        return next(answers, etag)

    monkeypatch.setattr(ctx.store, "upload_part", upload_part)
    with pytest.raises(StorageDown, match="send it again"):
        send(ctx, alice, session, 1, first)
    assert uploads.list_parts(ctx, alice, session.token) == []
    assert ctx.store.part_etags_are_md5 is False  # from now on this process hashes parts
    part = send(ctx, alice, session, 1, first)
    assert part.md5 == hashlib.md5(first).hexdigest()
    version = uploads.complete_upload(ctx, alice, session.token)
    assert version.etag == f"{hashlib.md5(hashlib.md5(first).digest()).hexdigest()}-1"
    assert read_back(ctx, alice, version) == first
