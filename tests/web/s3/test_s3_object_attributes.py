"""GetObjectAttributes, and GetObject by part number, on gshare's objects (each one part)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.web.s3.answers import error_code, some_bytes

MiB = 1024 * 1024
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def test_get_object_attributes_answers_etag_checksum_class_and_size(alice):
    put = alice.put_object(Bucket="finance", Key="a.txt", Body=b"hello", ChecksumAlgorithm="CRC32")
    got = alice.get_object_attributes(Bucket="finance", Key="a.txt", ObjectAttributes=ALL)
    assert got["ETag"] == put["ETag"].strip('"')
    assert got["Checksum"] == {"ChecksumCRC32": put["ChecksumCRC32"], "ChecksumType": "FULL_OBJECT"}
    assert (got["StorageClass"], got["ObjectSize"]) == ("STANDARD", 5)
    assert got["VersionId"] == put["VersionId"] and "LastModified" in got
    assert "ObjectParts" not in got  # gshare keeps no part boundaries (docs/s3.md)
    only_size = alice.get_object_attributes(
        Bucket="finance", Key="a.txt", ObjectAttributes=["ObjectSize"]
    )
    assert only_size["ObjectSize"] == 5 and "ETag" not in only_size


def test_get_object_attributes_of_an_older_version_and_of_a_deleted_key(alice):
    first = alice.put_object(Bucket="finance", Key="a.txt", Body=b"one")["VersionId"]
    alice.put_object(Bucket="finance", Key="a.txt", Body=b"second")
    old = alice.get_object_attributes(
        Bucket="finance", Key="a.txt", VersionId=first, ObjectAttributes=["ObjectSize"]
    )
    assert old["ObjectSize"] == 3
    alice.delete_object(Bucket="finance", Key="a.txt")
    with pytest.raises(ClientError) as gone:
        alice.get_object_attributes(Bucket="finance", Key="a.txt", ObjectAttributes=["ETag"])
    assert error_code(gone) == "NoSuchKey"
    assert gone.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"


def test_get_object_attributes_refuses_an_unknown_attribute(alice):
    alice.put_object(Bucket="finance", Key="a.txt", Body=b"hello")
    with pytest.raises(ClientError) as refused:
        alice.get_object_attributes(Bucket="finance", Key="a.txt", ObjectAttributes=["Colour"])
    assert error_code(refused) == "InvalidArgument"


def test_part_one_is_the_whole_object_and_the_only_part(alice):
    body = some_bytes(6 * MiB, 1)
    upload = alice.create_multipart_upload(Bucket="finance", Key="big.bin")["UploadId"]
    parts = [
        {
            "PartNumber": n,
            "ETag": alice.upload_part(
                Bucket="finance", Key="big.bin", UploadId=upload, PartNumber=n, Body=chunk
            )["ETag"],
        }
        for n, chunk in ((1, body[: 5 * MiB]), (2, body[5 * MiB :]))
    ]
    alice.complete_multipart_upload(
        Bucket="finance", Key="big.bin", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    got = alice.get_object(Bucket="finance", Key="big.bin", PartNumber=1)
    assert (got["PartsCount"], got["ContentLength"]) == (1, len(body))
    assert got["Body"].read() == body
    assert alice.head_object(Bucket="finance", Key="big.bin", PartNumber=1)["PartsCount"] == 1
    assert "PartsCount" not in alice.head_object(Bucket="finance", Key="big.bin")
    with pytest.raises(ClientError) as second:
        alice.get_object(Bucket="finance", Key="big.bin", PartNumber=2)
    assert error_code(second) == "InvalidPartNumber"
