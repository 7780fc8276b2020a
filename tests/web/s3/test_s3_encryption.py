"""Server-side encryption asked for through boto3: refused unless the store's own encryption at
rest honestly backs it (SSE-S3, `[storage] encrypted_at_rest`); never a silent success."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.exceptions import ClientError

from gshare.core.context import Gshare
from tests.helpers import serving
from tests.web.s3.conftest import S3Site
from web.s3.app import create_s3_app

BUCKET = "finance"
KEY = b"k" * 32
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": KEY.decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(KEY).digest()).decode(),
}


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def refused(raised) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def blob_count(site) -> int:
    return sum(1 for _ in site.gs.store.list("v/"))


@pytest.mark.parametrize(
    "asked",
    [SSE_C, {"ServerSideEncryption": "aws:kms"}, {"ServerSideEncryption": "AES256"}],
    ids=["sse-c", "sse-kms", "sse-s3"],
)
def test_encryption_gshare_does_not_do_is_refused_and_nothing_stored(s3_site, alice, asked):
    alice.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"plain")
    assert keys(alice) == ["plain.txt"]
    blobs = blob_count(s3_site)
    with pytest.raises(ClientError) as on_put:
        alice.put_object(Bucket=BUCKET, Key="secret.txt", Body=b"secret", **asked)
    assert refused(on_put) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as on_create:
        alice.create_multipart_upload(Bucket=BUCKET, Key="secret.txt", **asked)
    assert refused(on_create) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as on_copy:
        alice.copy_object(
            Bucket=BUCKET,
            Key="secret.txt",
            CopySource={"Bucket": BUCKET, "Key": "plain.txt"},
            **asked,
        )
    assert refused(on_copy) == ("NotImplemented", 501)
    assert keys(alice) == ["plain.txt"]
    assert alice.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert blob_count(s3_site) == blobs


def test_a_part_or_a_copy_source_with_a_customer_key_is_refused(s3_site, alice):
    alice.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"plain")
    upload = alice.create_multipart_upload(Bucket=BUCKET, Key="big.bin")["UploadId"]
    with pytest.raises(ClientError) as on_part:
        alice.upload_part(
            Bucket=BUCKET, Key="big.bin", UploadId=upload, PartNumber=1, Body=b"x", **SSE_C
        )
    assert refused(on_part) == ("NotImplemented", 501)
    assert alice.list_parts(Bucket=BUCKET, Key="big.bin", UploadId=upload).get("Parts", []) == []
    source_key = {f"CopySource{name}": value for name, value in SSE_C.items()}
    with pytest.raises(ClientError) as on_source:
        alice.copy_object(
            Bucket=BUCKET,
            Key="copy.txt",
            CopySource={"Bucket": BUCKET, "Key": "plain.txt"},
            **source_key,
        )
    assert refused(on_source) == ("NotImplemented", 501)
    assert keys(alice) == ["plain.txt"]


def test_sse_s3_is_accepted_where_the_store_encrypts_at_rest(config, s3_store, scanner):
    encrypted = config.replace(storage={"encrypted_at_rest": True})
    gs = Gshare(encrypted, s3_store, scanner=scanner)
    try:
        with serving(create_s3_app(encrypted, gs)) as server:
            site = S3Site(f"http://127.0.0.1:{server.port}", gs)
            site.person("alice", "Finance")
            alice = site.client("alice")
            put = alice.put_object(
                Bucket=BUCKET, Key="sse.txt", Body=b"at rest", ServerSideEncryption="AES256"
            )
            assert put["ServerSideEncryption"] == "AES256"
            head = alice.head_object(Bucket=BUCKET, Key="sse.txt")
            assert head["ServerSideEncryption"] == "AES256"
            with pytest.raises(ClientError) as kms:
                alice.put_object(
                    Bucket=BUCKET, Key="kms.txt", Body=b"x", ServerSideEncryption="aws:kms"
                )
            assert refused(kms) == ("NotImplemented", 501)
            assert keys(alice) == ["sse.txt"]
    finally:
        gs.engine.dispose()
