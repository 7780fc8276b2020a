"""Spaces of one's own through S3: the setting that allows them, the quota they count against,
and paging through unfinished uploads."""

import pytest
from botocore.exceptions import ClientError

from gshare.core.models import Space, User
from gshare.org import spaces
from tests.web.s3.answers import error_code

KiB = 1024


@pytest.fixture
def people(s3_site):
    s3_site.person("alice", "Finance")
    return s3_site


def _personal_quota(site, username: str, quota: int | None) -> None:
    def set_quota(w):
        user = w.ctx.db.get(User, site.people[username].user.id)
        spaces.personal_space(w.ctx, user).quota_bytes = quota

    site.run(set_quota)


def _used(site, slug: str) -> int:
    return site.run(lambda w: w.ctx.db.query(Space).filter_by(slug=slug).one().used_bytes)


def test_bytes_in_a_bucket_of_ones_own_count_against_ones_personal_quota(people):
    alice = people.client("alice")
    _personal_quota(people, "alice", 10 * KiB)
    alice.create_bucket(Bucket="committee-2026")
    alice.put_object(Bucket="committee-2026", Key="minutes.txt", Body=b"m" * 8 * KiB)
    personal = people.run(
        lambda w: (
            spaces.personal_space(w.ctx, w.ctx.db.get(User, people.people["alice"].user.id)).slug
        )
    )
    assert _used(people, "committee-2026") == _used(people, personal) == 8 * KiB
    with pytest.raises(ClientError) as full:
        alice.put_object(Bucket="committee-2026", Key="more.txt", Body=b"m" * 4 * KiB)
    assert error_code(full) == "QuotaExceeded"
    alice.delete_object(
        Bucket="committee-2026",
        Key="minutes.txt",
        VersionId=alice.head_object(Bucket="committee-2026", Key="minutes.txt")["VersionId"],
    )
    assert _used(people, "committee-2026") == _used(people, personal) == 0


def test_list_multipart_uploads_comes_in_pages(people):
    alice = people.client("alice")
    started = [
        alice.create_multipart_upload(Bucket="finance", Key=key)["UploadId"]
        for key in ("b.bin", "a.bin", "c/d.bin", "a.bin")
    ]
    seen, markers = [], {}
    while True:
        page = alice.list_multipart_uploads(Bucket="finance", MaxUploads=2, **markers)
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert [key for key, _ in seen] == ["a.bin", "a.bin", "b.bin", "c/d.bin"]
    assert sorted(upload for _, upload in seen) == sorted(started)
    only_c = alice.list_multipart_uploads(Bucket="finance", Prefix="c/")
    assert [u["Key"] for u in only_c["Uploads"]] == ["c/d.bin"]
