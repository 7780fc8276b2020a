"""Request bodies are handed on decoded, and refused where they break what was signed."""

import hashlib
import io
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper

from tests.web.s3.s3_client_requests import (
    ACCESS_KEY,
    SECRET,
    WireRequest,
    boto3_client,
    boto3_request,
    presigned_request,
    signed_chunks,
    unsigned_chunks,
)
from web.s3.checksums import ALGORITHMS, Checksum, checksum_of
from web.s3.errors import S3Error
from web.s3.payload import verified_body
from web.s3.sigv4 import authenticate

# The AWS documentation's aws-chunked example: 65 KiB of 'a' sent as a 64 KiB and a 1 KiB chunk.
DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
DOC_HEADERS = {
    "Host": "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
    "aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;"
    f"x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature={DOC_SEED}",
    "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "Content-Encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "Content-Length": "66824",
}


def doc_chunks():
    sizes = [65536, 1024, 0]
    return [
        b"%x;chunk-signature=%s\r\n%s\r\n" % (size, sig.encode(), b"a" * size)
        for size, sig in zip(sizes, DOC_CHUNK_SIGNATURES, strict=True)
    ]


def doc_auth():
    return authenticate(
        "PUT", "/examplebucket/chunkObject.txt", "", DOC_HEADERS,
        lambda key: DOC_SECRET if key == "AKIAIOSFODNN7EXAMPLE" else None,
        now=datetime(2013, 5, 24, 0, 1, tzinfo=UTC),
    )  # fmt: skip


def read_all(reader, sizes=(65536,)) -> bytes:
    out, turn = [], 0
    while data := reader.read(sizes[turn % len(sizes)]):
        out.append(data)
        turn += 1
    return b"".join(out)


def refusal(reader) -> S3Error:
    with pytest.raises(S3Error) as refused:
        read_all(reader)
    return refused.value


def test_aws_documentation_chunked_upload_decodes_to_65_kib_of_a():
    body = b"".join(doc_chunks())
    assert len(body) == 66824
    reader = verified_body(doc_auth(), io.BytesIO(body), DOC_HEADERS)
    assert read_all(reader) == b"a" * 66560
    assert reader.decoded_length == 66560


@pytest.mark.parametrize("sizes", [(1,), (7, 1000), (65535,), (1 << 20,), (3, 65536, 11)])
def test_chunked_upload_decodes_the_same_whatever_the_read_size(sizes):
    reader = verified_body(doc_auth(), io.BytesIO(b"".join(doc_chunks())), DOC_HEADERS)
    assert read_all(reader, sizes) == b"a" * 66560


def test_chunked_upload_with_reordered_chunks_is_refused_as_signature_mismatch():
    first, second, final = doc_chunks()
    reader = verified_body(doc_auth(), io.BytesIO(second + first + final), DOC_HEADERS)
    assert refusal(reader).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("cut", [1, 2, 50, 86, 1200, 60000, 66000])
def test_chunked_upload_cut_short_is_refused_as_incomplete(cut):
    body = b"".join(doc_chunks())[:-cut]
    reader = verified_body(doc_auth(), io.BytesIO(body), DOC_HEADERS)
    assert refusal(reader).code == "IncompleteBody"


def test_chunked_upload_missing_its_final_chunk_is_refused_even_without_content_length():
    first, second, _ = doc_chunks()
    headers = {k: v for k, v in DOC_HEADERS.items() if k != "Content-Length"}
    reader = verified_body(doc_auth(), io.BytesIO(first + second), headers)
    assert refusal(reader).code == "IncompleteBody"


def test_chunked_upload_with_one_tampered_byte_is_refused_as_signature_mismatch():
    body = bytearray(b"".join(doc_chunks()))
    body[5000] = ord("b")
    reader = verified_body(doc_auth(), io.BytesIO(bytes(body)), DOC_HEADERS)
    assert refusal(reader).code == "SignatureDoesNotMatch"


def test_chunked_upload_with_data_after_the_final_chunk_is_refused():
    body = b"".join(doc_chunks()) + b"extra"
    headers = {**DOC_HEADERS, "Content-Length": str(len(body))}
    assert refusal(verified_body(doc_auth(), io.BytesIO(body), headers)).code == "InvalidRequest"


@pytest.mark.parametrize("declared", ["66559", "66561", "0"])
def test_chunked_upload_with_a_wrong_decoded_length_is_refused(declared):
    headers = {**DOC_HEADERS, "x-amz-decoded-content-length": declared}
    reader = verified_body(doc_auth(), io.BytesIO(b"".join(doc_chunks())), headers)
    assert refusal(reader).code in ("IncompleteBody", "InvalidRequest")


class _StreamingSigner(S3SigV4Auth):
    """botocore's signer, declaring an aws-chunked payload the way SDKs that stream do."""

    def __init__(self, payload, secret=SECRET):
        super().__init__(Credentials(ACCESS_KEY, secret), "s3", "gshare-1")
        self._payload = payload

    def payload(self, request):
        return self._payload


def streaming_request(parts, mode="STREAMING-AWS4-HMAC-SHA256-PAYLOAD", trailers=None, **headers):
    """Sign headers with botocore, then chunk and sign the body from its seed signature."""
    headers = {"Content-Encoding": "aws-chunked", **headers}
    headers["X-Amz-Decoded-Content-Length"] = str(sum(map(len, parts)))
    if trailers:
        headers["X-Amz-Trailer"] = ",".join(trailers)
    request = AWSRequest("PUT", "https://s3.gshare.test/finance/ລາຍງານ.pdf", headers=headers)
    _StreamingSigner(mode).add_auth(request)
    wire = presigned_request(request.url, "PUT", request.headers)
    auth = wire.authenticate()
    wire.body = signed_chunks(
        parts, auth.signing_key, auth.amz_date, auth.scope, auth.seed_signature, trailers
    )
    wire.extra["auth"] = auth
    return wire


def body_of(wire: WireRequest, headers=None):
    return verified_body(wire.extra["auth"], wire.body_stream(), headers or wire.headers)


def test_botocore_signed_streaming_upload_decodes():
    parts = [b"x" * 8192, "ລາຍງານ".encode() * 100, b"end"]
    reader = body_of(streaming_request(parts))
    assert read_all(reader, (5000,)) == b"".join(parts)


def test_signed_streaming_upload_with_signed_trailer_checksum_decodes():
    parts = [b"quarterly " * 1000, b"figures"]
    value = checksum_of("crc32c", b"".join(parts))
    wire = streaming_request(
        parts, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", {"x-amz-checksum-crc32c": value}
    )
    reader = body_of(wire)
    assert read_all(reader) == b"".join(parts)
    assert reader.checksums == {"crc32c": value}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_signed_trailer_with_a_wrong_checksum_is_refused_as_bad_digest(algorithm):
    wrong = checksum_of(algorithm, b"something else")
    name = f"x-amz-checksum-{algorithm}"
    wire = streaming_request(
        [b"payload"], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", {name: wrong}
    )
    error = refusal(body_of(wire))
    assert (error.code, error.status) == ("BadDigest", 400)
    assert error.message == f"The {name} you specified did not match the calculated checksum."


def test_signed_trailer_altered_in_transit_is_refused_as_signature_mismatch():
    value = checksum_of("crc32", b"payload")
    wire = streaming_request(
        [b"payload"], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", {"x-amz-checksum-crc32": value}
    )
    wire.body = wire.body.replace(value.encode(), checksum_of("crc32", b"other").encode())
    assert refusal(body_of(wire)).code == "SignatureDoesNotMatch"


def test_signed_trailer_without_its_signature_is_refused():
    value = checksum_of("crc32", b"payload")
    wire = streaming_request(
        [b"payload"], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", {"x-amz-checksum-crc32": value}
    )
    start = wire.body.index(b"x-amz-trailer-signature")
    wire.body = wire.body[:start] + b"\r\n"
    assert refusal(body_of(wire)).code == "SignatureDoesNotMatch"


def test_streaming_upload_signed_with_another_seed_is_refused():
    wire = streaming_request([b"abc"])
    auth = wire.extra["auth"]
    wire.body = signed_chunks([b"abc"], auth.signing_key, auth.amz_date, auth.scope, "0" * 64)
    assert refusal(body_of(wire)).code == "SignatureDoesNotMatch"


def test_streaming_upload_with_a_declared_trailer_missing_is_refused():
    wire = streaming_request(
        [b"abc"], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", {"x-amz-checksum-crc32": "x"}
    )
    wire.body = signed_chunks([b"abc"], *_chain(wire))
    assert refusal(body_of(wire)).code == "MalformedTrailerError"


def _chain(wire):
    auth = wire.extra["auth"]
    return auth.signing_key, auth.amz_date, auth.scope, auth.seed_signature


def unsigned_trailer_auth():
    return boto3_request(boto3_client(), "put_object", Bucket="b", Key="k", Body=b"").authenticate()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unsigned_trailer_checksum_of_each_algorithm_is_verified(algorithm):
    payload = b"minutes of the board " * 5000
    name = f"x-amz-checksum-{algorithm}"
    body = unsigned_chunks(
        [payload[:70000], payload[70000:]], {name: checksum_of(algorithm, payload)}
    )
    headers = {"x-amz-trailer": name, "x-amz-decoded-content-length": str(len(payload))}
    reader = verified_body(unsigned_trailer_auth(), io.BytesIO(body), headers)
    assert read_all(reader, (4096,)) == payload
    assert reader.checksums[algorithm] == checksum_of(algorithm, payload)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unsigned_trailer_with_a_wrong_checksum_is_refused_as_bad_digest(algorithm):
    name = f"x-amz-checksum-{algorithm}"
    body = unsigned_chunks([b"the real file"], {name: checksum_of(algorithm, b"another file")})
    reader = verified_body(unsigned_trailer_auth(), io.BytesIO(body), {"x-amz-trailer": name})
    assert refusal(reader).code == "BadDigest"


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_boto3_put_object_over_https_round_trips_with_its_trailer(algorithm):
    payload = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    wire = boto3_request(
        boto3_client(), "put_object", Bucket="finance", Key="ລາຍງານ 2026.pdf",
        Body=io.BytesIO(payload), ChecksumAlgorithm=algorithm,
    )  # fmt: skip
    reader = verified_body(wire.authenticate(), wire.body_stream(), wire.headers)
    assert read_all(reader, (100_000,)) == payload
    assert reader.checksums[algorithm.lower()] == checksum_of(algorithm.lower(), payload)


def test_botocore_aws_chunked_wrapper_body_with_a_flipped_byte_is_refused_as_bad_digest():
    payload = b"0123456789" * 10000
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), checksum_cls=lambda: Checksum("crc32"),
        checksum_name="x-amz-checksum-crc32",
        chunk_size=16384,
    )  # fmt: skip
    body = bytearray(wrapper.read())
    body[20000] ^= 1
    reader = verified_body(
        unsigned_trailer_auth(), io.BytesIO(bytes(body)), {"x-amz-trailer": "x-amz-checksum-crc32"}
    )
    assert refusal(reader).code == "BadDigest"


def test_boto3_put_object_over_http_verifies_its_hex_payload_and_checksum_header():
    payload = b"plain http upload" * 1000
    wire = boto3_request(
        boto3_client("http://127.0.0.1:9000"), "put_object", Bucket="b", Key="k", Body=payload
    )
    reader = verified_body(wire.authenticate(), wire.body_stream(), wire.headers)
    assert read_all(reader) == payload
    assert reader.checksums["crc32"] == wire.headers["x-amz-checksum-crc32"]


def test_hex_payload_that_differs_from_its_declared_sha256_is_refused():
    wire = boto3_request(
        boto3_client("http://127.0.0.1:9000"), "put_object", Bucket="b", Key="k", Body=b"signed"
    )
    auth = wire.authenticate()
    error = refusal(verified_body(auth, io.BytesIO(b"sigNed"), {"Content-Length": "6"}))
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)


def test_hex_payload_is_refused_before_the_last_byte_is_handed_on():
    """A caller that reads exactly Content-Length bytes and stops still sees the refusal."""
    wire = boto3_request(
        boto3_client("http://127.0.0.1:9000"), "put_object", Bucket="b", Key="k", Body=b"signed"
    )
    reader = verified_body(wire.authenticate(), io.BytesIO(b"sigNed"), {"Content-Length": "6"})
    assert reader.read(5) == b"sigNe"
    with pytest.raises(S3Error):
        reader.read(1)
    with pytest.raises(S3Error):
        reader.read(1)


def test_hex_payload_shorter_than_content_length_is_refused_as_incomplete():
    wire = boto3_request(
        boto3_client("http://127.0.0.1:9000"), "put_object", Bucket="b", Key="k", Body=b"signed"
    )
    reader = verified_body(wire.authenticate(), io.BytesIO(b"sig"), {"Content-Length": "6"})
    assert refusal(reader).code == "IncompleteBody"


def test_unsigned_payload_passes_through_and_stops_at_content_length():
    auth = boto3_request(
        boto3_client(payload_signing_enabled=False), "get_object", Bucket="b", Key="k"
    ).authenticate()
    auth = replace(auth, payload="unsigned", declared_sha256=None)
    reader = verified_body(auth, io.BytesIO(b"hello world"), {"Content-Length": "5"}, ["md5"])
    assert read_all(reader) == b"hello"
    assert reader.checksums == {"md5": checksum_of("md5", b"hello")}


def test_unsigned_payload_with_a_wrong_checksum_header_is_refused_as_bad_digest():
    auth = unsigned_trailer_auth()
    auth = replace(auth, payload="unsigned")
    headers = {"x-amz-checksum-sha256": checksum_of("sha256", b"other")}
    assert refusal(verified_body(auth, io.BytesIO(b"file"), headers)).code == "BadDigest"


def test_wrong_content_md5_is_refused_as_bad_digest():
    auth = unsigned_trailer_auth()
    auth = replace(auth, payload="unsigned")
    headers = {"Content-MD5": checksum_of("md5", b"other")}
    error = refusal(verified_body(auth, io.BytesIO(b"file"), headers))
    assert (error.code, error.message) == (
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
        {"x-amz-checksum-crc32": "not base64!"},
        {"x-amz-checksum-crc32": "AAAAAAAA"},
        {"x-amz-sdk-checksum-algorithm": "ADLER32"},
    ],
)
def test_malformed_or_several_checksum_headers_are_refused_as_invalid(headers):
    auth = unsigned_trailer_auth()
    with pytest.raises(S3Error) as refused:
        verified_body(auth, io.BytesIO(b""), headers)
    assert refused.value.code == "InvalidRequest"


def test_sdk_checksum_algorithm_without_a_value_is_computed_for_the_caller():
    body = unsigned_chunks([b"abc"], {})
    reader = verified_body(
        unsigned_trailer_auth(), io.BytesIO(body), {"x-amz-sdk-checksum-algorithm": "CRC64NVME"}
    )
    assert read_all(reader) == b"abc"
    assert reader.checksums == {"crc64nvme": checksum_of("crc64nvme", b"abc")}


class _CountingStream(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.largest_read = 0

    def read(self, n=-1):
        self.largest_read = max(self.largest_read, n)
        return super().read(n)


def test_a_large_chunk_streams_through_without_being_held_in_memory():
    payload = hashlib.sha256(b"seed").digest() * (8 * 1024 * 1024 // 32)
    wire = streaming_request([payload])
    raw = _CountingStream(wire.body)
    reader = verified_body(wire.extra["auth"], raw, wire.headers)
    total = hashlib.sha256()
    while data := reader.read(65536):
        assert len(data) <= 65536
        total.update(data)
    assert total.digest() == hashlib.sha256(payload).digest()
    assert raw.largest_read <= 65536


def test_reading_after_the_end_returns_nothing_and_reports_the_decoded_length():
    reader = verified_body(doc_auth(), io.BytesIO(b"".join(doc_chunks())), DOC_HEADERS)
    read_all(reader)
    assert reader.read(10) == b"" and reader.read() == b""
    assert reader.decoded_length == 66560


def test_read_without_a_size_returns_the_whole_decoded_body():
    reader = verified_body(doc_auth(), io.BytesIO(b"".join(doc_chunks())), DOC_HEADERS)
    assert reader.read() == b"a" * 66560


@pytest.mark.parametrize("seed", range(5))
def test_unsigned_trailer_upload_decodes_the_same_for_random_read_sizes(seed):
    rng = random.Random(seed)
    payload = rng.randbytes(300_000)
    cuts = sorted(rng.sample(range(1, len(payload)), 6))
    parts = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
    body = unsigned_chunks(parts, {"x-amz-checksum-crc32c": checksum_of("crc32c", payload)})
    headers = {"x-amz-trailer": "x-amz-checksum-crc32c", "Content-Length": str(len(body))}
    reader = verified_body(unsigned_trailer_auth(), io.BytesIO(body), headers)
    sizes = tuple(rng.choice([1, 2, 255, 256, 257, 4096, 65536, 1 << 20]) for _ in range(50))
    assert read_all(reader, sizes) == payload
