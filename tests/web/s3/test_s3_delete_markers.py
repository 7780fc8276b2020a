"""A file in the trash is a delete marker to S3 clients: listed over its versions, answered
as S3 answers for one, and deleting the marker brings the file back (boto3, aws cli, rclone)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import select

from gshare.cli.people import find_node
from gshare.core.models import AuditEvent, Node, ScanState, Space, User, Version
from gshare.files import trash
from tests.helpers import eventually
from tests.web.s3.test_s3_sync_tools import Tool

BUCKET = "finance"


@pytest.fixture
def people(s3_site):
    s3_site.person("alice", "Finance")
    s3_site.person("carol", "Health")
    return s3_site


def error_of(raised) -> tuple[str, int, dict]:
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["ResponseMetadata"]["HTTPHeaders"],
    )


def versions(client, **options) -> tuple[list[tuple], list[tuple]]:
    """Return (versions, delete markers) as (key, version id, is latest) in listing order."""
    listed = client.list_object_versions(Bucket=BUCKET, **options)
    return (
        [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed.get("Versions", [])],
        [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed.get("DeleteMarkers", [])],
    )


def all_entries(client, page_size: int, **options) -> list[tuple]:
    """Page through ListObjectVersions; return (kind, key, version id) in the order served.

    boto3 splits a page into Versions, DeleteMarkers and CommonPrefixes; they are merged back
    by key, a marker before the versions of its key (true where no new file took the key).
    """
    pages = client.get_paginator("list_object_versions").paginate(
        Bucket=BUCKET, PaginationConfig={"PageSize": page_size}, **options
    )
    entries = []
    for page in pages:
        rows = [
            (m["Key"], 0, i, "d", m["VersionId"])
            for i, m in enumerate(page.get("DeleteMarkers", []))
        ]
        rows += [
            (v["Key"], 1, i, "v", v["VersionId"]) for i, v in enumerate(page.get("Versions", []))
        ]
        rows += [
            (p["Prefix"], 0, i, "p", None) for i, p in enumerate(page.get("CommonPrefixes", []))
        ]
        rows.sort(key=lambda row: (row[0].encode(), row[1], row[2]))
        entries += [(kind, key, version) for key, _, _, kind, version in rows]
    return entries


def test_deleted_file_lists_as_delete_marker_above_its_versions(people):
    alice = people.client("alice")
    first = alice.put_object(Bucket=BUCKET, Key="plan.txt", Body=b"one")["VersionId"]
    second = alice.put_object(Bucket=BUCKET, Key="plan.txt", Body=b"two")["VersionId"]
    alice.put_object(Bucket=BUCKET, Key="stays.txt", Body=b"here")
    deleted = alice.delete_object(Bucket=BUCKET, Key="plan.txt")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker.startswith("d") and not marker.isdigit()

    listed = alice.list_object_versions(Bucket=BUCKET)
    (entry,) = listed["DeleteMarkers"]
    assert (entry["Key"], entry["VersionId"], entry["IsLatest"]) == ("plan.txt", marker, True)
    assert entry["Owner"]["ID"] == "alice"
    old = {v["VersionId"]: v for v in listed["Versions"]}
    assert entry["LastModified"] >= old[second]["LastModified"]
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        ("plan.txt", second, False),
        ("plan.txt", first, False),
        ("stays.txt", listed["Versions"][2]["VersionId"], True),
    ]
    assert [o["Key"] for o in alice.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["stays.txt"]


def test_reading_a_deleted_key_answers_as_s3_does_for_a_delete_marker(people):
    alice = people.client("alice")
    first = alice.put_object(Bucket=BUCKET, Key="a/gone.txt", Body=b"old bytes")["VersionId"]
    marker = alice.delete_object(Bucket=BUCKET, Key="a/gone.txt")["VersionId"]

    for read in (alice.get_object, alice.head_object):
        with pytest.raises(ClientError) as missing:
            read(Bucket=BUCKET, Key="a/gone.txt")
        code, status, headers = error_of(missing)
        assert status == 404 and code in ("NoSuchKey", "404")
        assert headers["x-amz-delete-marker"] == "true"
        assert headers["x-amz-version-id"] == marker
        with pytest.raises(ClientError) as named:
            read(Bucket=BUCKET, Key="a/gone.txt", VersionId=marker)
        code, status, headers = error_of(named)
        assert status == 405 and code in ("MethodNotAllowed", "405")
        assert headers["x-amz-delete-marker"] == "true" and headers["allow"] == "DELETE"

    kept = alice.get_object(Bucket=BUCKET, Key="a/gone.txt", VersionId=first)
    assert kept["Body"].read() == b"old bytes"
    with pytest.raises(ClientError) as unknown:
        alice.get_object(Bucket=BUCKET, Key="a/gone.txt", VersionId=f"{marker}9")
    assert error_of(unknown)[:2] == ("NoSuchKey", 404)


def test_deleting_the_delete_marker_restores_the_file(people):
    alice = people.client("alice")
    alice.put_object(Bucket=BUCKET, Key="report.txt", Body=b"keep me")
    marker = alice.delete_object(Bucket=BUCKET, Key="report.txt")["VersionId"]
    again = alice.delete_object(Bucket=BUCKET, Key="report.txt")  # nothing left to delete
    assert "DeleteMarker" not in again

    undeleted = alice.delete_object(Bucket=BUCKET, Key="report.txt", VersionId=marker)
    assert undeleted["DeleteMarker"] is True and undeleted["VersionId"] == marker
    assert alice.get_object(Bucket=BUCKET, Key="report.txt")["Body"].read() == b"keep me"
    listed, markers = versions(alice)
    assert markers == [] and [(k, latest) for k, _, latest in listed] == [("report.txt", True)]

    second = alice.delete_object(Bucket=BUCKET, Key="report.txt")["VersionId"]
    assert second != marker  # each deletion is a marker of its own
    gone = alice.delete_object(Bucket=BUCKET, Key="report.txt", VersionId=marker)
    assert "DeleteMarker" not in gone  # the first marker is gone with its deletion
    assert versions(alice)[1] == [("report.txt", second, True)]


def test_delete_objects_restores_by_marker_and_reports_new_markers(people):
    alice = people.client("alice")
    for key in ("x.txt", "y.txt"):
        alice.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    made = alice.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "x.txt"}, {"Key": "y.txt"}]}
    )
    markers = {d["Key"]: d["DeleteMarkerVersionId"] for d in made["Deleted"]}
    assert all(d["DeleteMarker"] for d in made["Deleted"]) and len(set(markers.values())) == 2
    back = alice.delete_objects(
        Bucket=BUCKET,
        Delete={"Objects": [{"Key": key, "VersionId": marker} for key, marker in markers.items()]},
    )
    assert not back.get("Errors")
    assert sorted(o["Key"] for o in alice.list_objects_v2(Bucket=BUCKET)["Contents"]) == [
        "x.txt",
        "y.txt",
    ]


def test_only_an_editor_may_restore_and_only_what_they_see_is_listed(people):
    alice, carol = people.client("alice"), people.client("carol")
    alice.put_object(Bucket=BUCKET, Key="shared/a.txt", Body=b"a")
    alice.put_object(Bucket=BUCKET, Key="private/b.txt", Body=b"b")
    people.share("alice", "finance/shared", "carol")
    shared = alice.delete_object(Bucket=BUCKET, Key="shared/a.txt")["VersionId"]
    alice.delete_object(Bucket=BUCKET, Key="private/b.txt")

    assert versions(carol)[1] == [("shared/a.txt", shared, True)]
    assert [k for k, _, _ in versions(alice)[1]] == ["private/b.txt", "shared/a.txt"]
    with pytest.raises(ClientError) as refused:
        carol.delete_object(Bucket=BUCKET, Key="shared/a.txt", VersionId=shared)
    assert error_of(refused)[0] == "AccessDenied"
    with pytest.raises(ClientError) as hidden:
        carol.head_object(Bucket=BUCKET, Key="private/b.txt")
    assert "x-amz-delete-marker" not in error_of(hidden)[2]
    assert error_of(hidden)[1] == 404
    with pytest.raises(ClientError) as seen:  # the same HEAD by alice finds her marker
        alice.head_object(Bucket=BUCKET, Key="private/b.txt")
    assert error_of(seen)[1] == 404 and error_of(seen)[2]["x-amz-delete-marker"] == "true"
    alice.delete_object(Bucket=BUCKET, Key="shared/a.txt", VersionId=shared)  # an editor may
    assert carol.get_object(Bucket=BUCKET, Key="shared/a.txt")["Body"].read() == b"a"


def test_deleted_pending_upload_is_a_marker_to_its_uploader_only(people):
    alice, carol = people.client("alice"), people.client("carol")
    people.share("alice", "finance", "carol")
    alice.put_object(Bucket=BUCKET, Key="wait.txt", Body=b"not scanned yet")
    people.run(lambda w: setattr(w.ctx.db.query(Version).one(), "scan_state", ScanState.PENDING))
    marker = alice.delete_object(Bucket=BUCKET, Key="wait.txt")["VersionId"]
    assert versions(alice)[1] == [("wait.txt", marker, True)]
    assert versions(carol) == ([], [])
    with pytest.raises(ClientError) as hidden:
        carol.get_object(Bucket=BUCKET, Key="wait.txt", VersionId=marker)
    assert error_of(hidden)[:2] == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as known:  # the same GET by alice finds the marker
        alice.get_object(Bucket=BUCKET, Key="wait.txt", VersionId=marker)
    assert error_of(known)[:2] == ("MethodNotAllowed", 405)


def test_new_file_at_a_deleted_key_is_latest_and_the_old_one_comes_back_beside_it(people):
    alice = people.client("alice")
    old = alice.put_object(Bucket=BUCKET, Key="memo.txt", Body=b"old")["VersionId"]
    marker = alice.delete_object(Bucket=BUCKET, Key="memo.txt")["VersionId"]
    new = alice.put_object(Bucket=BUCKET, Key="memo.txt", Body=b"new")["VersionId"]
    assert versions(alice) == (
        [("memo.txt", new, True), ("memo.txt", old, False)],
        [("memo.txt", marker, False)],
    )
    assert alice.get_object(Bucket=BUCKET, Key="memo.txt")["Body"].read() == b"new"
    assert alice.get_object(Bucket=BUCKET, Key="memo.txt", VersionId=old)["Body"].read() == (b"old")
    alice.delete_object(Bucket=BUCKET, Key="memo.txt", VersionId=marker)
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["memo (2).txt", "memo.txt"]


def test_files_of_a_deleted_folder_are_markers_and_come_back_with_it(people):
    alice = people.client("alice")
    for key in ("box/in/one.txt", "box/two.txt", "other.txt"):
        alice.put_object(Bucket=BUCKET, Key=key, Body=key.encode())

    def delete_folder(w):
        user = w.ctx.db.query(User).filter_by(username="alice").one()
        trash.delete_node(w.ctx, user, find_node(w.ctx, "finance/box").id)

    people.run(delete_folder)

    _, markers = versions(alice)
    assert [(k, latest) for k, _, latest in markers] == [
        ("box/in/one.txt", True),
        ("box/two.txt", True),
    ]
    _, folded = versions(alice, Delimiter="/")
    assert folded == []
    prefixes = alice.list_object_versions(Bucket=BUCKET, Delimiter="/")["CommonPrefixes"]
    assert [p["Prefix"] for p in prefixes] == ["box/"]
    alice.delete_object(Bucket=BUCKET, Key="box/in/one.txt", VersionId=markers[0][1])
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["box/in/one.txt", "box/two.txt", "other.txt"]


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_version_listing_pages_through_markers_in_byte_order(people, page_size):
    alice = people.client("alice")
    keys = ["B.txt", "a.txt", "d/x.txt", "d/y.txt", "é.txt", "ລາວ.txt", "ä.txt"]
    for key in keys:
        alice.put_object(Bucket=BUCKET, Key=key, Body=b"1")
        alice.put_object(Bucket=BUCKET, Key=key, Body=b"2")
    for key in ("a.txt", "d/x.txt", "ລາວ.txt"):
        alice.delete_object(Bucket=BUCKET, Key=key)

    listed = alice.list_object_versions(Bucket=BUCKET)
    for part in ("Versions", "DeleteMarkers"):
        served = [entry["Key"] for entry in listed[part]]
        assert served == sorted(served, key=str.encode)
    whole = all_entries(alice, 1000)
    assert [kind for kind, key, _ in whole if key == "a.txt"] == ["d", "v", "v"]
    assert len(whole) == 2 * len(keys) + 3
    assert all_entries(alice, page_size) == whole
    outside = [entry for entry in whole if not entry[1].startswith("d/")]
    expected = sorted([*outside, ("p", "d/", None)], key=lambda entry: entry[1].encode())
    assert all_entries(alice, page_size, Delimiter="/") == expected


@pytest.mark.slow  # the real aws cli
def test_aws_cli_lists_delete_markers_and_undeletes(people, tmp_path):
    alice = people.client("alice")
    alice.put_object(Bucket=BUCKET, Key="ເອກະສານ/ບົດລາຍງານ.txt", Body=b"lao")
    aws = Tool("aws", people, people.people["alice"], tmp_path)

    def s3api(*args) -> dict:
        done = subprocess.run(
            [aws.program, "--endpoint-url", people.url, "s3api", *args, "--output", "json"],
            env=aws.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout or "{}")

    deleted = s3api("delete-object", "--bucket", BUCKET, "--key", "ເອກະສານ/ບົດລາຍງານ.txt")
    assert deleted["DeleteMarker"] is True
    listed = s3api("list-object-versions", "--bucket", BUCKET)
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        ("ເອກະສານ/ບົດລາຍງານ.txt", deleted["VersionId"], True)
    ]
    assert [(v["Key"], v["IsLatest"]) for v in listed["Versions"]] == [
        ("ເອກະສານ/", True),
        ("ເອກະສານ/ບົດລາຍງານ.txt", False),
    ]  # the folder, empty now
    s3api(
        "delete-object",
        "--bucket",
        BUCKET,
        "--key",
        "ເອກະສານ/ບົດລາຍງານ.txt",
        "--version-id",
        deleted["VersionId"],
    )
    listed = s3api("list-object-versions", "--bucket", BUCKET)
    assert "DeleteMarkers" not in listed and [v["IsLatest"] for v in listed["Versions"]] == [True]


@pytest.mark.slow  # the real rclone
def test_rclone_versions_tell_a_deleted_file_from_a_live_one(people, tmp_path):
    alice = people.client("alice")
    alice.put_object(Bucket=BUCKET, Key="docs/live.txt", Body=b"live")
    alice.put_object(Bucket=BUCKET, Key="docs/gone.txt", Body=b"was here")
    # --s3-version-at takes whole seconds: the first whole second after both files were
    # stored, and the delete marker strictly after it (waiting at most for the clock to tick).
    stored = max(v["LastModified"] for v in alice.list_object_versions(Bucket=BUCKET)["Versions"])
    before_delete = stored.replace(microsecond=0) + timedelta(seconds=1)
    eventually(lambda: datetime.now(UTC) > before_delete, what=f"the clock to pass {before_delete}")
    alice.delete_object(Bucket=BUCKET, Key="docs/gone.txt")
    marker = alice.list_object_versions(Bucket=BUCKET)["DeleteMarkers"][0]
    assert stored <= before_delete < marker["LastModified"]
    before_delete = before_delete.strftime("%Y-%m-%dT%H:%M:%SZ")
    rclone = Tool("rclone", people, people.people["alice"], tmp_path)

    def run(*args) -> str:
        done = subprocess.run(
            [rclone.program, *args, "--retries", "1", "--low-level-retries", "1"],
            env=rclone.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def names(*args) -> set[str]:
        return {line.split(maxsplit=1)[1] for line in run("ls", *args).splitlines()}

    assert names("gs:finance/docs") == {"live.txt"}
    with_versions = names("--s3-versions", "gs:finance/docs")
    assert "live.txt" in with_versions and "gone.txt" not in with_versions
    assert any(n.startswith("gone-v") and n.endswith(".txt") for n in with_versions)
    assert names("--s3-version-at", before_delete, "gs:finance/docs") == {"live.txt", "gone.txt"}
    run("copy", "--s3-version-at", before_delete, "gs:finance/docs", str(tmp_path / "then"))
    assert (tmp_path / "then" / "gone.txt").read_bytes() == b"was here"  # got by its versionId


def trashed_names(site, who: str = "alice") -> list[str]:
    def names(w):
        actor = w.ctx.db.get(User, site.people[who].user.id)
        space_id = find_node(w.ctx, BUCKET).space_id
        return sorted(n.name for n in trash.list_trash(w.ctx, actor, space_id))

    return site.run(names)


def test_versions_of_a_deleted_file_can_be_deleted_for_good(people):
    alice = people.client("alice")
    first = alice.put_object(Bucket=BUCKET, Key="memo.txt", Body=b"one")["VersionId"]
    second = alice.put_object(Bucket=BUCKET, Key="memo.txt", Body=b"two")["VersionId"]
    marker = alice.delete_object(Bucket=BUCKET, Key="memo.txt")["VersionId"]

    alice.delete_object(Bucket=BUCKET, Key="memo.txt", VersionId=first)
    assert versions(alice) == ([("memo.txt", second, False)], [("memo.txt", marker, True)])
    with pytest.raises(ClientError) as gone:
        alice.get_object(Bucket=BUCKET, Key="memo.txt", VersionId=first)
    assert error_of(gone)[1] == 404
    assert trashed_names(people) == ["memo.txt"]

    alice.delete_object(Bucket=BUCKET, Key="memo.txt", VersionId=second)
    assert versions(alice) == ([], [])  # nothing is left of it, not even in the trash
    assert trashed_names(people) == []


def test_a_viewer_may_not_delete_a_version_of_a_deleted_file(people):
    alice = people.client("alice")
    kept = alice.put_object(Bucket=BUCKET, Key="kept.txt", Body=b"keep")["VersionId"]
    alice.delete_object(Bucket=BUCKET, Key="kept.txt")
    people.share("alice", "finance", "carol", "viewer")
    with pytest.raises(ClientError) as refused:
        people.client("carol").delete_object(Bucket=BUCKET, Key="kept.txt", VersionId=kept)
    assert error_of(refused)[:2] == ("AccessDenied", 403)
    assert trashed_names(people) == ["kept.txt"]
    alice.delete_object(Bucket=BUCKET, Key="kept.txt", VersionId=kept)  # its editor may
    assert trashed_names(people) == []


def test_a_copy_from_a_delete_marker_is_refused_as_s3_refuses_it(people):
    alice = people.client("alice")
    alice.put_object(Bucket=BUCKET, Key="gone.txt", Body=b"old text")
    source = {"Bucket": BUCKET, "Key": "gone.txt"}
    alice.copy_object(Bucket=BUCKET, Key="earlier.txt", CopySource=source)  # before the delete
    assert alice.get_object(Bucket=BUCKET, Key="earlier.txt")["Body"].read() == b"old text"
    marker = alice.delete_object(Bucket=BUCKET, Key="gone.txt")["VersionId"]
    with pytest.raises(ClientError) as by_marker:
        alice.copy_object(
            Bucket=BUCKET,
            Key="copy.txt",
            CopySource={"Bucket": BUCKET, "Key": "gone.txt", "VersionId": marker},
        )
    code, status, _ = error_of(by_marker)
    assert (code, status) == ("InvalidRequest", 400)
    assert "delete marker" in by_marker.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as by_key:
        alice.copy_object(
            Bucket=BUCKET, Key="copy.txt", CopySource={"Bucket": BUCKET, "Key": "gone.txt"}
        )
    assert error_of(by_key)[:2] == ("NoSuchKey", 404)
    assert versions(alice, Prefix="copy.txt") == ([], [])


def test_deleting_the_only_version_by_id_leaves_nothing_and_the_space_can_go(people):
    """S3: a version deleted by id is gone. gshare purges the file left with no version: no
    delete marker, nothing in the web trash, its bytes and quota given back, the purge in the
    audit log; so the space is empty and can be deleted."""
    alice = people.client("alice")
    alice.create_bucket(Bucket="minutes-2026")
    put = alice.put_object(Bucket="minutes-2026", Key="a.txt", Body=b"draft minutes")
    listed = alice.list_object_versions(Bucket="minutes-2026")
    assert [v["VersionId"] for v in listed["Versions"]] == [put["VersionId"]]
    used, blobs, trashed = space_state(people, "minutes-2026")
    assert (used, len(blobs), trashed) == (13, 1, [])
    assert stored(people, blobs) == blobs

    alice.delete_object(Bucket="minutes-2026", Key="a.txt", VersionId=put["VersionId"])

    listed = alice.list_object_versions(Bucket="minutes-2026")
    assert "Versions" not in listed and "DeleteMarkers" not in listed
    with pytest.raises(ClientError) as gone:
        alice.head_object(Bucket="minutes-2026", Key="a.txt")
    assert error_of(gone)[1] == 404
    assert space_state(people, "minutes-2026") == (0, [], [])
    assert stored(people, blobs) == []
    assert audited(people, "file.delete_version", "node.purge") == [
        ("file.delete_version", "a.txt"),
        ("node.purge", "a.txt"),
    ]
    alice.delete_bucket(Bucket="minutes-2026")
    assert "minutes-2026" not in [b["Name"] for b in alice.list_buckets()["Buckets"]]


def test_deleting_the_last_version_of_a_file_others_still_upload_to_keeps_theirs(people):
    """A version by id deletes only that version: a pending version of someone else keeps
    the file (its uploader still sees it), as before."""
    alice = people.client("alice")
    people.share("alice", "finance", "carol", "editor")
    carol = people.client("carol")
    mine = alice.put_object(Bucket=BUCKET, Key="shared.txt", Body=b"alice's")["VersionId"]
    theirs = carol.put_object(Bucket=BUCKET, Key="shared.txt", Body=b"carol's")["VersionId"]
    alice.delete_object(Bucket=BUCKET, Key="shared.txt", VersionId=theirs)
    alice.delete_object(Bucket=BUCKET, Key="shared.txt", VersionId=mine)
    assert versions(alice) == ([], [])
    assert trashed_names(people) == []


def space_state(site, slug: str) -> tuple[int, list[str], list[str]]:
    """Return a space's used bytes, its versions' blob keys, and the names in its trash as
    its owner sees it."""

    def state(w):
        space = w.ctx.db.scalar(select(Space).where(Space.slug == slug))
        keys = list(
            w.ctx.db.scalars(select(Version.blob_key).join(Node).where(Node.space_id == space.id))
        )
        owner = w.ctx.db.get(User, site.people["alice"].user.id)
        trashed = [n.name for n in trash.list_trash(w.ctx, owner, space.id)]
        return space.used_bytes, keys, trashed

    return site.run(state)


def stored(site, keys: list[str]) -> list[str]:
    """Return those of the blob keys that are in the object store."""
    present = {blob.key for blob in site.gs.store.list("v/")}
    return [key for key in keys if key in present]


def audited(site, *actions: str) -> list[tuple[str, str]]:
    def rows(w):
        events = w.ctx.db.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
        )
        return [(e.action, e.target.rpartition("/")[2]) for e in events]

    return site.run(rows)
