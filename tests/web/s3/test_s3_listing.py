"""Listings as S3 clients read them: max-keys=0, who owns each object, allow-unordered, and
ListBuckets a page at a time."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.web.s3.answers import error_code


@pytest.fixture
def site(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site


def with_query(client, operation: str, query: str):
    """Make every later call of an operation send extra query parameters (signed with it)."""

    def add(request, **_):
        request.url += ("&" if "?" in request.url else "?") + query

    client.meta.events.register(f"before-sign.s3.{operation}", add)
    return client


def test_max_keys_zero_lists_nothing_and_is_not_truncated(site):
    alice = site.client("alice")
    alice.put_object(Bucket="finance", Key="a.txt", Body=b"a")
    assert [o["Key"] for o in alice.list_objects_v2(Bucket="finance")["Contents"]] == ["a.txt"]

    v2 = alice.list_objects_v2(Bucket="finance", MaxKeys=0)
    assert (v2["KeyCount"], v2["MaxKeys"], v2["IsTruncated"]) == (0, 0, False)
    assert "Contents" not in v2 and "NextContinuationToken" not in v2
    v1 = alice.list_objects(Bucket="finance", MaxKeys=0)
    assert (v1["MaxKeys"], v1["IsTruncated"], "Contents" in v1) == (0, False, False)
    versions = alice.list_object_versions(Bucket="finance", MaxKeys=0)
    assert (versions["IsTruncated"], "Versions" in versions) == (False, False)


def test_listings_give_each_objects_uploader_as_its_owner(site):
    site.person("bob", "Health")
    site.share("alice", "finance", "bob", "editor")
    site.client("bob").put_object(Bucket="finance", Key="from-bob.txt", Body=b"b")
    alice = site.client("alice")
    alice.put_object(Bucket="finance", Key="from-alice.txt", Body=b"a")
    bob = site.people["bob"].user

    v2 = alice.list_objects_v2(Bucket="finance", FetchOwner=True)["Contents"]
    owners = {o["Key"]: o["Owner"] for o in v2}
    assert owners["from-bob.txt"] == {"ID": "bob", "DisplayName": bob.display_name}
    assert owners["from-alice.txt"]["ID"] == "alice"
    v1 = alice.list_objects(Bucket="finance")["Contents"]
    assert {o["Key"]: o["Owner"]["ID"] for o in v1} == {
        "from-alice.txt": "alice",
        "from-bob.txt": "bob",
    }
    versions = alice.list_object_versions(Bucket="finance")["Versions"]
    assert {v["Key"]: v["Owner"]["ID"] for v in versions}["from-bob.txt"] == "bob"
    plain = alice.list_objects_v2(Bucket="finance")["Contents"]
    assert all("Owner" not in o for o in plain)  # V2 names owners only with fetch-owner


def test_allow_unordered_is_accepted_and_lists_in_order(site):
    alice = site.client("alice")
    for key in ("b.txt", "a.txt"):
        alice.put_object(Bucket="finance", Key=key, Body=b"x")
    with_query(alice, "ListObjectsV2", "allow-unordered=true")
    listed = alice.list_objects_v2(Bucket="finance")
    assert [o["Key"] for o in listed["Contents"]] == ["a.txt", "b.txt"]


def test_list_buckets_comes_in_pages_by_prefix(site):
    alice = site.client("alice")
    made = [f"project-{n}" for n in range(5)]
    for name in made:
        alice.create_bucket(Bucket=name)
    everything = [b["Name"] for b in alice.list_buckets()["Buckets"]]
    assert set(made) < set(everything) and "finance" in everything

    seen, token = [], {}
    while True:
        page = alice.list_buckets(MaxBuckets=2, Prefix="project-", **token)
        assert len(page["Buckets"]) <= 2 and page["Prefix"] == "project-"
        seen += [b["Name"] for b in page["Buckets"]]
        if "ContinuationToken" not in page:
            break
        token = {"ContinuationToken": page["ContinuationToken"]}
    assert seen == made
    pages = alice.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": 3})
    assert [b["Name"] for p in pages for b in p["Buckets"]] == everything


def test_list_buckets_names_the_region_signed_for(site):
    alice = site.client("alice")
    listed = alice.list_buckets(BucketRegion="us-east-1")["Buckets"]
    assert {b["BucketRegion"] for b in listed} == {"us-east-1"}
    assert "finance" in [b["Name"] for b in listed]
    assert alice.list_buckets(BucketRegion="eu-west-1")["Buckets"] == []


@pytest.mark.parametrize(
    "query",
    ["max-buckets=0", "max-buckets=10001", "max-buckets=many", "continuation-token=%25%25"],
)
def test_list_buckets_refuses_a_bad_page_request(site, query):
    alice = with_query(site.client("alice"), "ListBuckets", query)
    with pytest.raises(ClientError) as refused:
        alice.list_buckets()
    assert error_code(refused) == "InvalidArgument"
