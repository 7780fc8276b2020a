"""Multipart uploads, sharing between departments and the scan gate, seen through S3 clients."""

import hashlib
import io
import os
from datetime import timedelta

import pytest
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from minio import Minio
from sqlalchemy import update

from gshare.core.models import CompletedUpload, ScanState, Version, utcnow
from gshare.files import uploads
from gshare.scanning import verdicts
from tests.fixtures.clamd import eicar_bytes
from tests.web.s3.answers import error_code

MiB = 1024 * 1024


@pytest.fixture
def people(s3_site):
    s3_site.person("alice", "Finance")
    s3_site.person("carol", "Health")
    return s3_site


@pytest.mark.slow  # 8 and 17 MiB
@pytest.mark.parametrize("size", [8 * MiB + 3, 17 * MiB])
def test_large_file_goes_up_in_parts_and_comes_back_whole(people, size):
    client = people.client("alice")
    payload = os.urandom(size)
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    client.upload_fileobj(io.BytesIO(payload), "finance", "big/data.bin", Config=transfer)
    head = client.head_object(Bucket="finance", Key="big/data.bin")
    parts = -(-size // (5 * MiB))
    md5s = b"".join(hashlib.md5(payload[i : i + 5 * MiB]).digest() for i in range(0, size, 5 * MiB))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-{parts}"'
    assert head["ContentLength"] == size
    out = io.BytesIO()
    client.download_fileobj("finance", "big/data.bin", out)
    assert out.getvalue() == payload


def test_multipart_by_hand_lists_parts_and_aborts(people):
    client = people.client("alice")
    upload = client.create_multipart_upload(Bucket="finance", Key="m/x.bin")
    uid = upload["UploadId"]
    client.upload_part(
        Bucket="finance", Key="m/x.bin", UploadId=uid, PartNumber=1, Body=b"a" * (5 * MiB)
    )
    client.upload_part(Bucket="finance", Key="m/x.bin", UploadId=uid, PartNumber=2, Body=b"b")
    parts = client.list_parts(Bucket="finance", Key="m/x.bin", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 1)]
    uploads = client.list_multipart_uploads(Bucket="finance")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("m/x.bin", uid)]
    with pytest.raises(ClientError) as small:
        client.complete_multipart_upload(
            Bucket="finance",
            Key="m/x.bin",
            UploadId=uid,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 2, "ETag": parts[1]["ETag"]},
                    {"PartNumber": 1, "ETag": parts[0]["ETag"]},
                ]
            },
        )
    assert error_code(small) == "InvalidPartOrder"
    client.abort_multipart_upload(Bucket="finance", Key="m/x.bin", UploadId=uid)
    assert "Uploads" not in client.list_multipart_uploads(Bucket="finance")
    with pytest.raises(ClientError) as gone:
        client.list_parts(Bucket="finance", Key="m/x.bin", UploadId=uid)
    assert error_code(gone) == "NoSuchUpload"


def test_another_person_cannot_touch_my_upload(people):
    alice, carol = people.client("alice"), people.client("carol")
    uid = alice.create_multipart_upload(Bucket="home-alice", Key="x.bin")["UploadId"]
    alice.upload_part(Bucket="home-alice", Key="x.bin", UploadId=uid, PartNumber=1, Body=b"a")
    mine = alice.list_parts(Bucket="home-alice", Key="x.bin", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in mine] == [1]
    with pytest.raises(ClientError) as refused:
        carol.list_parts(Bucket="home-alice", Key="x.bin", UploadId=uid)
    assert error_code(refused) == "NoSuchBucket"


def test_other_department_sees_nothing_until_shared_then_only_the_shared_part(people):
    alice, carol = people.client("alice"), people.client("carol")
    alice.put_object(Bucket="finance", Key="public/report.txt", Body=b"shared")
    alice.put_object(Bucket="finance", Key="secret/plan.txt", Body=b"not shared")
    assert "finance" not in [b["Name"] for b in carol.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as hidden:
        carol.get_object(Bucket="finance", Key="public/report.txt")
    assert error_code(hidden) == "NoSuchBucket"
    people.share("alice", "finance/public", "carol")
    assert "finance" in [b["Name"] for b in carol.list_buckets()["Buckets"]]
    listed = carol.list_objects_v2(Bucket="finance")["Contents"]
    assert [o["Key"] for o in listed] == ["public/report.txt"]
    level = carol.list_objects_v2(Bucket="finance", Delimiter="/")
    assert [p["Prefix"] for p in level["CommonPrefixes"]] == ["public/"]
    assert carol.get_object(Bucket="finance", Key="public/report.txt")["Body"].read() == b"shared"
    with pytest.raises(ClientError) as still_hidden:
        carol.get_object(Bucket="finance", Key="secret/plan.txt")
    assert error_code(still_hidden) == "NoSuchKey"
    with pytest.raises(ClientError) as viewer:
        carol.put_object(Bucket="finance", Key="public/mine.txt", Body=b"x")
    assert error_code(viewer) == "AccessDenied"


def test_pending_upload_is_listed_to_its_uploader_only(people):
    alice, carol = people.client("alice"), people.client("carol")
    people.share("alice", "finance", "carol")
    alice.put_object(Bucket="finance", Key="clean.txt", Body=b"fine")
    alice.put_object(Bucket="finance", Key="pending.txt", Body=b"wait")
    people.run(lambda w: _set_state(w.ctx, "pending.txt", ScanState.PENDING))
    mine = [o["Key"] for o in alice.list_objects_v2(Bucket="finance")["Contents"]]
    theirs = [o["Key"] for o in carol.list_objects_v2(Bucket="finance")["Contents"]]
    assert mine == ["clean.txt", "pending.txt"] and theirs == ["clean.txt"]
    with pytest.raises(ClientError) as hidden:
        carol.head_object(Bucket="finance", Key="pending.txt")
    assert hidden.value.response["Error"]["Code"] == "404"


def test_eicar_through_s3_is_quarantined_and_invisible_to_others(people):
    alice, carol = people.client("alice"), people.client("carol")
    people.share("alice", "finance", "carol")
    alice.put_object(Bucket="finance", Key="eicar.com.txt", Body=eicar_bytes())
    state = people.run(lambda w: w.ctx.db.query(Version).one().scan_state)
    assert state == ScanState.INFECTED
    mine = alice.list_objects_v2(Bucket="finance")["Contents"]
    assert [o["Key"] for o in mine] == ["eicar.com.txt"]  # listed to its uploader
    assert "Contents" not in carol.list_objects_v2(Bucket="finance")
    with pytest.raises(ClientError) as refused:
        alice.get_object(Bucket="finance", Key="eicar.com.txt")
    assert error_code(refused) == "AccessDenied"
    assert "quarantined" in refused.value.response["Error"]["Message"]


def test_minio_sdk_puts_and_gets(people):
    person = people.people["alice"]
    client = Minio(
        people.url.removeprefix("http://"),
        access_key=person.key_id,
        secret_key=person.secret,
        secure=False,
        http_client=urllib3.PoolManager(retries=False),
    )
    payload = os.urandom(6 * MiB)
    client.put_object(
        "finance", "minio/a.bin", io.BytesIO(payload), len(payload), part_size=5 * MiB
    )
    assert client.get_object("finance", "minio/a.bin").read() == payload
    assert [o.object_name for o in client.list_objects("finance", recursive=True)] == [
        "minio/a.bin"
    ]


def test_create_and_delete_a_bucket(people):
    alice, carol = people.client("alice"), people.client("carol")
    alice.create_bucket(Bucket="budget-2026")
    with pytest.raises(ClientError) as mine:
        alice.create_bucket(Bucket="budget-2026")
    assert error_code(mine) == "BucketAlreadyOwnedByYou"
    with pytest.raises(ClientError) as taken:
        carol.create_bucket(Bucket="budget-2026")
    assert error_code(taken) == "BucketAlreadyExists"
    alice.put_object(Bucket="budget-2026", Key="a.txt", Body=b"a")
    with pytest.raises(ClientError) as full:
        alice.delete_bucket(Bucket="budget-2026")
    assert error_code(full) == "BucketNotEmpty"
    empty = people.client("alice")
    empty.create_bucket(Bucket="scratch-space")
    assert "scratch-space" in [b["Name"] for b in empty.list_buckets()["Buckets"]]
    empty.delete_bucket(Bucket="scratch-space")
    assert "scratch-space" not in [b["Name"] for b in empty.list_buckets()["Buckets"]]


def _set_state(ctx, name, state):
    version = ctx.db.query(Version).join(Version.node).filter_by(name=name).one()
    verdicts.record_verdict(ctx, version, state)


def test_completing_an_upload_again_answers_the_same_result(people):
    """An SDK that lost the answer to CompleteMultipartUpload sends it again: S3 answers the
    same result for a while, and gshare for a day; nothing is stored twice."""
    alice, carol = people.client("alice"), people.client("carol")
    upload = alice.create_multipart_upload(Bucket="finance", Key="plan.bin")["UploadId"]
    part = alice.upload_part(
        Bucket="finance", Key="plan.bin", UploadId=upload, PartNumber=1, Body=b"the plan"
    )
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    first = alice.complete_multipart_upload(
        Bucket="finance", Key="plan.bin", UploadId=upload, MultipartUpload=parts
    )

    again = alice.complete_multipart_upload(
        Bucket="finance", Key="plan.bin", UploadId=upload, MultipartUpload=parts
    )

    assert [again[k] for k in ("Bucket", "Key", "ETag", "VersionId")] == [
        first[k] for k in ("Bucket", "Key", "ETag", "VersionId")
    ]
    listed = alice.list_object_versions(Bucket="finance")["Versions"]
    assert [v["VersionId"] for v in listed] == [first["VersionId"]]
    assert alice.list_multipart_uploads(Bucket="finance").get("Uploads", []) == []
    with pytest.raises(ClientError) as parts_gone:
        alice.list_parts(Bucket="finance", Key="plan.bin", UploadId=upload)
    assert error_code(parts_gone) == "NoSuchUpload"
    with pytest.raises(ClientError) as other_key:
        alice.complete_multipart_upload(
            Bucket="finance", Key="other.bin", UploadId=upload, MultipartUpload=parts
        )
    assert error_code(other_key) == "NoSuchUpload"
    people.share("alice", "finance", "carol", "editor")
    with pytest.raises(ClientError) as not_theirs:
        carol.complete_multipart_upload(
            Bucket="finance", Key="plan.bin", UploadId=upload, MultipartUpload=parts
        )
    assert error_code(not_theirs) == "NoSuchUpload"


def test_a_completed_upload_is_forgotten_after_a_day(people):
    alice = people.client("alice")
    upload = alice.create_multipart_upload(Bucket="finance", Key="old.bin")["UploadId"]
    part = alice.upload_part(
        Bucket="finance", Key="old.bin", UploadId=upload, PartNumber=1, Body=b"old"
    )
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    alice.complete_multipart_upload(
        Bucket="finance", Key="old.bin", UploadId=upload, MultipartUpload=parts
    )
    alice.complete_multipart_upload(  # remembered
        Bucket="finance", Key="old.bin", UploadId=upload, MultipartUpload=parts
    )

    def a_day_later(w):
        w.ctx.db.execute(
            update(CompletedUpload).values(completed_at=utcnow() - timedelta(hours=25))
        )
        uploads.forget_completed_uploads(w.ctx)

    people.run(a_day_later)
    with pytest.raises(ClientError) as forgotten:
        alice.complete_multipart_upload(
            Bucket="finance", Key="old.bin", UploadId=upload, MultipartUpload=parts
        )
    assert error_code(forgotten) == "NoSuchUpload"
