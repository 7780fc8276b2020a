"""Object keys that gshare refuses, with the reason an S3 client shows."""

import pytest
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
