"""Uploading and downloading files through the services, on a real S3 server."""

import hashlib
import io
import unicodedata

import pytest
from sqlalchemy import inspect

from gshare.core.errors import NameInvalid, NameTaken, NotFound, Quarantined, RangeNotSatisfiable
from gshare.core.models import Node, ScanState, User, Version
from gshare.files import content
from tests.fixtures.world import mark_scanned


def read_all(download) -> bytes:
    with download.stream as stream:
        return b"".join(stream)


def test_uploaded_file_downloads_with_the_same_bytes_and_hashes(ctx, world):
    alice = world.user("alice")
    data = b"budget 2026\n" * 1000
    version = world.upload(alice, world.home(alice), "budget.txt", data)
    assert (version.size, version.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert version.md5 == hashlib.md5(data).hexdigest()
    assert version.content_type == "text/plain"
    assert read_all(content.open_download(ctx, alice, version.node_id)) == data


def test_same_name_again_adds_a_version_and_keeps_the_old_one(ctx, world):
    alice = world.user("alice")
    first = world.upload(alice, world.home(alice), "plan.txt", b"one")
    second = world.upload(alice, world.home(alice), "plan.txt", b"two")
    assert second.node_id == first.node_id and second.number == 2
    history = content.list_versions(ctx, alice, first.node_id)
    assert [v.number for v in history] == [2, 1]
    assert read_all(content.open_download(ctx, alice, first.node_id, first.id)) == b"one"


def test_an_upload_returns_its_file_and_version_as_the_database_holds_them(gs, ctx, world):
    # The node and the version go in with Core INSERTs (core.db.insert_loaded): what the
    # upload hands back must be whole, defaults included, and be what another session reads.
    alice = world.user("alice")
    first = world.upload(alice, world.home(alice), "ລາຍງານ.txt", b"one", clean=False)
    second = content.upload_file(ctx, alice, world.home(alice), "ລາຍງານ.txt", io.BytesIO(b"two"), 3)
    for obj in (first, first.node, second):
        state = inspect(obj)
        assert state.persistent and not state.unloaded & _columns(obj).keys()  # none to load
    assert (second.node is first.node, second.number, second.scan_attempts) == (True, 2, 0)
    assert first.node.sort_key and first.node.updated_at >= first.node.created_at
    seen = {
        "node": _columns(first.node),
        "first": _columns(first),
        "second": _columns(second),
    }
    ctx.db.commit()
    with gs.sessions() as other:
        assert _columns(other.get(Node, first.node_id)) == seen["node"]
        assert _columns(other.get(Version, first.id)) == seen["first"]
        assert _columns(other.get(Version, second.id)) == seen["second"]
    assert seen["node"]["updated_at"] > seen["first"]["uploaded_at"]  # moved by the new version


def _columns(obj) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}


def test_restoring_an_old_version_makes_it_current_again(ctx, world):
    alice = world.user("alice")
    first = world.upload(alice, world.home(alice), "plan.txt", b"one")
    world.upload(alice, world.home(alice), "plan.txt", b"two")
    restored = content.restore_version(ctx, alice, first.node_id, first.id)
    assert restored.number == 3
    assert read_all(content.open_download(ctx, alice, first.node_id)) == b"one"


@pytest.mark.parametrize(
    "byte_range, expected",
    [
        ((0, 4), b"0123"),
        ((5, None), b"56789"),
        ((-3, None), b"789"),
        ((8, 100), b"89"),
    ],
)
def test_byte_ranges_return_just_those_bytes(ctx, world, byte_range, expected):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "digits.txt", b"0123456789")
    download = content.open_download(ctx, alice, version.node_id, byte_range=byte_range)
    assert read_all(download) == expected and download.partial


def test_range_past_the_end_is_refused(ctx, world):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "digits.txt", b"0123456789")
    with pytest.raises(RangeNotSatisfiable):
        content.open_download(ctx, alice, version.node_id, byte_range=(10, None))


@pytest.mark.parametrize(
    "requested, size, clip, expected",
    [
        (None, 10, True, (0, 9)),
        (None, 0, True, (0, 0)),
        ((2, 6), 10, True, (2, 5)),
        ((4, None), 10, True, (4, 9)),
        ((-6, None), 10, True, (4, 9)),
        ((-100, None), 10, True, (0, 9)),
        ((5, 101), 10, True, (5, 9)),
        ((9, 10), 10, True, (9, 9)),
        ((10, None), 10, True, RangeNotSatisfiable),
        ((0, None), 0, True, RangeNotSatisfiable),
        ((0, 10), 10, False, (0, 9)),
        ((0, 11), 10, False, RangeNotSatisfiable),
        ((10, 13), 10, False, RangeNotSatisfiable),
    ],
)
def test_a_requested_range_resolves_to_the_bytes_of_the_file_it_covers(
    requested, size, clip, expected
):
    if expected is RangeNotSatisfiable:
        with pytest.raises(RangeNotSatisfiable, match=f"has {size:,} bytes"):
            content.resolve_range(requested, size, clip)
    else:
        assert content.resolve_range(requested, size, clip) == expected


def test_empty_file_can_be_uploaded_and_downloaded(ctx, world):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "empty.txt", b"")
    download = content.open_download(ctx, alice, version.node_id)
    assert version.size == 0 and download.length == 0 and download.stream is None


def test_two_spellings_of_one_lao_name_are_one_file(ctx, world):
    alice = world.user("alice")
    name = "ບົດລາຍງານ.txt"
    decomposed = unicodedata.normalize("NFD", name)
    first = world.upload(alice, world.home(alice), name, b"1")
    second = world.upload(alice, world.home(alice), decomposed, b"2")
    assert second.node_id == first.node_id
    assert second.node.name == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    "name",
    [
        "a/b",
        "nul\x00byte",
        ".",
        "..",
        "",
        "   ",
        "ກ" * 86,
        "tab\there",
    ],
)
def test_bad_names_are_refused_and_nothing_is_stored(ctx, world, name):
    alice = world.user("alice")
    with pytest.raises(NameInvalid):
        world.upload(alice, world.home(alice), name, b"x")
    assert list(ctx.store.list()) == []
    good = world.upload(alice, world.home(alice), "good name.txt", b"x")
    assert [o.key for o in ctx.store.list()] == [good.blob_key]


def test_a_file_cannot_take_a_folder_name_and_leaves_no_bytes_behind(gs, ctx, world):
    """A small body is checked with the writes, its bytes deleted when they are refused; a
    large one is refused before a byte is read."""
    alice = world.user("alice")
    home = world.home(alice)
    world.folder(home, "Reports", actor=alice)
    kept = world.upload(alice, home, "Reports.txt", b"kept")
    ctx.db.commit()
    with pytest.raises(NameTaken), gs.unit_of_work() as other:
        person, folder = other.db.get(User, alice.id), other.db.get(Node, home.id)
        content.upload_file(other, person, folder, "Reports", io.BytesIO(b"x"))
    assert [o.key for o in ctx.store.list()] == [kept.blob_key]

    class Unreadable:
        def read(self, n=-1):
            raise AssertionError("a refused upload's body was read")

    large = content.CHECK_NAME_FIRST_ABOVE + 1
    with pytest.raises(NameTaken):
        content.upload_file(ctx, alice, home, "Reports", Unreadable(), large)
    assert [o.key for o in ctx.store.list()] == [kept.blob_key]


def test_pending_upload_is_seen_by_its_uploader_only(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    root = world.department_root("Finance")
    version = world.upload(alice, root, "draft.txt", b"draft", clean=False)
    assert version.scan_state == ScanState.PENDING
    assert content.open_download(ctx, alice, version.node_id).version.id == version.id
    with pytest.raises(NotFound):
        content.open_download(ctx, bob, version.node_id)


def test_new_pending_version_does_not_hide_the_clean_one(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    root = world.department_root("Finance")
    clean = world.upload(alice, root, "plan.txt", b"clean")
    pending = world.upload(alice, root, "plan.txt", b"pending", clean=False)
    assert read_all(content.open_download(ctx, bob, clean.node_id)) == b"clean"
    assert content.open_download(ctx, alice, clean.node_id).version.id == pending.id
    assert [v.number for v in content.list_versions(ctx, bob, clean.node_id)] == [1]


def test_infected_version_is_quarantined_for_its_uploader_and_gone_for_others(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    root = world.department_root("Finance")
    version = world.upload(alice, root, "invoice.pdf", b"bad", clean=False)
    mark_scanned(version, ScanState.INFECTED)
    with pytest.raises(Quarantined):
        content.open_download(ctx, alice, version.node_id)
    with pytest.raises(NotFound):
        content.open_download(ctx, bob, version.node_id)


def test_uploader_role_drops_files_without_overwriting_or_seeing(ctx, world):
    from gshare.access.permissions import Role
    from gshare.files import lookup
    from gshare.sharing import grants

    owner, guest = world.user("owner"), world.user("guest", "Audit")
    inbox = world.folder(world.home(owner), "Inbox", actor=owner)
    world.upload(owner, inbox, "form.pdf", b"owner's")
    grants.grant_role(ctx, owner, inbox.id, Role.UPLOADER, user=guest)
    dropped = content.upload_file(ctx, guest, inbox, "form.pdf", io.BytesIO(b"guest's"), 7)
    assert dropped.node.name == "form (2).pdf"
    mark_scanned(dropped, ScanState.CLEAN)
    names = [e.node.name for e in lookup.list_folder(ctx, owner, inbox)]
    assert names == ["form (2).pdf", "form.pdf"]
    with pytest.raises(Exception, match="does not allow"):
        lookup.list_folder(ctx, guest, inbox)


def test_every_upload_and_every_read_of_shared_content_is_in_the_audit_log(ctx, world):
    from gshare.activity.audit import list_events

    alice = world.user("alice")
    version = world.upload(alice, world.department_root("Finance"), "a.txt", b"a")
    mark_scanned(version, ScanState.CLEAN)
    read_all(content.open_download(ctx, alice, version.node_id))
    actions = [e.action for e in list_events(ctx.db, actor_id=alice.id)]
    assert actions[:2] == ["file.download", "file.upload"]
    assert list_events(ctx.db, action="file.upload")[0].target.endswith("/a.txt")


def test_a_download_in_parts_is_one_audit_row_and_a_new_download_another(ctx, world):
    from gshare.activity.audit import list_events

    alice, bob = world.user("alice"), world.user("bob")
    version = world.upload(alice, world.department_root("Finance"), "big.txt", bytes(100))
    mark_scanned(version, ScanState.CLEAN)
    for first, last in ((0, 39), (40, 79), (80, 99), (40, 79)):
        assert (
            len(
                read_all(
                    content.open_download(ctx, bob, version.node_id, byte_range=(first, last + 1))
                )
            )
            == last - first + 1
        )
    assert [e.detail for e in list_events(ctx.db, actor_id=bob.id)] == [{"range": "0-39"}]
    read_all(content.open_download(ctx, bob, version.node_id))  # the whole file again
    read_all(content.open_download(ctx, bob, version.node_id, byte_range=(0, 10)))  # a new start
    assert len(list_events(ctx.db, actor_id=bob.id)) == 3
    read_all(content.open_download(ctx, alice, version.node_id, byte_range=(50, 60)))
    assert [e.detail for e in list_events(ctx.db, actor_id=alice.id, action="file.download")] == [
        {"range": "50-59"}
    ]  # another person's first part, wherever it starts


def test_reading_ones_own_personal_space_leaves_no_audit_row(ctx, world):
    from gshare.activity.audit import list_events

    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "mine.txt", b"a")
    read_all(content.open_download(ctx, alice, version.node_id))
    actions = [e.action for e in list_events(ctx.db, actor_id=alice.id)]
    assert actions == ["file.upload"]
