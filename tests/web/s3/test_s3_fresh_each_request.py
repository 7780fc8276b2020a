"""Each S3 request sees the rights of that moment: what a request looks up once (the key's
owner, their departments, grants and the bucket's space) is never carried to the next one."""

import pytest
from botocore.exceptions import ClientError

from gshare.accounts import access_keys
from gshare.cli.people import find_node
from gshare.core.actor import OPERATOR
from gshare.core.models import Grant, User
from gshare.org import users
from gshare.sharing import grants
from tests.web.s3.answers import error_code
from tests.web.s3.conftest import Person

KEY = "shared/minutes.txt"


@pytest.fixture
def alice(s3_site):
    s3_site.person("alice", "Finance")
    client = s3_site.client("alice")
    client.put_object(Bucket="finance", Key=KEY, Body=b"minutes of the meeting")
    return client


@pytest.fixture
def sara(s3_site):
    """Sara works in a division two levels below the ministry; she has a key."""

    def make(w):
        ministry = w.department("Ministry of Planning")
        division = w.department("Statistics Division", w.department("Census Dept", ministry))
        user = w.user("sara", division)
        new = access_keys.create_key(w.ctx, OPERATOR, user, "test")
        return Person(user, new.key.key_id, new.secret)

    s3_site.people["sara"] = s3_site.run(make)
    return s3_site.client("sara")


def _grant_to_ministry(s3_site) -> None:
    def grant(w):
        ministry = w.department("Ministry of Planning")
        node = find_node(w.ctx, "finance/shared")
        grants.grant_role(
            w.ctx, OPERATOR, node.id, "viewer", department=ministry, include_subdepartments=True
        )

    s3_site.run(grant)


def _revoke_all(s3_site) -> None:
    def revoke(w):
        for grant in w.ctx.db.query(Grant).all():
            grants.revoke_grant(w.ctx, OPERATOR, grant.id)

    s3_site.run(revoke)


def test_a_ministry_grant_reaches_a_division_below_and_its_revocation_the_next_request(
    s3_site, alice, sara
):
    _grant_to_ministry(s3_site)
    assert sara.head_object(Bucket="finance", Key=KEY)["ContentLength"] == 22
    assert sara.get_object(Bucket="finance", Key=KEY)["Body"].read() == b"minutes of the meeting"
    listed = sara.list_objects_v2(Bucket="finance", Prefix="shared/")
    assert [o["Key"] for o in listed["Contents"]] == [KEY]

    _revoke_all(s3_site)
    for call in (sara.head_object, sara.get_object):
        with pytest.raises(ClientError) as refused:
            call(Bucket="finance", Key=KEY)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as refused:
        sara.list_objects_v2(Bucket="finance", Prefix="shared/")
    assert error_code(refused) == "NoSuchBucket"
    assert alice.head_object(Bucket="finance", Key=KEY)["ContentLength"] == 22  # still hers


def test_a_person_disabled_between_two_requests_is_refused_at_once(s3_site, alice):
    assert alice.head_object(Bucket="finance", Key=KEY)["ContentLength"] == 22

    def disable(w):
        user = w.ctx.db.get(User, s3_site.people["alice"].user.id)
        users.set_disabled(w.ctx, OPERATOR, user, True)

    s3_site.run(disable)
    with pytest.raises(ClientError) as refused:
        alice.list_objects_v2(Bucket="finance")
    assert error_code(refused) == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as refused:
        alice.put_object(Bucket="finance", Key="shared/after.txt", Body=b"too late")
    assert error_code(refused) == "InvalidAccessKeyId"
