"""S3Store against a real SeaweedFS server: what a caller sees, byte for byte."""

import hashlib
import io
import os

import minio.api
import pytest

from storage import MultipartUpload, ObjectNotFound, S3Store, StorageError

MiB = 1024 * 1024


class Trickle:
    """A body that hands out at most `step` bytes per read, like a network stream."""

    def __init__(self, data: bytes, step: int = 100_000) -> None:
        self._data, self._pos, self._step = data, 0, step

    def read(self, n: int = -1) -> bytes:
        size = self._step if n < 0 else min(n, self._step)
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk


class BodyBroke(Exception):
    """The client went away in the middle of an upload."""


class BreaksAfter(Trickle):
    """A body that raises BodyBroke once `limit` bytes have been read."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self._limit = limit
        self.error = BodyBroke("client disconnected")

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self._limit:
            raise self.error
        return super().read(n)


def payload(size: int) -> bytes:
    """Build size bytes that differ from part to part, so misplaced parts show."""
    return (os.urandom(4096) * (size // 4096 + 1))[:size]


def read_all(store: S3Store, key: str, **kwargs: int) -> bytes:
    with store.get(key, **kwargs) as stream:
        return b"".join(stream)


def test_small_file_reads_back_identical(s3_store):
    data = payload(1000)
    stored = s3_store.put("v/small", io.BytesIO(data), length=len(data), content_type="text/plain")
    assert stored.size == 1000
    assert stored.etag == hashlib.md5(data).hexdigest()
    assert read_all(s3_store, "v/small") == data


def test_empty_file_is_stored(s3_store):
    stored = s3_store.put("v/empty", io.BytesIO(b""))
    assert stored.size == 0
    assert s3_store.head("v/empty").size == 0
    assert read_all(s3_store, "v/empty") == b""


@pytest.mark.parametrize("length_known", [True, False], ids=["known-length", "unknown-length"])
def test_large_file_is_uploaded_in_parts_and_reads_back_identical(s3_store, length_known):
    data = payload(12 * MiB)
    length = len(data) if length_known else None
    stored = s3_store.put("v/large", Trickle(data), length=length)
    assert stored.size == len(data)
    assert stored.etag.endswith("-3")  # three 5 MiB parts: S3's multipart ETag form
    assert hashlib.sha256(read_all(s3_store, "v/large")).digest() == hashlib.sha256(data).digest()
    assert list(s3_store.list_multipart_uploads()) == []


@pytest.mark.parametrize("size", [5 * MiB, 10 * MiB], ids=["one-part", "two-parts"])
def test_file_ending_on_a_part_boundary_reads_back_identical(s3_store, size):
    data = payload(size)
    stored = s3_store.put("v/boundary", io.BytesIO(data))
    assert stored.size == size
    assert read_all(s3_store, "v/boundary") == data


def test_download_arrives_in_chunks_of_at_most_1_mib(s3_store):
    data = payload(3 * MiB + 5)
    s3_store.put("v/chunks", io.BytesIO(data))
    with s3_store.get("v/chunks") as stream:
        chunks = list(stream)
    assert stream.size == len(data)
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= MiB
    assert b"".join(chunks) == data


def test_byte_range_returns_only_the_requested_bytes(s3_store):
    data = payload(7 * MiB)
    s3_store.put("v/ranged", io.BytesIO(data))
    with s3_store.get("v/ranged", start=6 * MiB - 10, end=6 * MiB + 9) as stream:
        assert stream.size == 20
        assert b"".join(stream) == data[6 * MiB - 10 : 6 * MiB + 10]


def test_range_from_an_offset_returns_the_rest_of_the_file(s3_store):
    data = payload(100_000)
    s3_store.put("v/tail", io.BytesIO(data))
    with s3_store.get("v/tail", start=99_990) as stream:
        assert stream.size == 10
        assert b"".join(stream) == data[99_990:]


def test_range_past_the_end_of_the_file_is_refused(s3_store):
    s3_store.put("v/short", io.BytesIO(b"abc"))
    with pytest.raises(StorageError):
        s3_store.get("v/short", start=10)


def test_abandoned_download_does_not_block_later_requests(s3_store):
    s3_store.put("v/abandoned", io.BytesIO(payload(6 * MiB)))
    for _ in range(15):  # more than the connection pool holds
        with s3_store.get("v/abandoned") as stream:
            next(iter(stream))
    assert s3_store.head("v/abandoned").size == 6 * MiB


def test_head_describes_a_stored_file(s3_store):
    stored = s3_store.put("v/described", io.BytesIO(b"hello"))
    info = s3_store.head("v/described")
    assert (info.key, info.size, info.etag) == ("v/described", 5, stored.etag)
    assert info.last_modified is not None


def test_missing_file_is_not_found_everywhere(s3_store):
    with pytest.raises(ObjectNotFound):
        s3_store.get("v/missing")
    with pytest.raises(ObjectNotFound):
        s3_store.head("v/missing")
    with pytest.raises(ObjectNotFound):
        s3_store.copy("v/missing", "v/copy")


def test_deleted_file_is_gone_and_deleting_again_is_harmless(s3_store):
    s3_store.put("v/doomed", io.BytesIO(b"x"))
    s3_store.delete("v/doomed")
    with pytest.raises(ObjectNotFound):
        s3_store.head("v/doomed")
    s3_store.delete("v/doomed")
    s3_store.delete("v/never-existed")


def test_listing_returns_only_keys_under_the_prefix(s3_store):
    for key in ("v/1", "v/2", "v/sub/3", "w/4", "v-5"):
        s3_store.put(key, io.BytesIO(key.encode()))
    listed = {info.key: info.size for info in s3_store.list("v/")}
    assert listed == {"v/1": 3, "v/2": 3, "v/sub/3": 7}
    assert {info.key for info in s3_store.list()} == {"v/1", "v/2", "v/sub/3", "w/4", "v-5"}


@pytest.mark.slow  # more than a thousand objects
def test_listing_goes_past_one_page(s3_store):
    keys = {f"many/{n:04d}" for n in range(1005)}  # the server pages at 1000 keys
    for key in keys:
        s3_store.put(key, io.BytesIO(b""))
    assert {info.key for info in s3_store.list("many/")} == keys


def test_copy_is_identical_and_outlives_its_source(s3_store):
    data = payload(6 * MiB)
    s3_store.put("v/original", io.BytesIO(data))
    copied = s3_store.copy("v/original", "v/copy")
    s3_store.delete("v/original")
    assert copied.size == len(data)
    assert read_all(s3_store, "v/copy") == data


def test_copy_above_the_single_copy_limit_is_identical(s3_store, monkeypatch):
    monkeypatch.setattr(minio.api, "MAX_PART_SIZE", 5 * MiB)  # stands in for 5 GiB
    data = payload(12 * MiB)
    s3_store.put("v/huge", io.BytesIO(data))
    copied = s3_store.copy("v/huge", "v/huge-copy")
    assert copied.size == len(data)
    assert read_all(s3_store, "v/huge-copy") == data
    assert list(s3_store.list_multipart_uploads()) == []


def test_multipart_upload_driven_part_by_part_assembles_the_file(s3_store):
    first, second = payload(5 * MiB), payload(MiB)
    upload_id = s3_store.create_multipart("v/parts", content_type="text/csv")
    etag2 = s3_store.upload_part("v/parts", upload_id, 2, io.BytesIO(second), len(second))
    etag1 = s3_store.upload_part("v/parts", upload_id, 1, Trickle(first), len(first))
    assert [u.upload_id for u in s3_store.list_multipart_uploads("v/")] == [upload_id]
    stored = s3_store.complete_multipart("v/parts", upload_id, [(1, etag1), (2, etag2)])
    assert stored.size == 6 * MiB
    assert read_all(s3_store, "v/parts") == first + second
    assert list(s3_store.list_multipart_uploads()) == []


def test_part_larger_than_the_buffer_is_stored_without_holding_it(s3_store):
    big, tail = payload(11 * MiB), payload(1000)
    upload_id = s3_store.create_multipart("v/bigpart")
    etag1 = s3_store.upload_part("v/bigpart", upload_id, 1, Trickle(big), len(big))
    etag2 = s3_store.upload_part("v/bigpart", upload_id, 2, io.BytesIO(tail), len(tail))
    s3_store.complete_multipart("v/bigpart", upload_id, [(1, etag1), (2, etag2)])
    assert read_all(s3_store, "v/bigpart") == big + tail
    assert [info.key for info in s3_store.list()] == ["v/bigpart"]  # staging copy removed


def test_aborted_multipart_upload_leaves_nothing(s3_store):
    upload_id = s3_store.create_multipart("v/aborted")
    s3_store.upload_part("v/aborted", upload_id, 1, io.BytesIO(payload(MiB)), MiB)
    [upload] = s3_store.list_multipart_uploads()
    assert isinstance(upload, MultipartUpload)
    assert (upload.key, upload.upload_id) == ("v/aborted", upload_id)
    s3_store.abort_multipart("v/aborted", upload_id)
    assert list(s3_store.list_multipart_uploads()) == []
    with pytest.raises(ObjectNotFound):
        s3_store.head("v/aborted")


def test_unknown_multipart_upload_is_not_found(s3_store):
    with pytest.raises(ObjectNotFound):
        s3_store.upload_part("v/x", "no-such-upload", 1, io.BytesIO(b"x"), 1)
    with pytest.raises(ObjectNotFound):
        s3_store.complete_multipart("v/x", "no-such-upload", [(1, "0" * 32)])


def test_listing_uploads_in_progress_filters_by_prefix(s3_store):
    mine = s3_store.create_multipart("v/mine")
    s3_store.create_multipart("w/other")
    assert [(u.key, u.upload_id) for u in s3_store.list_multipart_uploads("v/")] == [
        ("v/mine", mine)
    ]


@pytest.mark.parametrize("fails_after", [MiB, 7 * MiB], ids=["first-part", "later-part"])
@pytest.mark.parametrize("length_known", [True, False], ids=["known-length", "unknown-length"])
def test_client_failure_mid_upload_propagates_and_leaves_nothing(
    s3_store, fails_after, length_known
):
    data = payload(12 * MiB)
    body = BreaksAfter(data, fails_after)
    with pytest.raises(BodyBroke) as raised:
        s3_store.put("v/broken", body, length=len(data) if length_known else None)
    assert raised.value is body.error
    assert list(s3_store.list_multipart_uploads()) == []
    assert list(s3_store.list()) == []
    s3_store.put("v/broken", io.BytesIO(data[:1000]))  # a body that does not break is stored
    assert [info.key for info in s3_store.list()] == ["v/broken"]


@pytest.mark.parametrize(
    "sent,announced", [(1000, 2000), (7 * MiB, 12 * MiB)], ids=["single-put", "multipart"]
)
def test_body_shorter_than_announced_is_refused_and_nothing_stored(s3_store, sent, announced):
    with pytest.raises(StorageError, match="truncated"):
        s3_store.put("v/short", Trickle(payload(sent)), length=announced)
    assert list(s3_store.list()) == []
    assert list(s3_store.list_multipart_uploads()) == []
    s3_store.put("v/short", Trickle(payload(1000)), length=1000)  # as long as announced
    assert [info.key for info in s3_store.list()] == ["v/short"]


def test_part_shorter_than_announced_is_refused(s3_store):
    upload_id = s3_store.create_multipart("v/short-part")
    with pytest.raises(StorageError, match="truncated"):
        s3_store.upload_part("v/short-part", upload_id, 1, io.BytesIO(b"abc"), 10)
    s3_store.abort_multipart("v/short-part", upload_id)


def test_ensuring_an_existing_bucket_changes_nothing(s3_store):
    s3_store.put("v/kept", io.BytesIO(b"x"))
    s3_store.ensure_bucket()
    s3_store.ping()
    assert [info.key for info in s3_store.list()] == ["v/kept"]


def test_endpoint_must_be_a_plain_url():
    with pytest.raises(ValueError):
        S3Store("127.0.0.1:8333", "key", "secret", "bucket")
    with pytest.raises(ValueError):
        S3Store("http://127.0.0.1:8333/some/path", "key", "secret", "bucket")
