"""The signature examples from the AWS S3 documentation, retyped as data."""

from datetime import UTC, datetime

import pytest

from web.s3.errors import S3Error
from web.s3.sigv4 import authenticate

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NOW = datetime(2013, 5, 24, 0, 0, 5, tzinfo=UTC)
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CREDENTIAL = f"Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request"


def secret_for(access_key):
    return SECRET if access_key == ACCESS_KEY else None


def header_request(method, path, query, headers, signed, signature):
    auth = f"AWS4-HMAC-SHA256 {CREDENTIAL},SignedHeaders={signed},Signature={signature}"
    headers = {"Host": "examplebucket.s3.amazonaws.com", **headers, "Authorization": auth}
    return authenticate(method, path, query, headers, secret_for, now=NOW, region="us-east-1")


DOC_EXAMPLES = {
    "get_object_with_range": (
        "GET", "/test.txt", "",
        {"Range": "bytes=0-9", "x-amz-content-sha256": EMPTY, "x-amz-date": "20130524T000000Z"},
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    ),
    "put_object": (
        "PUT", "/test$file.text", "",
        {
            "Date": "Fri, 24 May 2013 00:00:00 GMT",
            "x-amz-date": "20130524T000000Z",
            "x-amz-storage-class": "REDUCED_REDUNDANCY",
            "x-amz-content-sha256":
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        },
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    ),
    "get_bucket_lifecycle": (
        "GET", "/", "lifecycle",
        {"x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY},
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    ),
    "list_objects": (
        "GET", "/", "max-keys=2&prefix=J",
        {"x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY},
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    ),
}  # fmt: skip


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=str)
def test_aws_documentation_example_is_accepted(example):
    method, path, query, headers, signed, signature = DOC_EXAMPLES[example]
    context = header_request(method, path, query, headers, signed, signature)
    assert context.access_key == ACCESS_KEY
    assert context.auth_type == "header"
    assert context.seed_signature == signature
    assert context.scope == "20130524/us-east-1/s3/aws4_request"
    assert context.amz_date == "20130524T000000Z"


def test_documented_put_object_declares_a_hex_payload():
    context = header_request(*DOC_EXAMPLES["put_object"])
    assert context.payload == "hex"
    assert context.declared_sha256 == (
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    )


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=str)
def test_aws_documentation_example_with_one_changed_signature_digit_is_refused(example):
    method, path, query, headers, signed, signature = DOC_EXAMPLES[example]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    with pytest.raises(S3Error) as refused:
        header_request(method, path, query, headers, signed, forged)
    assert refused.value.code == "SignatureDoesNotMatch"
    assert refused.value.status == 403


PRESIGNED_QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def test_aws_documentation_presigned_url_is_accepted_within_its_day():
    later = datetime(2013, 5, 24, 23, 59, 59, tzinfo=UTC)
    context = authenticate(
        "GET", "/test.txt", PRESIGNED_QUERY, {"Host": "examplebucket.s3.amazonaws.com"},
        secret_for, now=later,
    )  # fmt: skip
    assert context.auth_type == "presigned"
    assert context.payload == "unsigned"
    assert context.region == "us-east-1"


def test_aws_documentation_presigned_url_is_refused_the_next_day():
    next_day = datetime(2013, 5, 25, 0, 0, 1, tzinfo=UTC)
    with pytest.raises(S3Error) as refused:
        authenticate(
            "GET", "/test.txt", PRESIGNED_QUERY, {"Host": "examplebucket.s3.amazonaws.com"},
            secret_for, now=next_day,
        )  # fmt: skip
    assert (refused.value.code, refused.value.message) == ("AccessDenied", "Request has expired")
