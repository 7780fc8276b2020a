"""What S3Store sends on the wire, seen through a TCP relay in front of the real SeaweedFS server:
parts streamed as they are read, unsigned and without added checksums."""

import base64
import contextlib
import hashlib
import io
import os
import socket
import threading
import time
from collections.abc import Iterator

import botocore.exceptions
import pytest

from storage import MultipartUpload, ObjectNotFound, S3Store, StorageUnavailable, s3requests
from storage.s3 import PROBE_BYTES

MiB = 1024 * 1024
AHEAD = 16 * MiB  # how far a body may be read ahead of what the server got (socket buffers)
HEAD_BYTES = 64 * 1024


class Relay:
    """Forward TCP connections to the S3 server, counting and keeping the start of what each
    client sends."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.received = 0
        self.heads: list[bytearray] = []
        self._sockets: list[socket.socket] = []
        self._changed = threading.Condition()
        self.cut_at: int | None = None  # cut every connection once this many bytes were sent
        self.answer_edits: dict[bytes, bytes] = {}  # replaced in what the server answers
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            self._sockets += [client, server]
            head = bytearray()
            self.heads.append(head)
            threading.Thread(target=self._pump, args=(client, server, head), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, head: bytearray | None) -> None:
        try:
            while data := source.recv(MiB):
                if head is not None:
                    self._count(data, head)
                for old, new in self.answer_edits.items() if head is None else ():
                    data = data.replace(old, new)
                sink.sendall(data)
                if head is not None and self.cut_at is not None and self.received >= self.cut_at:
                    self.cut_at = None
                    self.cut()
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                sock.close()

    def _count(self, data: bytes, head: bytearray) -> None:
        head += data[: max(0, HEAD_BYTES - len(head))]
        with self._changed:
            self.received += len(data)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until the server has been sent count bytes; tell whether it has."""
        with self._changed:
            return self._changed.wait_for(lambda: self.received >= count, timeout)

    def first_request(self) -> bytes:
        """Return the first request's line and headers, lowercased."""
        return bytes(self.heads[0]).split(b"\r\n\r\n", 1)[0].lower()

    def cut(self) -> None:
        """Drop every connection made so far, as a failing network would."""
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        self.cut()


class Paced:
    """A body of `size` bytes that is never read more than AHEAD bytes beyond what the relay has
    passed to the server: a part held whole, or hashed before it is sent, would stall it."""

    def __init__(self, relay: Relay, size: int) -> None:
        self._relay, self.left = relay, size
        self._block = os.urandom(MiB)
        self.handed = 0
        self.digest = hashlib.sha256()
        self.stalled = False

    def read(self, n: int = -1) -> bytes:
        if not self._relay.wait_for(self.handed - AHEAD):
            self.stalled = True
            raise TimeoutError("the body was read ahead of what was sent")
        size = min(self.left, MiB if n < 0 else n, MiB)
        chunk = self._block[:size]
        self.left -= size
        self.handed += size
        self.digest.update(chunk)
        return chunk


@pytest.fixture
def relay(s3_server) -> Iterator[Relay]:
    relay = Relay(s3_server.host, s3_server.port)
    yield relay
    relay.close()


@pytest.fixture
def relayed(relay, s3_credentials, s3_store) -> S3Store:
    """The test's store, reached through the relay."""
    access, secret = s3_credentials
    return S3Store(relay.endpoint, access, secret, s3_store.bucket, part_size=s3_store.part_size)


def test_part_is_sent_while_it_is_read_unsigned_and_without_added_checksums(
    s3_store, relay, relayed
):
    size = 3 * AHEAD
    upload_id = s3_store.create_multipart("v/streamed")
    body = Paced(relay, size)
    etag = relayed.upload_part("v/streamed", upload_id, 1, body, size)
    assert not body.stalled
    s3_store.complete_multipart("v/streamed", upload_id, [(1, etag)])
    with s3_store.get("v/streamed") as stream:
        assert hashlib.sha256(b"".join(stream)).digest() == body.digest.digest()
    head = relay.first_request()
    assert head.startswith(b"put /")
    assert f"content-length: {size}".encode() in head.split(b"\r\n")
    assert b"x-amz-content-sha256: unsigned-payload" in head.split(b"\r\n")
    for added in (b"x-amz-checksum", b"x-amz-trailer", b"aws-chunked", b"content-md5"):
        assert added not in head


def test_small_buffer_is_put_with_its_sha256_for_the_server_to_check(s3_store, relay, relayed):
    """Up to 5 MiB a PUT goes through minio, which signs the payload's SHA-256 over http (and
    sends its Content-MD5 over https): the store checks the bytes either way."""
    data = os.urandom(100_000)
    stored = relayed.put("v/buffered", io.BytesIO(data), length=len(data))
    assert stored.etag == hashlib.md5(data).hexdigest()
    head = relay.first_request().split(b"\r\n")
    assert b"x-amz-content-sha256: " + hashlib.sha256(data).hexdigest().encode() in head
    assert b"user-agent: minio" in b"\n".join(head)
    assert not any(line.startswith(b"x-amz-checksum") for line in head)


def test_big_buffer_is_put_unsigned_with_its_md5_for_the_server_to_check(
    s3_store, relay, s3_credentials
):
    """Above 5 MiB (minio would cut it in parts of its own) a one-part PUT goes through
    botocore, unsigned, with its Content-MD5."""
    access, secret = s3_credentials
    store = S3Store(relay.endpoint, access, secret, s3_store.bucket, part_size=8 * MiB)
    data = os.urandom(6 * MiB)
    stored = store.put("v/buffered-big", io.BytesIO(data), length=len(data))
    assert stored.etag == hashlib.md5(data).hexdigest()
    head = relay.first_request().split(b"\r\n")
    assert b"x-amz-content-sha256: unsigned-payload" in head
    md5 = base64.b64encode(hashlib.md5(data).digest()).lower()
    assert b"content-md5: " + md5 in head
    assert not any(line.startswith(b"x-amz-checksum") for line in head)


def test_store_that_answers_parts_with_their_md5_is_trusted_for_it(s3_store):
    assert s3_store.part_etags_are_md5 is True  # SeaweedFS, as S3 without KMS
    assert list(s3_store.list_multipart_uploads()) == []  # the probe's upload is gone


def test_store_that_answers_a_part_with_another_etag_is_not_trusted_for_md5s(
    s3_store, relay, relayed
):
    """AWS answers parts with ETags that are not their MD5 when the bucket encrypts with KMS:
    the store's answer to the probe's part is changed on its way back, as such a store's."""
    md5 = hashlib.md5(PROBE_BYTES).hexdigest().encode()
    relay.answer_edits[md5] = md5[::-1]
    assert relayed.part_etags_are_md5 is False
    assert any(b"partnumber=1" in bytes(head).lower() for head in relay.heads)  # it was asked
    assert list(s3_store.list_multipart_uploads()) == []


def test_store_that_fails_the_probe_is_not_trusted_and_uploads_go_on(
    s3_store, s3_credentials, s3_server, caplog
):
    assert s3_store.part_etags_are_md5 is True
    access, secret = s3_credentials
    bucketless = S3Store(s3_server.endpoint, access, secret, "no-such-bucket-here")
    assert bucketless.part_etags_are_md5 is False  # answered, not raised
    assert "did not answer how it makes part ETags" in caplog.text


class Breaks:
    """A body that raises its own error after `limit` bytes: a socket error on the client's
    side, which is no fault of the store."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self.error = ConnectionResetError("the client went away")

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            raise self.error
        size = min(self._left, n if n >= 0 else MiB)
        self._left -= size
        return b"x" * size


def test_buffered_part_cut_off_on_the_way_is_sent_again(s3_store, relay, relayed):
    data = os.urandom(12 * MiB)
    relay.cut_at = 3 * MiB  # in the first part
    stored = relayed.put("v/resent", io.BytesIO(data))
    assert stored.size == len(data)
    assert read_all(s3_store, "v/resent") == data
    assert relay.received > len(data) + 3 * MiB - MiB  # the cut part went twice
    assert list(s3_store.list_multipart_uploads()) == []


def read_all(store: S3Store, key: str) -> bytes:
    with store.get(key) as stream:
        return b"".join(stream)


def test_streamed_part_failing_on_the_client_side_raises_the_clients_own_error(s3_store):
    upload_id = s3_store.create_multipart("v/broken-part")
    body = Breaks(3 * MiB)
    with pytest.raises(ConnectionResetError) as raised:
        s3_store.upload_part("v/broken-part", upload_id, 1, body, 8 * MiB)
    assert raised.value is body.error
    assert [u.upload_id for u in s3_store.list_multipart_uploads()] == [upload_id]
    s3_store.abort_multipart("v/broken-part", upload_id)
    assert list(s3_store.list_multipart_uploads()) == []


class CutsTheRelay(Paced):
    """A body that has the relay drop its connections once 2 MiB have been read."""

    def read(self, n: int = -1) -> bytes:
        if self.handed >= 2 * MiB:
            self._relay.cut()
        return super().read(n)


def test_streamed_part_cut_off_on_the_way_is_reported_unavailable_at_once(s3_store, relay, relayed):
    upload_id = s3_store.create_multipart("v/cut")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="dropped the connection"):
        relayed.upload_part("v/cut", upload_id, 1, CutsTheRelay(relay, 8 * MiB), 8 * MiB)
    assert time.monotonic() - started < 1  # no backoff before a retry that cannot be
    s3_store.abort_multipart("v/cut", upload_id)


def test_uploads_in_progress_are_listed_across_pages(s3_store, monkeypatch):
    monkeypatch.setattr(s3requests, "UPLOADS_PAGE", 2)
    started = {(key, s3_store.create_multipart(key)) for key in ("v/a", "v/b", "v/b", "v/c", "v/d")}
    listed = list(s3_store.list_multipart_uploads("v/"))
    assert all(isinstance(upload, MultipartUpload) for upload in listed)
    assert sorted((u.key, u.upload_id) for u in listed) == sorted(started)
    assert all(upload.initiated is not None for upload in listed)


def test_copied_part_of_an_unknown_upload_is_not_found_and_the_sdk_error_stays_inside(s3_store):
    s3_store.put("v/source", io.BytesIO(b"x"))
    with pytest.raises(ObjectNotFound) as raised:
        s3_store.upload_part_copy("v/x", "no-such-upload", 1, "v/source")
    assert isinstance(raised.value.__cause__, botocore.exceptions.ClientError)
