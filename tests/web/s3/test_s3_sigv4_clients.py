"""Requests signed by real clients (boto3/aws cli, minio-py) verify, whatever the key."""

import io
from datetime import UTC, datetime

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.web.s3.s3_client_requests import (
    ACCESS_KEY,
    REGION,
    SECRET,
    boto3_client,
    boto3_request,
    minio_client,
    minio_request,
    presigned_request,
)
from web.s3.errors import S3Error
from web.s3.sigv4 import canonical_uri

KEYS = [
    "plain.txt",
    "with space.txt",
    "a+b.txt",
    "100%.txt",
    "percent%20literal.txt",
    "~tilde~/x.txt",
    "ເອກະສານ/ລາຍງານ 2026.pdf",
    "k=v&x=y.txt",
    "semi;colon,comma.txt",
    "dollar$ at@ colon: hash#.txt",
    "quote'\"brackets[](){}<>.txt",
    "star*bang!caret^pipe|.txt",
    "accents é ü 中文 🙂.txt",
    "double//slash/./dot/../x",
    "trailing/",
    "back\\slash.txt",
]
MINIO_KEYS = [key for key in KEYS if "/./" not in key]  # minio-py refuses '.' segments
ENDPOINTS = ["https://s3.gshare.test", "http://127.0.0.1:9000"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("key", KEYS)
def test_boto3_get_object_verifies_for_any_key(endpoint, key):
    wire = boto3_request(boto3_client(endpoint), "get_object", Bucket="finance", Key=key)
    context = wire.authenticate()
    assert (context.access_key, context.auth_type, context.region) == (ACCESS_KEY, "header", REGION)


@pytest.mark.parametrize("key", KEYS)
def test_boto3_put_object_over_http_verifies_with_a_hex_payload(key):
    body = b"budget 2026\n" * 100
    wire = boto3_request(
        boto3_client("http://127.0.0.1:9000"), "put_object", Bucket="finance", Key=key, Body=body
    )
    context = wire.authenticate()
    assert context.payload == "hex"


@pytest.mark.parametrize("key", KEYS)
def test_boto3_put_object_over_https_verifies_with_an_unsigned_trailer(key):
    wire = boto3_request(boto3_client(), "put_object", Bucket="finance", Key=key, Body=b"x" * 10)
    context = wire.authenticate()
    assert context.payload == "streaming-unsigned-trailer"


def test_boto3_with_payload_signing_disabled_verifies_as_unsigned_payload():
    client = boto3_client(payload_signing_enabled=False)
    wire = boto3_request(
        client, "put_object", Bucket="finance", Key="a.txt", Body=io.BytesIO(b"abc"),
        ChecksumAlgorithm="CRC32",
    )  # fmt: skip
    assert wire.authenticate().payload in ("unsigned", "streaming-unsigned-trailer")


QUERY_VALUES = ["a b", "a+b", "k=v&x=y", "ເອກະສານ/", "100%", "~x*y!z'(\")", "é/ü/", ""]


@pytest.mark.parametrize("prefix", QUERY_VALUES)
def test_boto3_listing_with_odd_prefix_and_start_after_verifies(prefix):
    wire = boto3_request(
        boto3_client(), "list_objects_v2", Bucket="finance", Prefix=prefix, StartAfter=prefix,
        Delimiter="/", MaxKeys=7,
    )  # fmt: skip
    assert wire.authenticate().auth_type == "header"


@pytest.mark.parametrize("key", KEYS)
def test_boto3_presigned_get_with_response_overrides_verifies(key):
    url = boto3_client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "finance",
            "Key": key,
            "ResponseContentDisposition": 'attachment; filename="a b=c&d+é.pdf"',
        },
        ExpiresIn=600,
    )
    context = presigned_request(url).authenticate()
    assert (context.auth_type, context.payload) == ("presigned", "unsigned")


@pytest.mark.parametrize("key", KEYS)
def test_boto3_presigned_put_verifies(key):
    url = boto3_client().generate_presigned_url(
        "put_object", Params={"Bucket": "finance", "Key": key}, ExpiresIn=3600
    )
    assert presigned_request(url, "PUT").authenticate().auth_type == "presigned"


@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("key", MINIO_KEYS)
def test_minio_py_stat_and_get_verify_for_any_key(key, secure):
    client = minio_client(secure=secure)
    for call in (
        lambda: client.stat_object("finance", key),
        lambda: client.get_object("finance", key),
    ):
        assert minio_request(call).authenticate().access_key == ACCESS_KEY


@pytest.mark.parametrize("key", MINIO_KEYS)
def test_minio_py_put_object_verifies(key):
    client = minio_client()
    body = b"minutes of the meeting" * 50
    wire = minio_request(lambda: client.put_object("finance", key, io.BytesIO(body), len(body)))
    assert wire.authenticate().payload == "hex"
    assert wire.body == body


@pytest.mark.parametrize("prefix", [p for p in QUERY_VALUES if p])
def test_minio_py_listing_with_odd_prefix_verifies(prefix):
    client = minio_client()
    wire = minio_request(lambda: next(iter(client.list_objects("finance", prefix=prefix))))
    assert wire.authenticate().auth_type == "header"


@pytest.mark.parametrize("key", MINIO_KEYS)
def test_minio_py_presigned_get_verifies(key):
    url = minio_client().presigned_get_object("finance", key)
    assert presigned_request(url).authenticate().auth_type == "presigned"


RAW_PATHS = [
    "/finance/k=v&x=y.txt",
    "/finance/dollar$comma,semi;colon:at@bang!star*.txt",
    "/finance/lower%c3%a9hex.txt",
    "/finance/plus+sign.txt",
]


@pytest.mark.parametrize("raw_path", RAW_PATHS)
def test_client_that_signs_the_path_exactly_as_sent_verifies(raw_path):
    """Go's net/url and hand-rolled clients leave reserved characters as they are and sign that."""
    request = AWSRequest("GET", f"https://s3.gshare.test{raw_path}?list-type=2&prefix=a+b")
    request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", REGION).add_auth(request)
    wire = presigned_request(request.url, headers=request.headers)
    assert wire.authenticate().auth_type == "header"


def test_canonical_uri_reencodes_the_decoded_path_once():
    assert canonical_uri("/test$file.text") == "/test%24file.text"
    assert canonical_uri("/a%2bb/c%20d") == "/a%2Bb/c%20d"
    assert canonical_uri("/a%2Fb") == "/a/b"
    assert canonical_uri("/%E0%BA%A5~x") == "/%E0%BA%A5~x"
    assert canonical_uri("") == "/"


def test_boto3_request_with_wrong_secret_is_refused_as_signature_mismatch():
    wire = boto3_request(
        boto3_client(secret="not-the-secret"), "get_object", Bucket="finance", Key="a"
    )
    with pytest.raises(S3Error) as refused:
        wire.authenticate()
    assert refused.value.code == "SignatureDoesNotMatch"
    assert "CanonicalRequest" in refused.value.extra


def test_boto3_request_verifies_with_the_clock_injected():
    wire = boto3_request(boto3_client(), "head_object", Bucket="finance", Key="a")
    context = wire.authenticate(now=datetime.now(UTC))
    assert context.amz_date == wire.headers["X-Amz-Date"]
