"""ACLs and versioning as S3 clients ask for them: gshare answers what is true (the owner has
full control, every space keeps versions) and refuses what only its sharing does."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.web.s3.answers import error_code


@pytest.fixture
def site(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site


def _full_control(acl: dict, username: str) -> bool:
    grants = [(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]]
    return acl["Owner"]["ID"] == username and grants == [(username, "FULL_CONTROL")]


def test_bucket_and_object_acls_answer_the_owner_with_full_control(site):
    site.person("bob", "Health")
    site.share("alice", "finance", "bob", "editor")
    site.client("bob").put_object(Bucket="finance", Key="from-bob.txt", Body=b"b")
    alice = site.client("alice")
    assert _full_control(alice.get_bucket_acl(Bucket="finance"), "alice")
    assert _full_control(alice.get_object_acl(Bucket="finance", Key="from-bob.txt"), "bob")
    with pytest.raises(ClientError) as missing:
        alice.get_object_acl(Bucket="finance", Key="nothing.txt")
    assert error_code(missing) == "NoSuchKey"


def test_a_canned_private_acl_is_accepted_as_it_already_holds(site):
    alice = site.client("alice")
    alice.put_object(Bucket="finance", Key="a.txt", Body=b"a")
    alice.put_bucket_acl(Bucket="finance", ACL="private")
    alice.put_object_acl(Bucket="finance", Key="a.txt", ACL="private")
    mine = alice.get_object_acl(Bucket="finance", Key="a.txt")
    policy = {"Owner": mine["Owner"], "Grants": mine["Grants"]}
    alice.put_object_acl(Bucket="finance", Key="a.txt", AccessControlPolicy=policy)
    assert _full_control(alice.get_object_acl(Bucket="finance", Key="a.txt"), "alice")


@pytest.mark.parametrize(
    "change",
    [
        {"ACL": "public-read"},
        {"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'},
        {
            "AccessControlPolicy": {
                "Owner": {"ID": "alice"},
                "Grants": [
                    {
                        "Grantee": {"Type": "CanonicalUser", "ID": "alice"},
                        "Permission": "FULL_CONTROL",
                    },
                    {"Grantee": {"Type": "CanonicalUser", "ID": "carol"}, "Permission": "READ"},
                ],
            }
        },
    ],
)
def test_any_other_acl_is_refused_pointing_to_sharing(site, change):
    alice = site.client("alice")
    alice.put_object(Bucket="finance", Key="a.txt", Body=b"a")
    for call in (
        lambda: alice.put_object_acl(Bucket="finance", Key="a.txt", **change),
        lambda: alice.put_bucket_acl(Bucket="finance", **change),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_code(refused) == "NotImplemented"
        assert "Share" in refused.value.response["Error"]["Message"]
    assert _full_control(alice.get_object_acl(Bucket="finance", Key="a.txt"), "alice")


def test_enabling_versioning_is_accepted_and_suspending_it_is_refused(site):
    alice = site.client("alice")
    alice.put_bucket_versioning(Bucket="finance", VersioningConfiguration={"Status": "Enabled"})
    assert alice.get_bucket_versioning(Bucket="finance")["Status"] == "Enabled"
    with pytest.raises(ClientError) as refused:
        alice.put_bucket_versioning(
            Bucket="finance", VersioningConfiguration={"Status": "Suspended"}
        )
    assert error_code(refused) == "InvalidBucketState"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert alice.get_bucket_versioning(Bucket="finance")["Status"] == "Enabled"
    with pytest.raises(ClientError) as other:
        alice.put_bucket_versioning(Bucket="finance", VersioningConfiguration={"Status": "On"})
    assert error_code(other) == "MalformedXML"
    with pytest.raises(ClientError) as nobody:
        alice.put_bucket_versioning(Bucket="nowhere", VersioningConfiguration={"Status": "Enabled"})
    assert error_code(nobody) == "NoSuchBucket"
