"""Checksums sent with uploads are kept and come back with x-amz-checksum-mode: ENABLED."""

import base64
import hashlib
import io
import zlib

import pytest
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, FlexibleChecksumError
from botocore.httpchecksum import StreamingChecksumBody
from sqlalchemy import select

from gshare.core.models import Node, Version
from tests.web.s3.answers import error_code, some_bytes
from tests.web.s3.conftest import REGION
from tests.web.s3.s3_client_requests import unsigned_chunks
from web.s3.checksums import FULL_OBJECT, checksum_of, multipart_checksum

MiB = 1024 * 1024
HOME = "home-alice"
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
TRANSFER = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)


def crc32(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture
def people(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site


@pytest.fixture
def alice(people):
    return people.client("alice")


def shown(response) -> dict:
    """Return the checksum fields of a response."""
    return {k: v for k, v in response.items() if k.startswith("Checksum")}


def stored_checksum(site, name: str) -> dict | None:
    return site.run(
        lambda w: w.ctx.db.scalar(select(Version.checksum).join(Node).where(Node.name == name))
    )


def test_each_checksum_sent_with_a_put_comes_back_and_boto3_checks_it(people, alice):
    payload = "ລາຍງານ ປະຈຳປີ 2026\n".encode() * 5000
    for algorithm in ALGORITHMS:
        key = f"sums/{algorithm}.txt"
        alice.put_object(Bucket=HOME, Key=key, Body=payload, ChecksumAlgorithm=algorithm)
        expected = checksum_of(algorithm.lower(), payload)
        head = alice.head_object(Bucket=HOME, Key=key, ChecksumMode="ENABLED")
        assert shown(head) == {f"Checksum{algorithm}": expected, "ChecksumType": "FULL_OBJECT"}
        got = alice.get_object(Bucket=HOME, Key=key, ChecksumMode="ENABLED")
        assert shown(got) == shown(head)
        assert isinstance(got["Body"], StreamingChecksumBody)  # boto3 is checking it
        assert got["Body"].read() == payload


def test_a_checksum_sent_in_a_trailer_is_kept(people, alice):
    payload = some_bytes(300_000, 1)
    value = checksum_of("crc32c", payload)
    person = people.people["alice"]
    body = unsigned_chunks([payload[:200_000], payload[200_000:]], {"x-amz-checksum-crc32c": value})
    request = AWSRequest(
        "PUT",
        f"{people.url}/{HOME}/trailed.bin",
        data=body,
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-trailer": "x-amz-checksum-crc32c",
            "x-amz-sdk-checksum-algorithm": "CRC32C",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        },
    )
    SigV4Auth(Credentials(person.key_id, person.secret), "s3", REGION).add_auth(request)
    sent = urllib3.request("PUT", request.url, body=body, headers=dict(request.headers))
    assert sent.status == 200 and sent.headers["x-amz-checksum-crc32c"] == value
    head = alice.head_object(Bucket=HOME, Key="trailed.bin", ChecksumMode="ENABLED")
    assert shown(head) == {"ChecksumCRC32C": value, "ChecksumType": "FULL_OBJECT"}
    got = alice.get_object(Bucket=HOME, Key="trailed.bin", ChecksumMode="ENABLED")
    assert isinstance(got["Body"], StreamingChecksumBody) and got["Body"].read() == payload


def test_the_checksum_is_shown_only_when_asked_and_never_for_a_range(people):
    client = people.client("alice", checksums="when_required")
    client.put_object(Bucket=HOME, Key="r.bin", Body=bytes(range(256)), ChecksumAlgorithm="SHA256")
    assert shown(client.head_object(Bucket=HOME, Key="r.bin")) == {}
    assert shown(client.get_object(Bucket=HOME, Key="r.bin")) == {}
    ranged = client.get_object(Bucket=HOME, Key="r.bin", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert shown(ranged) == {} and ranged["Body"].read() == bytes(range(10))
    whole = client.get_object(Bucket=HOME, Key="r.bin", ChecksumMode="ENABLED")
    assert whole["ChecksumSHA256"] == b64(hashlib.sha256(bytes(range(256))).digest())


def test_an_upload_without_a_checksum_shows_none(people):
    client = people.client("alice", checksums="when_required")
    client.put_object(Bucket=HOME, Key="plain.txt", Body=b"no checksum sent")
    assert shown(client.head_object(Bucket=HOME, Key="plain.txt", ChecksumMode="ENABLED")) == {}
    assert stored_checksum(people, "plain.txt") is None
    client.put_object(Bucket=HOME, Key="summed.txt", Body=b"sent", ChecksumAlgorithm="SHA256")
    assert stored_checksum(people, "summed.txt") is not None  # one sent is kept


def test_a_corrupted_stored_checksum_makes_boto3_refuse_the_download(people, alice):
    alice.put_object(
        Bucket=HOME, Key="budget.xlsx", Body=b"the real numbers", ChecksumAlgorithm="CRC32"
    )
    assert stored_checksum(people, "budget.xlsx") == {
        "algorithm": "crc32",
        "type": "FULL_OBJECT",
        "value": b64(crc32(b"the real numbers")),
    }

    def corrupt(w):
        version = w.ctx.db.scalar(select(Version).join(Node).where(Node.name == "budget.xlsx"))
        version.checksum = {**version.checksum, "value": b64(crc32(b"other numbers"))}

    people.run(corrupt)
    got = alice.get_object(Bucket=HOME, Key="budget.xlsx", ChecksumMode="ENABLED")
    with pytest.raises(FlexibleChecksumError):
        got["Body"].read()


def test_a_copy_keeps_the_source_checksum(people, alice):
    alice.put_object(Bucket=HOME, Key="a.txt", Body=b"copied bytes", ChecksumAlgorithm="SHA1")
    value = b64(hashlib.sha1(b"copied bytes").digest())
    copied = alice.copy_object(
        Bucket=HOME, Key="b.txt", CopySource={"Bucket": HOME, "Key": "a.txt"}
    )
    assert copied["CopyObjectResult"]["ChecksumSHA1"] == value
    assert copied["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"
    head = alice.head_object(Bucket=HOME, Key="b.txt", ChecksumMode="ENABLED")
    assert shown(head) == {"ChecksumSHA1": value, "ChecksumType": "FULL_OBJECT"}
    got = alice.get_object(Bucket=HOME, Key="b.txt", ChecksumMode="ENABLED")
    assert isinstance(got["Body"], StreamingChecksumBody)
    assert got["Body"].read() == b"copied bytes"


def test_boto3_multipart_upload_gets_s3s_composite_checksum(people, alice):
    payload = some_bytes(11 * MiB, 2)
    alice.upload_fileobj(io.BytesIO(payload), HOME, "big.bin", Config=TRANSFER)  # CRC32 parts
    parts = [payload[i : i + 5 * MiB] for i in range(0, len(payload), 5 * MiB)]
    composite = f"{b64(crc32(b''.join(crc32(part) for part in parts)))}-3"
    head = alice.head_object(Bucket=HOME, Key="big.bin", ChecksumMode="ENABLED")
    assert shown(head) == {"ChecksumCRC32": composite, "ChecksumType": "COMPOSITE"}
    out = io.BytesIO()
    alice.download_fileobj(HOME, "big.bin", out)
    assert out.getvalue() == payload


def test_parts_keep_their_checksums_and_a_full_object_crc_is_made_from_them(people, alice):
    payload = some_bytes(6 * MiB, 3)
    uid = alice.create_multipart_upload(
        Bucket=HOME, Key="full.bin", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    sent = [
        alice.upload_part(
            Bucket=HOME,
            Key="full.bin",
            UploadId=uid,
            PartNumber=n,
            Body=body,
            ChecksumAlgorithm="CRC32",
        )
        for n, body in ((1, payload[: 5 * MiB]), (2, payload[5 * MiB :]))
    ]
    assert [s["ChecksumCRC32"] for s in sent] == [
        b64(crc32(payload[: 5 * MiB])),
        b64(crc32(payload[5 * MiB :])),
    ]
    listed = alice.list_parts(Bucket=HOME, Key="full.bin", UploadId=uid)["Parts"]
    assert [p["ChecksumCRC32"] for p in listed] == [s["ChecksumCRC32"] for s in sent]
    parts = [
        {"PartNumber": n, "ETag": s["ETag"], "ChecksumCRC32": s["ChecksumCRC32"]}
        for n, s in enumerate(sent, start=1)
    ]
    done = alice.complete_multipart_upload(
        Bucket=HOME,
        Key="full.bin",
        UploadId=uid,
        MultipartUpload={"Parts": parts},
        ChecksumType="FULL_OBJECT",
    )
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (b64(crc32(payload)), "FULL_OBJECT")
    got = alice.get_object(Bucket=HOME, Key="full.bin", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == b64(crc32(payload))
    assert isinstance(got["Body"], StreamingChecksumBody) and got["Body"].read() == payload


def test_boto3_upload_with_the_whole_files_crc_is_checked_against_its_parts(people, alice):
    payload = some_bytes(6 * MiB, 4)
    alice.upload_fileobj(
        io.BytesIO(payload),
        HOME,
        "whole.bin",
        Config=TRANSFER,
        ExtraArgs={"ChecksumCRC32": b64(crc32(payload))},
    )
    head = alice.head_object(Bucket=HOME, Key="whole.bin", ChecksumMode="ENABLED")
    assert shown(head) == {"ChecksumCRC32": b64(crc32(payload)), "ChecksumType": "FULL_OBJECT"}
    with pytest.raises(ClientError) as refused:
        alice.upload_fileobj(
            io.BytesIO(payload),
            HOME,
            "wrong.bin",
            Config=TRANSFER,
            ExtraArgs={"ChecksumCRC32": b64(crc32(b"another file"))},
        )
    assert error_code(refused) == "BadDigest"


def test_crc64nvme_parts_give_the_whole_objects_crc64nvme(people, alice):
    payload = some_bytes(5 * MiB + 99, 5)
    alice.upload_fileobj(
        io.BytesIO(payload),
        HOME,
        "nvme.bin",
        Config=TRANSFER,
        ExtraArgs={"ChecksumAlgorithm": "CRC64NVME"},
    )
    value = checksum_of("crc64nvme", payload)
    got = alice.get_object(Bucket=HOME, Key="nvme.bin", ChecksumMode="ENABLED")
    assert shown(got) == {"ChecksumCRC64NVME": value, "ChecksumType": "FULL_OBJECT"}
    assert isinstance(got["Body"], StreamingChecksumBody) and got["Body"].read() == payload


def test_parts_without_one_common_algorithm_give_the_object_no_checksum():
    crc = {"crc32": b64(crc32(b"a"))}
    sha = {"sha256": b64(hashlib.sha256(b"b").digest())}
    assert multipart_checksum([(crc, 1), (None, 1)]) is None  # e.g. a part copied
    assert multipart_checksum([(crc, 1), (sha, 1)]) is None
    assert multipart_checksum([(sha, 1), (sha, 1)], FULL_OBJECT) is None  # CRCs only
    composite = multipart_checksum([(sha, 1), (sha, 1)])
    assert composite["type"] == "COMPOSITE" and composite["value"].endswith("-2")


def sha256(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


def send_parts(client, key: str, uid: str, bodies: list[bytes], **checksum) -> list[dict]:
    """Upload the parts and return them as CompleteMultipartUpload lists them."""
    sent = [
        client.upload_part(Bucket=HOME, Key=key, UploadId=uid, PartNumber=n, Body=body, **checksum)
        for n, body in enumerate(bodies, start=1)
    ]
    return [{"PartNumber": n, "ETag": s["ETag"], **shown(s)} for n, s in enumerate(sent, 1)]


def test_an_upload_created_for_sha256_takes_sha256_parts_and_refuses_crc32(people, alice):
    payload = some_bytes(6 * MiB, 6)
    bodies = [payload[: 5 * MiB], payload[5 * MiB :]]
    created = alice.create_multipart_upload(
        Bucket=HOME, Key="signed.pdf", ChecksumAlgorithm="SHA256"
    )
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("SHA256", "COMPOSITE")
    uid = created["UploadId"]
    parts = send_parts(alice, "signed.pdf", uid, bodies, ChecksumAlgorithm="SHA256")
    assert [p["ChecksumSHA256"] for p in parts] == [sha256(body) for body in bodies]
    with pytest.raises(ClientError) as refused:
        alice.upload_part(
            Bucket=HOME,
            Key="signed.pdf",
            UploadId=uid,
            PartNumber=2,
            Body=bodies[1],
            ChecksumAlgorithm="CRC32",
        )
    assert error_code(refused) == "InvalidRequest"

    listed = alice.list_parts(Bucket=HOME, Key="signed.pdf", UploadId=uid)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == ("SHA256", "COMPOSITE")
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [sha256(body) for body in bodies]
    (upload,) = alice.list_multipart_uploads(Bucket=HOME)["Uploads"]
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == ("SHA256", "COMPOSITE")

    done = alice.complete_multipart_upload(
        Bucket=HOME, Key="signed.pdf", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    composite = (
        b64(hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in bodies)).digest()) + "-2"
    )
    assert shown(done) == {"ChecksumSHA256": composite, "ChecksumType": "COMPOSITE"}
    assert alice.get_object(Bucket=HOME, Key="signed.pdf")["Body"].read() == payload


def test_a_wrong_part_checksum_in_complete_is_refused_and_the_upload_kept(people, alice):
    bodies = [some_bytes(5 * MiB, 7), b"the last part"]
    uid = alice.create_multipart_upload(Bucket=HOME, Key="ledger.bin", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    parts = send_parts(alice, "ledger.bin", uid, bodies, ChecksumAlgorithm="SHA256")
    for wrong in (
        {"ChecksumSHA256": sha256(b"other bytes")},
        {"ChecksumCRC32": b64(crc32(bodies[0]))},
    ):
        with pytest.raises(ClientError) as refused:
            alice.complete_multipart_upload(
                Bucket=HOME,
                Key="ledger.bin",
                UploadId=uid,
                MultipartUpload={
                    "Parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"], **wrong}, parts[1]]
                },
            )
        assert error_code(refused) == "InvalidPart"
    alice.complete_multipart_upload(
        Bucket=HOME, Key="ledger.bin", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    assert alice.get_object(Bucket=HOME, Key="ledger.bin")["Body"].read() == b"".join(bodies)


def test_a_part_sent_without_a_checksum_gets_the_uploads_algorithm(people):
    client = people.client("alice", checksums="when_required")  # sends no part checksums
    bodies = [some_bytes(5 * MiB, 8), b"tail"]
    uid = client.create_multipart_upload(Bucket=HOME, Key="plain.bin", ChecksumAlgorithm="CRC32C")[
        "UploadId"
    ]
    parts = send_parts(client, "plain.bin", uid, bodies)
    assert [p["ChecksumCRC32C"] for p in parts] == [checksum_of("crc32c", b) for b in bodies]
    done = client.complete_multipart_upload(
        Bucket=HOME, Key="plain.bin", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    assert done["ChecksumType"] == "COMPOSITE" and done["ChecksumCRC32C"].endswith("-2")


@pytest.mark.parametrize(
    ("asked", "code"),
    [
        ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"}, "InvalidRequest"),
        ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, "InvalidRequest"),
        ({"ChecksumType": "FULL_OBJECT"}, "InvalidRequest"),
    ],
)
def test_a_checksum_type_the_algorithm_cannot_give_is_refused(people, alice, asked, code):
    with pytest.raises(ClientError) as refused:
        alice.create_multipart_upload(Bucket=HOME, Key="never.bin", **asked)
    assert error_code(refused) == code
    assert alice.list_multipart_uploads(Bucket=HOME).get("Uploads", []) == []
    fitting = {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}
    uid = alice.create_multipart_upload(Bucket=HOME, Key="never.bin", **fitting)["UploadId"]
    listed = alice.list_multipart_uploads(Bucket=HOME)["Uploads"]
    assert [u["UploadId"] for u in listed] == [uid]


def test_complete_must_use_the_checksum_type_the_upload_was_created_with(people, alice):
    uid = alice.create_multipart_upload(
        Bucket=HOME, Key="k.bin", ChecksumAlgorithm="CRC32", ChecksumType="COMPOSITE"
    )["UploadId"]
    parts = send_parts(alice, "k.bin", uid, [b"only part"], ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as refused:
        alice.complete_multipart_upload(
            Bucket=HOME,
            Key="k.bin",
            UploadId=uid,
            MultipartUpload={"Parts": parts},
            ChecksumType="FULL_OBJECT",
        )
    assert error_code(refused) == "InvalidRequest"


def test_boto3_managed_upload_with_its_default_checksum_round_trips(people, alice):
    created = []
    alice.meta.events.register(
        "after-call.s3.CreateMultipartUpload", lambda parsed, **_: created.append(shown(parsed))
    )
    payload = some_bytes(17 * MiB + 3, 9)  # over boto3's 8 MiB threshold: parts of 8 MiB
    alice.upload_fileobj(io.BytesIO(payload), HOME, "archive.zip")
    assert created == [{"ChecksumAlgorithm": "CRC32", "ChecksumType": "COMPOSITE"}]
    head = alice.head_object(Bucket=HOME, Key="archive.zip", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "COMPOSITE" and head["ChecksumCRC32"].endswith("-3")
    out = io.BytesIO()
    alice.download_fileobj(HOME, "archive.zip", out)
    assert out.getvalue() == payload
