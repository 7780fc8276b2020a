"""A client that goes away in the middle of an upload loses nothing and leaves nothing behind:
the file keeps its last complete version, and no blob or multipart upload is left over."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gshare.ops import maintenance

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


def send_part_and_hang_up(site, path: str, length: int, sent: int, query: str = "") -> None:
    """Announce `length` bytes, send `sent` of them, and close the connection."""
    address = urlsplit(site.url)
    headers = signed_put_headers(site, path, length, query)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    target = path + (f"?{query}" if query else "")
    with socket.create_connection((address.hostname, address.port)) as conn:
        conn.sendall(f"PUT {target} HTTP/1.1\r\nHost: {address.netloc}\r\n{head}\r\n".encode())
        conn.sendall(b"x" * sent)
    time.sleep(0.2)


def site_is_clean(site) -> bool:
    return site.run(lambda w: maintenance.fsck(w.ctx).ok) and not list(
        site.gs.store.list_multipart_uploads()
    )


def eventually(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_put_cut_short_keeps_the_last_version_and_leaves_no_blob(s3_site, alice):
    alice.put_object(Bucket="finance", Key="plan.txt", Body=b"version one")
    send_part_and_hang_up(s3_site, "/finance/plan.txt", 40 * MiB, 20 * MiB)  # a part stored
    assert eventually(lambda: site_is_clean(s3_site))
    assert alice.get_object(Bucket="finance", Key="plan.txt")["Body"].read() == b"version one"
    versions = alice.list_object_versions(Bucket="finance", Prefix="plan.txt")["Versions"]
    assert len(versions) == 1


def test_a_new_file_cut_short_does_not_appear(s3_site, alice):
    send_part_and_hang_up(s3_site, "/finance/new/report.pdf", 8 * MiB, MiB)
    assert eventually(lambda: site_is_clean(s3_site))
    listed = alice.list_objects_v2(Bucket="finance", Prefix="new/")
    assert [o["Key"] for o in listed.get("Contents", [])] in ([], ["new/"])


def test_a_part_cut_short_is_not_a_part_and_the_upload_completes_when_sent_again(s3_site, alice):
    upload = alice.create_multipart_upload(Bucket="finance", Key="big.bin")["UploadId"]
    send_part_and_hang_up(
        s3_site, "/finance/big.bin", 6 * MiB, 2 * MiB, f"partNumber=1&uploadId={upload}"
    )
    time.sleep(0.5)
    assert alice.list_parts(Bucket="finance", Key="big.bin", UploadId=upload).get("Parts", []) == []
    body = bytes(range(256)) * (6 * MiB // 256)
    etag = alice.upload_part(
        Bucket="finance", Key="big.bin", UploadId=upload, PartNumber=1, Body=body
    )["ETag"]
    alice.complete_multipart_upload(
        Bucket="finance",
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert alice.get_object(Bucket="finance", Key="big.bin")["Body"].read() == body
    assert eventually(lambda: site_is_clean(s3_site))
