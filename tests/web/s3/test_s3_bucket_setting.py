"""CreateBucket on a site that turns spaces of one's own off ([spaces] allow_user_spaces)."""

import pytest
from botocore.exceptions import ClientError

from tests.web.s3.answers import error_code


@pytest.fixture
def config(config):
    """The site under test, with spaces of one's own turned off."""
    return config.replace(spaces={"allow_user_spaces": False})


def test_create_bucket_is_refused_when_the_site_turns_spaces_of_ones_own_off(s3_site):
    s3_site.person("alice", "Finance")
    alice = s3_site.client("alice")
    with pytest.raises(ClientError) as refused:
        alice.create_bucket(Bucket="my-own-space")
    assert error_code(refused) == "AccessDenied"
    with pytest.raises(ClientError) as existing:
        alice.create_bucket(Bucket="finance")
    assert error_code(existing) == "BucketAlreadyOwnedByYou"
    listed = [b["Name"] for b in alice.list_buckets()["Buckets"]]
    assert "finance" in listed
    assert "my-own-space" not in listed
