"""What an object says about itself through boto3: the client's Content-Type and user metadata,
kept per version, carried or replaced by CopyObject, and a copy onto itself."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from gshare.core.models import Space, Version
from tests.web.s3 import answers
from tests.web.s3.answers import blob_count

BUCKET = "finance"


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def history(client, key: str) -> list[str]:
    return answers.history(client, BUCKET, key)


def used_bytes(site) -> int:
    return site.run(lambda w: w.ctx.db.scalar(select(Space.used_bytes).where(Space.slug == BUCKET)))


def refused(raised) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def detected_type(site, version_id: str) -> str:
    return site.run(lambda w: w.ctx.db.get(Version, int(version_id)).content_type)


def test_the_clients_content_type_comes_back_and_the_detected_one_stays_for_the_gate(
    s3_site, alice
):
    put = alice.put_object(
        Bucket=BUCKET,
        Key="minutes.txt",
        Body=b"Minutes of the meeting\n",
        ContentType="text/x-minutes",
    )
    assert alice.head_object(Bucket=BUCKET, Key="minutes.txt")["ContentType"] == "text/x-minutes"
    got = alice.get_object(Bucket=BUCKET, Key="minutes.txt")
    assert got["ContentType"] == "text/x-minutes"
    assert detected_type(s3_site, put["VersionId"]) == "text/plain"  # web downloads, the gate
    plain = alice.put_object(Bucket=BUCKET, Key="untyped.txt", Body=b"no type given\n")
    assert alice.head_object(Bucket=BUCKET, Key="untyped.txt")["ContentType"] == "text/plain"
    assert detected_type(s3_site, plain["VersionId"]) == "text/plain"


def test_a_multipart_upload_keeps_the_type_it_was_created_with(s3_site, alice):
    upload = alice.create_multipart_upload(
        Bucket=BUCKET, Key="data.bin", ContentType="application/x-survey", Metadata={"wave": "3"}
    )["UploadId"]
    part = alice.upload_part(
        Bucket=BUCKET, Key="data.bin", UploadId=upload, PartNumber=1, Body=b"survey data"
    )
    alice.complete_multipart_upload(
        Bucket=BUCKET,
        Key="data.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    head = alice.head_object(Bucket=BUCKET, Key="data.bin")
    assert (head["ContentType"], head["Metadata"]) == ("application/x-survey", {"wave": "3"})


def test_copy_keeps_the_sources_type_and_metadata_or_replaces_them(s3_site, alice):
    alice.put_object(
        Bucket=BUCKET,
        Key="source.txt",
        Body=b"plain words\n",
        ContentType="text/x-minutes",
        Metadata={"author": "somsak"},
    )
    source = {"Bucket": BUCKET, "Key": "source.txt"}
    alice.copy_object(Bucket=BUCKET, Key="kept.txt", CopySource=source)
    kept = alice.head_object(Bucket=BUCKET, Key="kept.txt")
    assert (kept["ContentType"], kept["Metadata"]) == ("text/x-minutes", {"author": "somsak"})

    alice.copy_object(
        Bucket=BUCKET,
        Key="replaced.txt",
        CopySource=source,
        MetadataDirective="REPLACE",
        ContentType="text/x-agenda",
        Metadata={"author": "noy"},
    )
    replaced = alice.head_object(Bucket=BUCKET, Key="replaced.txt")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("text/x-agenda", {"author": "noy"})


def test_a_content_type_that_is_not_a_media_type_is_refused_and_nothing_stored(s3_site, alice):
    alice.put_object(
        Bucket=BUCKET, Key="fine.txt", Body=b"ok", ContentType="text/plain; charset=utf-8"
    )
    assert history(alice, "fine.txt")
    blobs = blob_count(s3_site)
    for bad in ("not a type", "text/", "text/plain; charset"):
        with pytest.raises(ClientError) as refusal:
            alice.put_object(Bucket=BUCKET, Key="bad.txt", Body=b"x", ContentType=bad)
        assert refused(refusal) == ("InvalidArgument", 400), bad
    with pytest.raises(ClientError) as on_copy:
        alice.copy_object(
            Bucket=BUCKET,
            Key="bad.txt",
            CopySource={"Bucket": BUCKET, "Key": "fine.txt"},
            MetadataDirective="REPLACE",
            ContentType="nonsense",
        )
    assert refused(on_copy) == ("InvalidArgument", 400)
    assert history(alice, "bad.txt") == []
    assert blob_count(s3_site) == blobs


def test_metadata_over_two_kilobytes_is_refused_on_put_copy_and_multipart(s3_site, alice):
    fits = {"note": "x" * 2000}
    alice.put_object(Bucket=BUCKET, Key="fits.txt", Body=b"ok", Metadata=fits)
    assert alice.head_object(Bucket=BUCKET, Key="fits.txt")["Metadata"] == fits
    blobs = blob_count(s3_site)
    too_big = {"note": "x" * 2100}
    with pytest.raises(ClientError) as on_put:
        alice.put_object(Bucket=BUCKET, Key="big.txt", Body=b"x", Metadata=too_big)
    assert refused(on_put) == ("MetadataTooLarge", 400)
    with pytest.raises(ClientError) as on_copy:
        alice.copy_object(
            Bucket=BUCKET,
            Key="big.txt",
            CopySource={"Bucket": BUCKET, "Key": "fits.txt"},
            MetadataDirective="REPLACE",
            Metadata=too_big,
        )
    assert refused(on_copy) == ("MetadataTooLarge", 400)
    with pytest.raises(ClientError) as on_create:
        alice.create_multipart_upload(Bucket=BUCKET, Key="big.txt", Metadata=too_big)
    assert refused(on_create) == ("MetadataTooLarge", 400)
    assert history(alice, "big.txt") == []
    assert alice.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert blob_count(s3_site) == blobs


def test_a_copy_onto_itself_without_replace_is_refused(s3_site, alice):
    first = alice.put_object(Bucket=BUCKET, Key="same.txt", Body=b"v1")["VersionId"]
    second = alice.put_object(Bucket=BUCKET, Key="same.txt", Body=b"v2")["VersionId"]
    with pytest.raises(ClientError) as refusal:
        alice.copy_object(
            Bucket=BUCKET, Key="same.txt", CopySource={"Bucket": BUCKET, "Key": "same.txt"}
        )
    assert refused(refusal) == ("InvalidRequest", 400)
    assert history(alice, "same.txt") == [second, first]
    # An older version copied onto its key is how an S3 client restores it: a new version.
    restored = alice.copy_object(
        Bucket=BUCKET,
        Key="same.txt",
        CopySource={"Bucket": BUCKET, "Key": "same.txt", "VersionId": first},
    )["VersionId"]
    assert history(alice, "same.txt") == [restored, second, first]
    assert alice.get_object(Bucket=BUCKET, Key="same.txt")["Body"].read() == b"v1"


def test_a_copy_onto_itself_with_replace_changes_the_metadata_and_copies_no_byte(s3_site, alice):
    """rclone's way to set a touched file's modification time."""
    body = b"a big file, as far as this test is concerned\n" * 100
    put = alice.put_object(Bucket=BUCKET, Key="touched.txt", Body=body, Metadata={"mtime": "1"})
    blobs, used = blob_count(s3_site), used_bytes(s3_site)
    copied = alice.copy_object(
        Bucket=BUCKET,
        Key="touched.txt",
        CopySource={"Bucket": BUCKET, "Key": "touched.txt"},
        MetadataDirective="REPLACE",
        Metadata={"mtime": "2"},
        ContentType="text/x-log",
    )
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    head = alice.head_object(Bucket=BUCKET, Key="touched.txt")
    assert (head["Metadata"], head["ContentType"]) == ({"mtime": "2"}, "text/x-log")
    assert history(alice, "touched.txt") == [put["VersionId"]]  # the same version, changed
    assert (blob_count(s3_site), used_bytes(s3_site)) == (blobs, used)
    assert alice.get_object(Bucket=BUCKET, Key="touched.txt")["Body"].read() == body
