"""Requests the S3 endpoint refuses, and the S3 error each client sees."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.web.s3.s3_client_requests import (
    ACCESS_KEY,
    SECRET,
    boto3_client,
    boto3_request,
    presigned_request,
    secret_for,
)
from web.s3.errors import S3Error
from web.s3.sigv4 import authenticate, signing_key

URL = "https://s3.gshare.test/finance/report.pdf"


def signed(headers=None, url=URL, method="GET", secret=SECRET, region="gshare-1"):
    """Sign a request with botocore's own signer and return it as it arrives."""
    request = AWSRequest(method, url, headers=dict(headers or {}))
    S3SigV4Auth(Credentials(ACCESS_KEY, secret), "s3", region).add_auth(request)
    return presigned_request(request.url, method, request.headers)


def presigned(expires=3600, url=URL):
    request = AWSRequest("GET", url)
    S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET), "s3", "gshare-1", expires=expires).add_auth(
        request
    )
    return presigned_request(request.url)


def refusal(wire, **kwargs) -> S3Error:
    with pytest.raises(S3Error) as refused:
        wire.authenticate(**kwargs)
    return refused.value


def test_request_signed_with_the_wrong_secret_is_refused_as_signature_mismatch():
    error = refusal(signed(secret="guessed"))
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_request_from_an_unknown_access_key_is_refused_as_invalid_key():
    wire = signed()
    wire.headers["Authorization"] = wire.headers["Authorization"].replace(ACCESS_KEY, "NOSUCHKEY")
    error = refusal(wire)
    assert (error.code, error.status) == ("InvalidAccessKeyId", 403)


@pytest.mark.parametrize("header", ["X-Amz-Date", "Host", "Range", "X-Amz-Content-SHA256"])
def test_request_with_a_tampered_signed_header_is_refused(header):
    wire = signed({"Range": "bytes=0-9"})
    original = wire.headers[header]
    last = max(i for i, c in enumerate(original) if c.isalnum() and c != "Z")
    wire.headers[header] = (
        original[:last] + ("0" if original[last] != "0" else "1") + original[last + 1 :]
    )
    assert refusal(wire).code == "SignatureDoesNotMatch"


def test_request_with_a_tampered_range_is_refused_as_signature_mismatch():
    wire = signed({"Range": "bytes=0-9"})
    wire.headers["Range"] = "bytes=0-99999"
    assert refusal(wire).code == "SignatureDoesNotMatch"


def test_request_with_a_tampered_path_or_query_is_refused():
    wire = signed(url=URL + "?versionId=1")
    for path, query in ((wire.path + "x", wire.query), (wire.path, "versionId=2")):
        with pytest.raises(S3Error) as refused:
            authenticate("GET", path, query, wire.headers, secret_for, region="gshare-1")
        assert refused.value.code == "SignatureDoesNotMatch"


def test_request_with_an_unsigned_amz_header_is_refused_naming_it():
    wire = signed()
    wire.headers["x-amz-acl"] = "public-read"
    error = refusal(wire)
    assert (error.code, error.message) == (
        "AccessDenied",
        "There were headers present in the request which were not signed",
    )
    assert error.extra["HeadersNotSigned"] == "x-amz-acl"


def test_presigned_url_with_an_unsigned_amz_header_is_refused():
    wire = presigned()
    wire.headers["X-Amz-Meta-Owner"] = "mallory"
    assert refusal(wire).code == "AccessDenied"


def test_request_signed_without_host_is_refused_as_malformed():
    wire = signed()
    wire.headers["Authorization"] = wire.headers["Authorization"].replace("host;", "")
    error = refusal(wire)
    assert (error.code, error.status) == ("AuthorizationHeaderMalformed", 400)


@pytest.mark.parametrize("minutes", [16, -16, 60 * 24])
def test_request_signed_more_than_15_minutes_off_is_refused_as_skewed(minutes):
    error = refusal(signed(), now=datetime.now(UTC) + timedelta(minutes=minutes))
    assert (error.code, error.status) == ("RequestTimeTooSkewed", 403)
    assert error.extra["MaxAllowedSkewMilliseconds"] == "900000"


@pytest.mark.parametrize("minutes", [14, -14])
def test_request_signed_14_minutes_off_is_accepted(minutes):
    signed().authenticate(now=datetime.now(UTC) + timedelta(minutes=minutes))


def test_request_dated_only_by_the_date_header_verifies():
    wire = signed({"Date": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert "X-Amz-Date" not in wire.headers
    assert wire.authenticate().amz_date.endswith("Z")


def test_request_with_an_unreadable_date_is_refused():
    wire = signed()
    wire.headers["X-Amz-Date"] = "yesterday"
    error = refusal(wire)
    assert (error.code, error.status) == ("AccessDenied", 403)


def test_request_whose_credential_day_differs_from_its_date_is_refused_as_malformed():
    wire = signed()
    day = wire.headers["X-Amz-Date"][:8]
    wire.headers["Authorization"] = wire.headers["Authorization"].replace(f"/{day}/", "/20010101/")
    error = refusal(wire)
    assert error.code == "AuthorizationHeaderMalformed"
    assert "Date is not the same as X-Amz-Date" in error.message


def test_request_signed_for_another_region_is_refused_naming_ours():
    error = refusal(signed(region="us-east-1"), region="gshare-1")
    assert (error.code, error.status) == ("AuthorizationHeaderMalformed", 400)
    assert error.extra["Region"] == "gshare-1"


def test_request_signed_for_any_region_verifies_when_none_is_configured():
    assert signed(region="eu-west-3").authenticate(region=None).region == "eu-west-3"


def test_request_signed_for_another_service_is_refused_as_malformed():
    request = AWSRequest("GET", URL)
    request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "iam", "gshare-1").add_auth(request)
    error = refusal(presigned_request(request.url, headers=request.headers))
    assert error.code == "AuthorizationHeaderMalformed"
    assert 'incorrect service "iam"' in error.message


def test_header_request_without_content_sha256_is_refused():
    request = AWSRequest("GET", URL)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", "gshare-1").add_auth(request)
    error = refusal(presigned_request(request.url, headers=request.headers))
    assert (error.code, error.status) == ("InvalidRequest", 400)
    assert "x-amz-content-sha256" in error.message


@pytest.mark.parametrize(
    "value", ["deadbeef", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "x" * 64]
)
def test_request_with_an_unknown_content_sha256_is_refused_as_invalid_argument(value):
    wire = signed()
    wire.headers["X-Amz-Content-SHA256"] = value
    error = refusal(wire)
    assert (error.code, error.status) == ("InvalidArgument", 400)


def test_presigned_url_expired_is_refused():
    error = refusal(presigned(expires=60), now=datetime.now(UTC) + timedelta(seconds=61))
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")


def test_presigned_url_within_its_lifetime_is_accepted():
    presigned(expires=60).authenticate(now=datetime.now(UTC) + timedelta(seconds=55))


def test_presigned_url_valid_for_over_7_days_is_refused():
    error = refusal(presigned(expires=604801))
    assert (error.code, error.status) == ("AuthorizationQueryParametersError", 400)
    assert error.message == (
        "X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds"
    )


def test_presigned_url_valid_for_exactly_7_days_is_accepted():
    presigned(expires=604800).authenticate()


@pytest.mark.parametrize("expires", ["0", "-5", "soon"])
def test_presigned_url_with_a_nonsense_lifetime_is_refused(expires):
    wire = presigned()
    wire.query = wire.query.replace("X-Amz-Expires=3600", f"X-Amz-Expires={expires}")
    assert refusal(wire).code == "AuthorizationQueryParametersError"


def test_presigned_url_dated_in_the_future_is_refused_as_not_yet_valid():
    error = refusal(presigned(), now=datetime.now(UTC) - timedelta(minutes=16))
    assert (error.code, error.message) == ("AccessDenied", "Request is not valid yet")


def test_presigned_url_with_a_tampered_lifetime_is_refused_as_signature_mismatch():
    wire = presigned(expires=60)
    wire.query = wire.query.replace("X-Amz-Expires=60", "X-Amz-Expires=86400")
    assert refusal(wire).code == "SignatureDoesNotMatch"


def test_presigned_url_missing_a_parameter_is_refused():
    wire = presigned()
    wire.query = "&".join(p for p in wire.query.split("&") if not p.startswith("X-Amz-Date="))
    assert refusal(wire).code == "AuthorizationQueryParametersError"


def test_request_with_both_header_and_presigned_auth_is_refused():
    wire = presigned()
    wire.headers["Authorization"] = signed().headers["Authorization"]
    error = refusal(wire)
    assert (error.code, error.status) == ("InvalidArgument", 400)


def test_anonymous_request_is_refused_as_access_denied():
    wire = presigned_request(URL)
    assert (refusal(wire).code, refusal(wire).status) == ("AccessDenied", 403)


def test_signature_v2_header_is_refused_asking_for_v4():
    wire = presigned_request(URL, headers={"Authorization": f"AWS {ACCESS_KEY}:c2lnbmF0dXJl"})
    error = refusal(wire)
    assert (error.code, error.status) == ("InvalidRequest", 400)
    assert "AWS4-HMAC-SHA256" in error.message


def test_signature_v2_presigned_url_is_refused_asking_for_v4():
    wire = presigned_request(URL + f"?AWSAccessKeyId={ACCESS_KEY}&Expires=1&Signature=abc")
    assert refusal(wire).code == "InvalidRequest"


def test_unknown_authorization_scheme_is_refused():
    wire = presigned_request(URL, headers={"Authorization": "Bearer abc"})
    assert refusal(wire).code == "InvalidArgument"


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=KEY/20260101/gshare-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=KEY/20260101/gshare-1, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=K/20260101/gshare-1/s3/aws5, SignedHeaders=host, Signature=a",
    ],
)
def test_malformed_authorization_header_is_refused_as_malformed(authorization):
    wire = signed()
    wire.headers["Authorization"] = authorization
    wire.headers["X-Amz-Date"] = "20260101T000000Z"
    error = refusal(wire, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert (error.code, error.status) == ("AuthorizationHeaderMalformed", 400)


def test_boto3_put_with_unsigned_trailer_still_refuses_a_wrong_secret():
    wire = boto3_request(boto3_client(secret="wrong"), "put_object", Bucket="b", Key="k", Body=b"x")
    assert refusal(wire).code == "SignatureDoesNotMatch"


def test_signing_key_is_derived_as_the_aws_documentation_shows():
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
