"""Conditional writes through boto3: If-None-Match and If-Match on PutObject,
CompleteMultipartUpload, CopyObject and DeleteObject(s), held atomically with the write."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from tests.web.s3 import answers
from tests.web.s3.answers import blob_count, error_code

BUCKET = "finance"


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def history(client, key: str) -> list[str]:
    return answers.history(client, BUCKET, key)


def refused(raised) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_if_none_match_star_creates_a_new_key_and_never_overwrites(s3_site, alice):
    created = alice.put_object(Bucket=BUCKET, Key="lock", Body=b"mine", IfNoneMatch="*")
    assert history(alice, "lock") == [created["VersionId"]]
    blobs = blob_count(s3_site)

    with pytest.raises(ClientError) as taken:
        alice.put_object(Bucket=BUCKET, Key="lock", Body=b"theirs", IfNoneMatch="*")

    assert refused(taken) == ("PreconditionFailed", 412)
    assert alice.get_object(Bucket=BUCKET, Key="lock")["Body"].read() == b"mine"
    assert history(alice, "lock") == [created["VersionId"]]
    assert blob_count(s3_site) == blobs  # the refused upload's bytes were not kept


def test_if_match_replaces_only_the_version_the_writer_read(s3_site, alice):
    first = alice.put_object(Bucket=BUCKET, Key="budget.csv", Body=b"a,b\n")
    second = alice.put_object(
        Bucket=BUCKET, Key="budget.csv", Body=b"a,b\n1,2\n", IfMatch=first["ETag"]
    )
    assert history(alice, "budget.csv") == [second["VersionId"], first["VersionId"]]

    with pytest.raises(ClientError) as stale:
        alice.put_object(Bucket=BUCKET, Key="budget.csv", Body=b"lost", IfMatch=first["ETag"])

    assert refused(stale) == ("PreconditionFailed", 412)
    assert history(alice, "budget.csv") == [second["VersionId"], first["VersionId"]]
    with pytest.raises(ClientError) as missing:
        alice.put_object(Bucket=BUCKET, Key="nothing.csv", Body=b"x", IfMatch=first["ETag"])
    assert refused(missing) == ("NoSuchKey", 404)
    assert history(alice, "nothing.csv") == []


def test_parallel_writers_with_if_none_match_star_make_exactly_one_file(s3_site, alice):
    clients = [s3_site.client("alice") for _ in range(4)]
    start, answers = threading.Barrier(len(clients)), []

    def write(client, n):
        start.wait()
        try:
            client.put_object(Bucket=BUCKET, Key="only-one", Body=f"{n}".encode(), IfNoneMatch="*")
            answers.append("written")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["PreconditionFailed"] * 3 + ["written"]
    assert len(history(alice, "only-one")) == 1


def test_delete_with_if_match_deletes_only_the_version_named(s3_site, alice):
    put = alice.put_object(Bucket=BUCKET, Key="memo.txt", Body=b"v1")
    with pytest.raises(ClientError) as stale:
        alice.delete_object(Bucket=BUCKET, Key="memo.txt", IfMatch='"0123456789abcdef"')
    assert refused(stale) == ("PreconditionFailed", 412)
    assert alice.get_object(Bucket=BUCKET, Key="memo.txt")["Body"].read() == b"v1"

    alice.delete_object(Bucket=BUCKET, Key="memo.txt", IfMatch=put["ETag"])
    with pytest.raises(ClientError) as gone:
        alice.head_object(Bucket=BUCKET, Key="memo.txt")
    assert refused(gone)[1] == 404


def test_delete_objects_holds_each_keys_etag(s3_site, alice):
    kept = alice.put_object(Bucket=BUCKET, Key="kept.txt", Body=b"keep")
    dropped = alice.put_object(Bucket=BUCKET, Key="dropped.txt", Body=b"drop")
    answer = alice.delete_objects(
        Bucket=BUCKET,
        Delete={
            "Objects": [
                {"Key": "kept.txt", "ETag": '"ffffffffffffffffffffffffffffffff"'},
                {"Key": "dropped.txt", "ETag": dropped["ETag"]},
            ]
        },
    )
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("kept.txt", "PreconditionFailed")]
    assert [d["Key"] for d in answer["Deleted"]] == ["dropped.txt"]
    assert alice.head_object(Bucket=BUCKET, Key="kept.txt")["ETag"] == kept["ETag"]


def test_complete_multipart_with_if_none_match_star_keeps_the_existing_file(s3_site, alice):
    alice.put_object(Bucket=BUCKET, Key="report.pdf", Body=b"the first report")
    before = history(alice, "report.pdf")
    upload = alice.create_multipart_upload(Bucket=BUCKET, Key="report.pdf")["UploadId"]
    part = alice.upload_part(
        Bucket=BUCKET, Key="report.pdf", UploadId=upload, PartNumber=1, Body=b"another report"
    )
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}

    with pytest.raises(ClientError) as taken:
        alice.complete_multipart_upload(
            Bucket=BUCKET, Key="report.pdf", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*"
        )

    assert refused(taken) == ("PreconditionFailed", 412)
    assert history(alice, "report.pdf") == before
    listed = alice.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u["UploadId"] for u in listed] == [upload]  # still there to abort or complete
    alice.abort_multipart_upload(Bucket=BUCKET, Key="report.pdf", UploadId=upload)


def test_copy_onto_an_existing_key_holds_if_none_match_and_if_match(s3_site, alice):
    source = alice.put_object(Bucket=BUCKET, Key="template.txt", Body=b"template")
    target = alice.put_object(Bucket=BUCKET, Key="letter.txt", Body=b"letter")
    copy_from = {"Bucket": BUCKET, "Key": "template.txt"}
    with pytest.raises(ClientError) as taken:
        alice.copy_object(Bucket=BUCKET, Key="letter.txt", CopySource=copy_from, IfNoneMatch="*")
    assert refused(taken) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as stale:
        alice.copy_object(
            Bucket=BUCKET, Key="letter.txt", CopySource=copy_from, IfMatch=source["ETag"]
        )
    assert error_code(stale) == "PreconditionFailed"
    assert history(alice, "letter.txt") == [target["VersionId"]]
    alice.copy_object(Bucket=BUCKET, Key="letter.txt", CopySource=copy_from, IfMatch=target["ETag"])
    assert alice.get_object(Bucket=BUCKET, Key="letter.txt")["Body"].read() == b"template"
