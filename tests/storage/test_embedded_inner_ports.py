"""The embedded SeaweedFS's inner ports answer only the S3 gateway, never another local account.

Every test first shows through S3 that the file is there, then that the inner port serves it to
a holder of the server's keys (so the probe is sound), and last that a stranger, who has only
127.0.0.1 and the port number, gets nothing: plain HTTP meets a TLS port, TLS without our client
certificate is cut at the handshake, and a certificate without a signed token is answered 401.
"""

import io
import json
import ssl
import stat
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest

from storage import EmbeddedS3Server, S3Store, StorageError
from storage.weed_security import SECURITY_FILE, TLS_DIR
from tests.storage.weed_clients import (
    WeedKeys,
    grpc_call,
    http_get,
    list_entries_request,
    lookup_volume_request,
    read_all_needles_request,
    stranger_tls,
)

CERTIFICATE_REQUIRED = "CERTIFICATE_REQUIRED"
INNER_GRPC_PORTS = (
    "master.port.grpc",
    "volume.port.grpc",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port.grpc",
)


class StoredFile(NamedTuple):
    key: str
    content: bytes
    fid: str  # where the filer says its one chunk lives: "<volume id>,<needle>"

    @property
    def volume_id(self) -> int:
        return int(self.fid.split(",")[0])


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory, s3_credentials):
    """A store of this module's own, not the session's: ReadAllNeedles streams a whole volume,
    and late in the suite the session's volumes hold everything the other tests stored."""
    server = EmbeddedS3Server(tmp_path_factory.mktemp("inner-ports"), *s3_credentials)
    try:
        server.start()
    except StorageError as exc:
        pytest.fail(f"embedded S3 server did not start: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def s3_store(s3_server, s3_credentials) -> S3Store:
    store = S3Store(s3_server.endpoint, *s3_credentials, bucket=f"inner-{uuid.uuid4().hex[:12]}")
    store.ensure_bucket()
    return store


@pytest.fixture
def keys(s3_server) -> WeedKeys:
    return WeedKeys(s3_server.data_dir)


@pytest.fixture
def stored(s3_server, s3_store, keys) -> StoredFile:
    """A file put through S3, read back through S3, and located through the filer with our keys."""
    key, content = "v/secret", b"a blob only gshare may read " + uuid.uuid4().bytes
    s3_store.put(key, io.BytesIO(content))
    with s3_store.get(key) as stream:
        assert b"".join(stream) == content
    status, body = http_get(
        s3_server.inner_ports["filer.port"],
        f"/buckets/{s3_store.bucket}/{key}?metadata=true",
        keys.tls(),
        keys.filer_read_token(),
    )
    assert status == 200, body
    (chunk,) = json.loads(body)["chunks"]
    return StoredFile(key, content, chunk["file_id"])


def assert_refused_to_stranger(port: int, path: str, secret: bytes) -> None:
    """Plain HTTP gets a 400 and not the secret; TLS without our certificate gets no answer."""
    status, body = http_get(port, path)
    assert (status, secret in body) == (400, False), body
    with pytest.raises(ssl.SSLError, match=CERTIFICATE_REQUIRED):
        http_get(port, path, stranger_tls())


def test_stranger_cannot_read_or_list_a_file_through_the_filer(s3_server, s3_store, keys, stored):
    filer = s3_server.inner_ports["filer.port"]
    path, folder = f"/buckets/{s3_store.bucket}/{stored.key}", f"/buckets/{s3_store.bucket}/v/"
    assert http_get(filer, path, keys.tls(), keys.filer_read_token()) == (200, stored.content)
    assert_refused_to_stranger(filer, path, stored.content)
    assert_refused_to_stranger(filer, folder, b"secret")


def test_filer_wants_a_signed_token_even_from_a_certificate_holder(
    s3_server, s3_store, keys, stored
):
    filer = s3_server.inner_ports["filer.port"]
    status, body = http_get(filer, f"/buckets/{s3_store.bucket}/{stored.key}", keys.tls())
    assert (status, stored.content in body) == (401, False)


def test_stranger_cannot_read_a_file_from_the_volume_server(s3_server, keys, stored):
    volume = s3_server.inner_ports["volume.port"]
    path = f"/{stored.fid}"
    assert http_get(volume, path, keys.tls(), keys.volume_read_token(stored.fid)) == (
        200,
        stored.content,
    )
    assert_refused_to_stranger(volume, path, stored.content)
    status, body = http_get(volume, path, keys.tls())  # our certificate, no token
    assert (status, stored.content in body) == (401, False)


def test_stranger_gets_no_location_nor_token_from_the_master(s3_server, keys, stored):
    master, volume = s3_server.inner_ports["master.port"], s3_server.inner_ports["volume.port"]
    lookup = f"/dir/lookup?fileId={stored.fid}"
    status, body = http_get(master, lookup, keys.tls())
    assert status == 200 and f"127.0.0.1:{volume}".encode() in body
    assert_refused_to_stranger(master, lookup, f":{volume}".encode())
    assert_refused_to_stranger(master, "/dir/assign", b"fid")  # a write token for anyone, once


def test_stranger_gets_nothing_from_the_admin_port(s3_server, keys):
    admin = s3_server.inner_ports["admin.port"]
    assert http_get(admin, "/health", keys.tls())[0] == 200
    assert_refused_to_stranger(admin, "/metrics", b"SeaweedFS")


@pytest.mark.parametrize(
    ("port", "method", "request_for", "answer_for"),
    [
        (
            "filer.port.grpc",
            "/filer_pb.SeaweedFiler/ListEntries",
            lambda bucket, stored: list_entries_request(f"/buckets/{bucket}/v"),
            lambda stored, ports: stored.fid.encode(),
        ),
        (
            "master.port.grpc",
            "/master_pb.Seaweed/LookupVolume",
            lambda bucket, stored: lookup_volume_request(str(stored.volume_id)),
            lambda stored, ports: f"127.0.0.1:{ports['volume.port']}".encode(),
        ),
        (
            "volume.port.grpc",
            "/volume_server_pb.VolumeServer/ReadAllNeedles",
            lambda bucket, stored: read_all_needles_request(stored.volume_id),
            lambda stored, ports: stored.content,
        ),
    ],
    ids=["filer-lists-entries", "master-looks-up-volumes", "volume-reads-all-needles"],
)
def test_stranger_cannot_call_the_grpc_that_gives_files_away(
    s3_server, s3_store, keys, stored, port, method, request_for, answer_for
):
    grpc_port = s3_server.inner_ports[port]
    request, answer = (
        request_for(s3_store.bucket, stored),
        answer_for(stored, s3_server.inner_ports),
    )
    assert answer in grpc_call(grpc_port, method, request, keys.tls()).data
    assert grpc_call(grpc_port, method, request) == (False, b"")
    with pytest.raises(ssl.SSLError, match=CERTIFICATE_REQUIRED):
        grpc_call(grpc_port, method, request, stranger_tls())


@pytest.mark.parametrize("port", INNER_GRPC_PORTS)
def test_every_grpc_port_hangs_up_on_a_stranger(s3_server, port):
    grpc_port = s3_server.inner_ports[port]
    method, request = "/filer_pb.SeaweedFiler/ListEntries", list_entries_request("/buckets")
    assert grpc_call(grpc_port, method, request) == (False, b"")  # open, it would answer
    with pytest.raises(ssl.SSLError, match=CERTIFICATE_REQUIRED):
        grpc_call(grpc_port, method, request, stranger_tls())


def test_keys_certificates_and_sockets_belong_to_this_account_alone(s3_server):
    tls_dir = s3_server.data_dir / TLS_DIR
    secrets = [s3_server.data_dir / SECURITY_FILE, *tls_dir.iterdir()]
    assert {path.name for path in secrets} >= {SECURITY_FILE, "ca.crt", "client.key", "s3.key"}
    assert {mode_of(path) for path in secrets} == {0o600}
    assert mode_of(tls_dir) == mode_of(s3_server.data_dir) == 0o700
    sockets = [
        path
        for port in s3_server.inner_ports.values()
        for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")
    ]
    assert sockets, "weed made no gRPC sockets in /tmp"
    assert {mode_of(path) & 0o077 for path in sockets} == {0}


@pytest.mark.slow  # starts an S3 server twice
def test_each_start_makes_new_keys_and_certificates(tmp_path):
    def secrets() -> bytes:
        return (tmp_path / SECURITY_FILE).read_bytes() + (
            tmp_path / TLS_DIR / "ca.crt"
        ).read_bytes()

    with EmbeddedS3Server(tmp_path, "key", "secret-key") as server:
        S3Store(server.endpoint, "key", "secret-key", "kept").ensure_bucket()
        first = secrets()
    with EmbeddedS3Server(tmp_path, "key", "secret-key", port=server.port) as server:
        S3Store(server.endpoint, "key", "secret-key", "kept").ping()
        assert secrets() != first


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
