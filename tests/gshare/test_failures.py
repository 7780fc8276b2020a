"""Bad things happen mid-upload: each ends with a clear error and nothing half-saved."""

import io
from datetime import timedelta

import pytest

import storage
from gshare.core.actor import OPERATOR
from gshare.core.blobs import store_errors
from gshare.core.context import Gshare
from gshare.core.errors import NotFound, QuotaExceeded, StorageDown, UploadIncomplete
from gshare.files import content
from gshare.ops import maintenance
from gshare.org import spaces

MiB = 1024 * 1024


class Chunks(io.RawIOBase):
    """A stream of n bytes of unknown length, read in pieces, with a hook after each piece."""

    def __init__(self, total: int, on_read=None):
        self.left, self.on_read, self.sent = total, on_read, 0

    def readable(self):
        return True

    def read(self, n=-1):
        size = min(self.left, 1024 * 1024 if n is None or n < 0 else n)
        self.left -= size
        self.sent += size
        if self.on_read:
            self.on_read(self.sent)
        return b"x" * size


class Untouchable(io.RawIOBase):
    def read(self, n=-1):
        raise AssertionError("the body was read although the size alone was too big")


def blobs(store) -> list[str]:
    return [o.key for o in store.list()]


def test_known_size_over_quota_is_refused_before_reading_a_byte(ctx, world):
    alice = world.user("alice")
    spaces.set_quota(ctx, OPERATOR, spaces.personal_space(ctx, alice), 1000)
    with pytest.raises(QuotaExceeded):
        content.upload_file(ctx, alice, world.home(alice), "big.bin", Untouchable(), 1001)


def test_quota_exceeded_mid_stream_keeps_nothing(ctx, world):
    alice = world.user("alice")
    space = spaces.personal_space(ctx, alice)
    spaces.set_quota(ctx, OPERATOR, space, 7 * MiB)
    with pytest.raises(QuotaExceeded):
        content.upload_file(ctx, alice, world.home(alice), "big.bin", Chunks(12 * MiB))
    assert blobs(ctx.store) == []
    assert list(ctx.store.list_multipart_uploads()) == []
    assert space.used_bytes == 0
    kept = content.upload_file(ctx, alice, world.home(alice), "big.bin", Chunks(6 * MiB))
    assert blobs(ctx.store) == [kept.blob_key]  # the same upload within the quota is kept
    assert space.used_bytes == 6 * MiB


def test_quota_counts_every_version_and_is_given_back_on_purge(ctx, world):
    from gshare.files import trash

    alice = world.user("alice")
    space = spaces.personal_space(ctx, alice)
    v1 = world.upload(alice, world.home(alice), "a.txt", b"12345")
    world.upload(alice, world.home(alice), "a.txt", b"123")
    assert space.used_bytes == 8
    trash.delete_node(ctx, alice, v1.node_id)
    trash.purge_node(ctx, alice, v1.node_id)
    ctx.db.refresh(space)
    assert space.used_bytes == 0


@pytest.mark.parametrize(
    "raised, upload, expected",
    [
        (storage.StorageUnavailable("no route"), False, StorageDown),
        (storage.StorageUnavailable("no route"), True, StorageDown),
        (storage.ObjectNotFound("no such key"), False, NotFound),
        (storage.ObjectNotFound("no such upload"), True, NotFound),
        (storage.StorageError("refused"), False, StorageDown),
        (storage.StorageError("truncated"), True, UploadIncomplete),
    ],
)
def test_store_errors_become_gshare_errors_that_say_what_to_do(raised, upload, expected):
    with pytest.raises(expected) as said, store_errors(upload=upload):
        raise raised
    assert said.value.__cause__ is raised
    assert any(hint in str(said.value) for hint in ("try again", "Send it again", "fsck", "start"))


def test_a_version_whose_bytes_are_gone_is_not_found_and_points_to_fsck(ctx, world):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "lost.txt", b"lost")
    ctx.store.delete(version.blob_key)
    with pytest.raises(NotFound, match="gshare fsck"):
        content.open_download(ctx, alice, version.node_id)


def test_database_failing_after_the_blob_is_stored_leaves_no_blob(gs, s3_store):
    from tests.fixtures.world import World

    with gs.unit_of_work() as ctx:
        alice = World(ctx).user("alice")
    with pytest.raises(RuntimeError), gs.unit_of_work() as ctx:
        ctx.db.add(alice)
        content.upload_file(ctx, alice, World(ctx).home(alice), "a.txt", io.BytesIO(b"abc"), 3)
        assert len(blobs(s3_store)) == 1
        raise RuntimeError("database went away before commit")
    assert blobs(s3_store) == []


def test_fsck_reports_orphans_and_missing_blobs_and_gc_removes_orphans(ctx, world):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "kept.txt", b"kept")
    lost = world.upload(alice, world.home(alice), "lost.txt", b"lost")
    ctx.store.put("v/orphan-from-a-crash", io.BytesIO(b"orphan"), 6)
    ctx.store.delete(lost.blob_key)
    report = maintenance.fsck(ctx)
    assert [b.key for b in report.orphan_blobs] == ["v/orphan-from-a-crash"]
    assert [(v.id, path.rsplit("/", 1)[-1]) for v, path in report.missing_blobs] == [
        (lost.id, "lost.txt")
    ]
    assert maintenance.gc(ctx, grace=timedelta(hours=1)).orphans_removed == 0
    assert maintenance.gc(ctx, grace=timedelta(0)).orphans_removed == 1
    assert sorted(blobs(ctx.store)) == [version.blob_key]


@pytest.fixture
def fragile(tmp_path, config, s3_credentials):
    """A gshare on its own S3 server, which a test may stop."""
    server = storage.EmbeddedS3Server(tmp_path / "s3", *s3_credentials)
    server.start()
    store = storage.S3Store(
        server.endpoint, *s3_credentials, bucket="fragile", part_size=5 * MiB, timeout=5
    )
    store.ensure_bucket()
    yield Gshare(config, store), server, store
    server.stop()


@pytest.mark.slow  # an S3 server of its own, stopped and started
def test_object_store_down_mid_upload_saves_nothing_and_gc_clears_the_rest(fragile):
    from tests.fixtures.world import World

    gs, server, store = fragile
    with gs.unit_of_work() as ctx:
        alice = World(ctx).user("alice")

    def stop_midway(sent):
        if sent == 8 * MiB:
            server.stop()

    with pytest.raises(StorageDown), gs.unit_of_work() as ctx:
        ctx.db.add(alice)
        content.upload_file(
            ctx, alice, World(ctx).home(alice), "big.bin", Chunks(20 * MiB, stop_midway)
        )
    server.start()
    with gs.unit_of_work() as ctx:
        assert World(ctx).ctx.db.query(content.Version).count() == 0
        maintenance.gc(ctx, grace=timedelta(0))
    assert blobs(store) == []
    assert list(store.list_multipart_uploads()) == []
    with gs.unit_of_work() as ctx:  # with the store up, an upload is kept
        ctx.db.add(alice)
        kept = content.upload_file(ctx, alice, World(ctx).home(alice), "big.bin", Chunks(MiB))
    assert blobs(store) == [kept.blob_key]


def test_a_savepoint_rolled_back_inside_an_upload_keeps_the_uploads_blob(gs, s3_store):
    """Only the end of the whole transaction undoes what it stored: a SAVEPOINT rolled back
    inside it (a unique row another worker made first, say) leaves the upload's blob alone."""
    from tests.fixtures.world import World

    with gs.unit_of_work() as ctx:
        alice = World(ctx).user("alice")
    with gs.unit_of_work() as ctx:
        ctx.db.add(alice)
        version = content.upload_file(
            ctx, alice, World(ctx).home(alice), "kept.txt", io.BytesIO(b"kept"), 4
        )
        with pytest.raises(RuntimeError), ctx.db.begin_nested():
            raise RuntimeError("a statement in a savepoint failed")
    assert version.blob_key in blobs(s3_store)
    with gs.unit_of_work() as ctx:
        assert b"".join(content.open_download(ctx, alice, version.node_id).stream) == b"kept"
