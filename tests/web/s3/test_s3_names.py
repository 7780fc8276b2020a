"""Object keys that gshare refuses, with the reason an S3 client shows."""

import urllib.error
import urllib.request

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site.client("alice")


def test_a_key_with_a_direction_override_is_refused_with_a_clear_400(alice):
    alice.put_object(Bucket="finance", Key="reports/plan.pdf", Body=b"%PDF-1.4\n")
    with pytest.raises(ClientError) as refused:
        alice.put_object(Bucket="finance", Key="reports/rtl\u202efdp.js", Body=b"x")
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidArgument"
    assert "change the direction of text" in error["Error"]["Message"]
    listed = alice.list_objects_v2(Bucket="finance")["Contents"]
    assert [o["Key"] for o in listed] == ["reports/plan.pdf"]


@pytest.mark.parametrize("name", ["Finance_2026", "ab", "-lead", "a" * 64, "x..y", "UPPER"])
def test_a_bad_bucket_name_is_refused_as_invalid_bucket_name(alice, name):
    with pytest.raises(ClientError) as refused:
        alice.create_bucket(Bucket=name)
    assert refused.value.response["Error"]["Code"] == "InvalidBucketName"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert name not in [b["Name"] for b in alice.list_buckets()["Buckets"]]


def _signed(s3_site, method: str, path: str, headers: dict | None = None):
    """Send a request for a raw path, signed with alice's key as botocore signs."""
    person = s3_site.people["alice"]
    request = AWSRequest(method=method, url=f"{s3_site.url}{path}", data=b"")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    for name, value in (headers or {}).items():
        request.headers[name] = value
    credentials = Credentials(person.key_id, person.secret)
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, method=method, headers=dict(request.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_key_that_is_not_utf8_is_refused_with_400(s3_site, alice):
    alice.put_object(Bucket="finance", Key="plain.txt", Body=b"p")
    assert _signed(s3_site, "GET", "/finance/plain.txt") == (200, b"p")
    for method in ("GET", "PUT"):
        status, body = _signed(s3_site, method, "/finance/%AE%8A-.txt")
        assert status == 400, body
        assert b"<Code>InvalidURI</Code>" in body
    status, body = _signed(s3_site, "GET", "/finance?list-type=2&prefix=%FF")
    assert (status, b"<Code>InvalidURI</Code>" in body) == (400, True)
    copy = {"x-amz-copy-source": "/finance/%AE%8A-.txt"}
    status, body = _signed(s3_site, "PUT", "/finance/copy.txt", copy)
    assert (status, b"<Code>InvalidArgument</Code>" in body) == (400, True)
    assert [o["Key"] for o in alice.list_objects_v2(Bucket="finance")["Contents"]] == ["plain.txt"]


def test_a_key_that_is_both_a_file_and_a_folder_is_refused(alice):
    alice.put_object(Bucket="finance", Key="bar", Body=b"file")
    with pytest.raises(ClientError) as below_a_file:
        alice.put_object(Bucket="finance", Key="bar/baz", Body=b"below")
    alice.put_object(Bucket="finance", Key="dir/inner.txt", Body=b"in")
    with pytest.raises(ClientError) as over_a_folder:
        alice.put_object(Bucket="finance", Key="dir", Body=b"over")
    with pytest.raises(ClientError) as folder_with_content:
        alice.put_object(Bucket="finance", Key="empty/", Body=b"content")
    for refused in (below_a_file, over_a_folder, folder_with_content):
        assert refused.value.response["Error"]["Code"] == "InvalidArgument", refused.value
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    listed = alice.list_objects_v2(Bucket="finance")["Contents"]
    assert [o["Key"] for o in listed] == ["bar", "dir/inner.txt"]
    assert alice.get_object(Bucket="finance", Key="bar")["Body"].read() == b"file"
