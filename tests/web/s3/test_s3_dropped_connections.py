"""A client that goes away in the middle of an upload loses nothing and leaves nothing behind:
the file keeps its last complete version, and no blob or multipart upload is left over."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gshare.ops import maintenance
from tests.helpers import eventually

# slow: tens of MiB sent over raw sockets and dropped
pytestmark = pytest.mark.slow

MiB = 1024 * 1024


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def signed_put_headers(site, path: str, length: int, query: str = "") -> dict[str, str]:
    """Headers of a PUT signed with alice's key (UNSIGNED-PAYLOAD, as clients send over TLS)."""
    person = site.people["alice"]
    url = f"{site.url}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(
        "PUT",
        url,
        headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": str(length)},
    )
    S3SigV4Auth(Credentials(person.key_id, person.secret), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def hang_up_midway(site, path: str, length: int, sent: int, query: str = ""):
    """Open a PUT announcing `length` bytes and send `sent` of them; return the connection.

    Give it to `hang_up`; meanwhile the server holds what it was sent so far."""
    address = urlsplit(site.url)
    headers = signed_put_headers(site, path, length, query)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    target = path + (f"?{query}" if query else "")
    conn = socket.create_connection((address.hostname, address.port))
    conn.sendall(f"PUT {target} HTTP/1.1\r\nHost: {address.netloc}\r\n{head}\r\n".encode())
    conn.sendall(b"x" * sent)
    return conn


def hang_up(conn: socket.socket) -> None:
    """Stop sending, as a client that goes away does, and wait until the server is done with
    the request: it reads the end of the body where more was announced, gives the request up,
    and closes the connection (read here as the end of the stream)."""
    with conn:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(60)
        while conn.recv(65536):
            pass


def send_part_and_hang_up(site, path: str, length: int, sent: int, query: str = "") -> None:
    """Announce `length` bytes, send `sent` of them, and go away."""
    hang_up(hang_up_midway(site, path, length, sent, query))


def unfinished_uploads(site) -> list:
    return list(site.gs.store.list_multipart_uploads())


def site_is_clean(site) -> bool:
    return site.run(lambda w: maintenance.fsck(w.ctx).ok) and not unfinished_uploads(site)


def test_a_put_cut_short_keeps_the_last_version_and_leaves_no_blob(s3_site, alice):
    alice.put_object(Bucket="finance", Key="plan.txt", Body=b"version one")
    conn = hang_up_midway(s3_site, "/finance/plan.txt", 40 * MiB, 20 * MiB)
    # the server has stored a part of the new version's blob...
    eventually(lambda: unfinished_uploads(s3_site), what="a part of the upload to be stored")
    hang_up(conn)
    # ...and drops it once the client is gone
    assert site_is_clean(s3_site)
    assert alice.get_object(Bucket="finance", Key="plan.txt")["Body"].read() == b"version one"
    versions = alice.list_object_versions(Bucket="finance", Prefix="plan.txt")["Versions"]
    assert len(versions) == 1


def test_a_new_file_cut_short_does_not_appear(s3_site, alice, caplog):
    send_part_and_hang_up(s3_site, "/finance/new/report.pdf", 8 * MiB, MiB)
    assert site_is_clean(s3_site)
    # a client hanging up is the client's doing (IncompleteBody), never an internal error
    internal = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert internal == []
    listed = alice.list_objects_v2(Bucket="finance", Prefix="new/")
    assert [o["Key"] for o in listed.get("Contents", [])] in ([], ["new/"])
    alice.put_object(Bucket="finance", Key="new/report.pdf", Body=b"x" * MiB)  # sent whole
    listed = alice.list_objects_v2(Bucket="finance", Prefix="new/")
    assert "new/report.pdf" in [o["Key"] for o in listed.get("Contents", [])]


def test_a_part_cut_short_is_not_a_part_and_the_upload_completes_when_sent_again(s3_site, alice):
    upload = alice.create_multipart_upload(Bucket="finance", Key="big.bin")["UploadId"]
    send_part_and_hang_up(
        s3_site, "/finance/big.bin", 6 * MiB, 2 * MiB, f"partNumber=1&uploadId={upload}"
    )
    assert alice.list_parts(Bucket="finance", Key="big.bin", UploadId=upload).get("Parts", []) == []
    body = bytes(range(256)) * (6 * MiB // 256)
    etag = alice.upload_part(
        Bucket="finance", Key="big.bin", UploadId=upload, PartNumber=1, Body=body
    )["ETag"]
    listed = alice.list_parts(Bucket="finance", Key="big.bin", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 6 * MiB)]
    alice.complete_multipart_upload(
        Bucket="finance",
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert alice.get_object(Bucket="finance", Key="big.bin")["Body"].read() == body
    assert site_is_clean(s3_site)
