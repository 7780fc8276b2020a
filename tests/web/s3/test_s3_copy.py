"""Copies through S3 clients: UploadPartCopy, boto3's managed copy, copy-source conditions."""

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from sqlalchemy import select

from gshare.core.models import ScanState, Space, Version
from tests.web.s3.answers import error_code, some_bytes
from web.s3.checksums import checksum_of, multipart_checksum

MiB = 1024 * 1024
HOME = "home-alice"
PAST = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE = datetime.now(UTC) + timedelta(days=1)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def multipart_etag(*parts: bytes) -> str:
    joined = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


@pytest.fixture
def people(s3_site):
    s3_site.person("alice", "Finance")
    s3_site.person("carol", "Health")
    return s3_site


@pytest.fixture
def alice(people):
    return people.client("alice")


@pytest.fixture
def carol(people):
    return people.client("carol")


def start(client, bucket: str, key: str) -> str:
    return client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]


def copy_part(client, bucket, key, upload_id, number, source, byte_range=None, **extra):
    if byte_range is not None:
        extra["CopySourceRange"] = byte_range
    return client.upload_part_copy(
        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, CopySource=source, **extra
    )


def complete(client, bucket, key, upload_id, etags: list[str]):
    parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
    return client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )


@pytest.mark.slow  # big parts
def test_parts_copied_from_ranges_of_objects_make_the_object_byte_for_byte(people, alice):
    head, source = some_bytes(5 * MiB, 1), some_bytes(6 * MiB + 123, 2)
    put = alice.put_object(Bucket="finance", Key="src/data.bin", Body=source)
    key, uid = "copies/assembled.bin", start(alice, HOME, "copies/assembled.bin")
    uploaded = alice.upload_part(Bucket=HOME, Key=key, UploadId=uid, PartNumber=1, Body=head)
    first = copy_part(
        alice,
        HOME,
        key,
        uid,
        2,
        {"Bucket": "finance", "Key": "src/data.bin"},
        f"bytes=0-{5 * MiB - 1}",
    )
    rest = copy_part(
        alice,
        HOME,
        key,
        uid,
        3,
        {"Bucket": "finance", "Key": "src/data.bin"},
        f"bytes={5 * MiB}-{len(source) - 1}",
    )
    assert first["CopyPartResult"]["ETag"] == f'"{md5(source[: 5 * MiB])}"'
    assert rest["CopyPartResult"]["ETag"] == f'"{md5(source[5 * MiB :])}"'
    assert first["CopySourceVersionId"] == put["VersionId"]
    assert isinstance(first["CopyPartResult"]["LastModified"], datetime)
    etags = [uploaded["ETag"], first["CopyPartResult"]["ETag"], rest["CopyPartResult"]["ETag"]]
    listed = alice.list_parts(Bucket=HOME, Key=key, UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (1, 5 * MiB, etags[0]),
        (2, 5 * MiB, etags[1]),
        (3, MiB + 123, etags[2]),
    ]
    done = complete(alice, HOME, key, uid, etags)
    assert done["ETag"] == multipart_etag(head, source[: 5 * MiB], source[5 * MiB :])
    got = alice.get_object(Bucket=HOME, Key=key)
    assert got["Body"].read() == head + source and got["ETag"] == done["ETag"]


def test_whole_multipart_object_copied_as_a_part_has_the_md5_of_its_bytes(people, alice):
    source = some_bytes(5 * MiB + 7, 3)
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    alice.upload_fileobj(io.BytesIO(source), HOME, "big.bin", Config=transfer)
    assert alice.head_object(Bucket=HOME, Key="big.bin")["ETag"].endswith('-2"')
    uid = start(alice, HOME, "again.bin")
    part = copy_part(alice, HOME, "again.bin", uid, 1, {"Bucket": HOME, "Key": "big.bin"})
    assert part["CopyPartResult"]["ETag"] == f'"{md5(source)}"'
    complete(alice, HOME, "again.bin", uid, [part["CopyPartResult"]["ETag"]])
    assert alice.get_object(Bucket=HOME, Key="again.bin")["Body"].read() == source


@pytest.mark.slow  # big parts
def test_a_copied_part_keeps_the_checksum_of_its_bytes_in_the_uploads_algorithm(people, alice):
    source = some_bytes(6 * MiB + 11, 5)
    alice.put_object(Bucket=HOME, Key="src.bin", Body=source, ChecksumAlgorithm="CRC32")
    key = "with-checksums.bin"
    uid = alice.create_multipart_upload(
        Bucket=HOME, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="COMPOSITE"
    )["UploadId"]
    ranged = copy_part(
        alice, HOME, key, uid, 1, {"Bucket": HOME, "Key": "src.bin"}, f"bytes=0-{5 * MiB - 1}"
    )["CopyPartResult"]
    whole = copy_part(alice, HOME, key, uid, 2, {"Bucket": HOME, "Key": "src.bin"})
    whole = whole["CopyPartResult"]
    assert ranged["ChecksumCRC32"] == checksum_of("crc32", source[: 5 * MiB])
    assert whole["ChecksumCRC32"] == checksum_of("crc32", source)  # the source's own, kept
    listed = alice.list_parts(Bucket=HOME, Key=key, UploadId=uid)["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [ranged["ChecksumCRC32"], whole["ChecksumCRC32"]]
    parts = [
        {"PartNumber": 1, "ETag": ranged["ETag"], "ChecksumCRC32": ranged["ChecksumCRC32"]},
        {"PartNumber": 2, "ETag": whole["ETag"], "ChecksumCRC32": whole["ChecksumCRC32"]},
    ]
    alice.complete_multipart_upload(
        Bucket=HOME, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}
    )
    got = alice.head_object(Bucket=HOME, Key=key, ChecksumMode="ENABLED")
    expected = multipart_checksum(
        [
            ({"crc32": ranged["ChecksumCRC32"]}, 5 * MiB),
            ({"crc32": whole["ChecksumCRC32"]}, len(source)),
        ]
    )
    assert got["ChecksumCRC32"] == expected["value"] and expected["value"].endswith("-2")


def test_a_copied_part_of_an_upload_without_an_algorithm_shows_no_checksum(people, alice):
    alice.put_object(Bucket=HOME, Key="src.txt", Body=b"copied whole")
    uid = start(alice, HOME, "plain.bin")
    part = copy_part(alice, HOME, "plain.bin", uid, 1, {"Bucket": HOME, "Key": "src.txt"})
    assert not [name for name in part["CopyPartResult"] if name.startswith("Checksum")]


@pytest.mark.slow  # big parts
def test_boto3_managed_copy_above_the_threshold_goes_in_copied_parts(people, alice):
    source = some_bytes(11 * MiB + 5, 4)
    alice.put_object(
        Bucket="finance", Key="reports/big.bin", Body=source, Metadata={"owner": "alice"}
    )
    served_before = len(people.requests)
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    alice.copy(
        {"Bucket": "finance", "Key": "reports/big.bin"}, HOME, "backup/big.bin", Config=transfer
    )
    part_copies = [
        uri
        for method, uri in people.requests[served_before:]
        if method == "PUT" and "partNumber=" in uri
    ]
    assert len(part_copies) == 3
    got = alice.get_object(Bucket=HOME, Key="backup/big.bin")
    assert got["Body"].read() == source
    assert got["Metadata"] == {"owner": "alice"}
    assert got["ETag"] == multipart_etag(
        source[: 5 * MiB], source[5 * MiB : 10 * MiB], source[10 * MiB :]
    )


def test_a_bad_copy_range_is_refused_as_s3_refuses_it(people, alice):
    alice.put_object(Bucket=HOME, Key="ten.txt", Body=b"0123456789")
    uid = start(alice, HOME, "out.bin")
    malformed = [
        "0-2",
        "bytes=0",
        "bytes=hello-world",
        "bytes=0-bar",
        "bytes=hello-",
        "bytes=0-2,3-5",
        "bytes=5-2",
        "bytes=-3",
        "bytes=5-",
    ]
    outside = ["bytes=0-10", "bytes=10-12", "bytes=0-21"]
    for byte_range, code in [
        *((r, "InvalidArgument") for r in malformed),
        *((r, "InvalidRange") for r in outside),
    ]:
        with pytest.raises(ClientError) as refused:
            copy_part(
                alice, HOME, "out.bin", uid, 1, {"Bucket": HOME, "Key": "ten.txt"}, byte_range
            )
        assert error_code(refused) == code, byte_range
    assert alice.list_parts(Bucket=HOME, Key="out.bin", UploadId=uid).get("Parts", []) == []


def test_a_small_copied_part_before_the_last_is_refused_at_completion(people, alice):
    alice.put_object(Bucket=HOME, Key="ten.txt", Body=b"0123456789")
    uid = start(alice, HOME, "out.bin")
    source = {"Bucket": HOME, "Key": "ten.txt"}
    etags = [
        copy_part(alice, HOME, "out.bin", uid, n, source, "bytes=0-4")["CopyPartResult"]["ETag"]
        for n in (1, 2)
    ]
    with pytest.raises(ClientError) as refused:
        complete(alice, HOME, "out.bin", uid, etags)
    assert error_code(refused) == "EntityTooSmall"
    assert etags == [f'"{md5(b"01234")}"'] * 2


def test_a_copied_part_counts_against_the_quota(people, alice):
    source = some_bytes(MiB, 5)
    alice.put_object(Bucket="finance", Key="big.bin", Body=source)

    def small_home(w):
        space = w.ctx.db.scalar(select(Space).where(Space.slug == HOME))
        space.quota_bytes = MiB // 2

    people.run(small_home)
    uid = start(alice, HOME, "copy.bin")
    with pytest.raises(ClientError) as refused:
        copy_part(alice, HOME, "copy.bin", uid, 1, {"Bucket": "finance", "Key": "big.bin"})
    assert error_code(refused) == "QuotaExceeded"
    part = copy_part(
        alice, HOME, "copy.bin", uid, 1, {"Bucket": "finance", "Key": "big.bin"}, "bytes=0-99"
    )
    assert part["CopyPartResult"]["ETag"] == f'"{md5(source[:100])}"'
    assert [
        p["Size"] for p in alice.list_parts(Bucket=HOME, Key="copy.bin", UploadId=uid)["Parts"]
    ] == [100]


def test_a_source_the_person_may_not_read_is_not_copied(people, alice, carol):
    alice.put_object(Bucket="finance", Key="public/report.txt", Body=b"shared")
    alice.put_object(Bucket="finance", Key="secret/plan.txt", Body=b"not shared")
    people.share("alice", "finance/public", "carol")
    hidden = {"Bucket": "finance", "Key": "secret/plan.txt"}
    with pytest.raises(ClientError) as refused:
        carol.copy_object(Bucket="home-carol", Key="plan.txt", CopySource=hidden)
    assert error_code(refused) == "NoSuchKey"
    uid = start(carol, "home-carol", "plan.bin")
    with pytest.raises(ClientError) as refused_part:
        copy_part(carol, "home-carol", "plan.bin", uid, 1, hidden)
    assert error_code(refused_part) == "NoSuchKey"
    with pytest.raises(ClientError) as unseen_space:
        copy_part(carol, "home-carol", "plan.bin", uid, 1, {"Bucket": HOME, "Key": "anything.txt"})
    assert error_code(unseen_space) == "NoSuchBucket"
    assert (
        carol.list_parts(Bucket="home-carol", Key="plan.bin", UploadId=uid).get("Parts", []) == []
    )
    assert "Contents" not in carol.list_objects_v2(Bucket="home-carol")
    shared = {"Bucket": "finance", "Key": "public/report.txt"}
    carol.copy_object(Bucket="home-carol", Key="report.txt", CopySource=shared)
    assert carol.get_object(Bucket="home-carol", Key="report.txt")["Body"].read() == b"shared"


def test_another_persons_pending_version_cannot_be_copied_but_its_uploader_can(
    people, alice, carol
):
    people.share("alice", "finance", "carol", role="editor")
    first = alice.put_object(Bucket="finance", Key="draft.txt", Body=b"clean draft")
    pending = alice.put_object(Bucket="finance", Key="draft.txt", Body=b"not yet scanned")

    def unscanned(w):
        w.ctx.db.get(Version, int(pending["VersionId"])).scan_state = ScanState.PENDING

    people.run(unscanned)
    latest = {"Bucket": "finance", "Key": "draft.txt"}
    pinned = {**latest, "VersionId": pending["VersionId"]}
    with pytest.raises(ClientError) as refused:
        carol.copy_object(Bucket="home-carol", Key="draft.txt", CopySource=pinned)
    assert error_code(refused) == "NoSuchKey"
    uid = start(carol, "home-carol", "draft.bin")
    with pytest.raises(ClientError) as refused_part:
        copy_part(carol, "home-carol", "draft.bin", uid, 1, pinned)
    assert error_code(refused_part) == "NoSuchKey"
    part = copy_part(carol, "home-carol", "draft.bin", uid, 1, latest)
    assert part["CopySourceVersionId"] == first["VersionId"]
    assert part["CopyPartResult"]["ETag"] == f'"{md5(b"clean draft")}"'
    own = alice.copy_object(Bucket=HOME, Key="draft.txt", CopySource=pinned)
    assert own["CopySourceVersionId"] == pending["VersionId"]
    assert alice.get_object(Bucket=HOME, Key="draft.txt")["Body"].read() == b"not yet scanned"


def test_a_key_limited_to_one_space_cannot_copy_from_another(people, alice):
    alice.put_object(Bucket="finance", Key="budget.txt", Body=b"numbers")
    limited = people.client(people.key("alice", space=_space(people, HOME)))
    source = {"Bucket": "finance", "Key": "budget.txt"}
    with pytest.raises(ClientError) as refused:
        limited.copy_object(Bucket=HOME, Key="budget.txt", CopySource=source)
    assert error_code(refused) == "AccessDenied"
    uid = start(limited, HOME, "budget.bin")
    with pytest.raises(ClientError) as refused_part:
        copy_part(limited, HOME, "budget.bin", uid, 1, source)
    assert error_code(refused_part) == "AccessDenied"
    assert "Contents" not in limited.list_objects_v2(Bucket=HOME)
    alice.copy_object(Bucket=HOME, Key="budget.txt", CopySource=source)  # her unlimited key may
    assert [o["Key"] for o in limited.list_objects_v2(Bucket=HOME)["Contents"]] == ["budget.txt"]


def _space(site, slug: str) -> Space:
    return site.run(lambda w: w.ctx.db.scalar(select(Space).where(Space.slug == slug)))


# x-amz-copy-source-if-*: (conditions, whether the copy happens). The source's ETag is ETAG.
CONDITIONS = [
    ({"CopySourceIfMatch": "ETAG"}, True),
    ({"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'}, False),
    ({"CopySourceIfMatch": "*"}, True),
    ({"CopySourceIfNoneMatch": "ETAG"}, False),
    ({"CopySourceIfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, True),
    ({"CopySourceIfModifiedSince": PAST}, True),
    ({"CopySourceIfModifiedSince": FUTURE}, False),
    ({"CopySourceIfUnmodifiedSince": FUTURE}, True),
    ({"CopySourceIfUnmodifiedSince": PAST}, False),
    # S3's documented pairs: If-Match true decides over If-Unmodified-Since false...
    ({"CopySourceIfMatch": "ETAG", "CopySourceIfUnmodifiedSince": PAST}, True),
    # ...and If-None-Match false with If-Modified-Since true fails.
    ({"CopySourceIfNoneMatch": "ETAG", "CopySourceIfModifiedSince": PAST}, False),
]


def _with_etag(conditions: dict, etag: str) -> dict:
    return {name: etag if value == "ETAG" else value for name, value in conditions.items()}


def test_copy_object_holds_to_the_copy_source_conditions(people, alice):
    put = alice.put_object(Bucket=HOME, Key="src.txt", Body=b"the source")
    source = {"Bucket": HOME, "Key": "src.txt"}
    for n, (conditions, copied) in enumerate(CONDITIONS):
        target, conditions = f"copies/{n}.txt", _with_etag(conditions, put["ETag"])
        if copied:
            alice.copy_object(Bucket=HOME, Key=target, CopySource=source, **conditions)
            assert alice.get_object(Bucket=HOME, Key=target)["Body"].read() == b"the source"
            continue
        with pytest.raises(ClientError) as refused:
            alice.copy_object(Bucket=HOME, Key=target, CopySource=source, **conditions)
        assert error_code(refused) == "PreconditionFailed", conditions
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    copies = [o["Key"] for o in alice.list_objects_v2(Bucket=HOME, Prefix="copies/")["Contents"]]
    assert copies == sorted(f"copies/{n}.txt" for n, (_, ok) in enumerate(CONDITIONS) if ok)


def test_upload_part_copy_holds_to_the_copy_source_conditions(people, alice):
    put = alice.put_object(Bucket=HOME, Key="src.txt", Body=b"the source")
    uid = start(alice, HOME, "dst.bin")
    source = {"Bucket": HOME, "Key": "src.txt"}
    for conditions, copied in CONDITIONS:
        conditions = _with_etag(conditions, put["ETag"])
        if copied:
            part = copy_part(alice, HOME, "dst.bin", uid, 1, source, **conditions)
            assert part["CopyPartResult"]["ETag"] == put["ETag"]
            continue
        with pytest.raises(ClientError) as refused:
            copy_part(alice, HOME, "dst.bin", uid, 2, source, **conditions)
        assert error_code(refused) == "PreconditionFailed", conditions
    parts = alice.list_parts(Bucket=HOME, Key="dst.bin", UploadId=uid)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
