"""Folders: create, rename, move, copy, find, list and search, and the trash."""

import pytest

from gshare.core.actor import OPERATOR
from gshare.core.errors import InvalidMove, NameTaken, NotFound
from gshare.files import content, folders, lookup, search, trash
from gshare.org import spaces


def names(ctx, actor, folder):
    return [entry.node.name for entry in lookup.list_folder(ctx, actor, folder)]


def test_folders_list_before_files_in_name_order(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    for name in ("b.txt", "a.txt"):
        world.upload(alice, home, name)
    world.folder(home, "Zeta", actor=alice)
    assert names(ctx, alice, home) == ["Zeta", "a.txt", "b.txt"]


def test_duplicate_folder_name_is_refused(ctx, world):
    alice = world.user("alice")
    world.folder(world.home(alice), "2026", actor=alice)
    with pytest.raises(NameTaken):
        world.folder(world.home(alice), "2026", actor=alice)


def test_rename_keeps_the_blob_and_changes_the_name(ctx, world):
    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "old.txt", b"same bytes")
    folders.rename_node(ctx, alice, version.node_id, "ໃໝ່.txt")
    assert names(ctx, alice, world.home(alice)) == ["ໃໝ່.txt"]
    assert content.open_download(ctx, alice, version.node_id).version.blob_key == version.blob_key


def test_move_carries_the_whole_subtree(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    a, target = world.folder(home, "a", actor=alice), world.folder(home, "target", actor=alice)
    deep = world.folder(world.folder(a, "b", actor=alice), "c", actor=alice)
    version = world.upload(alice, deep, "f.txt", b"f")
    folders.move_node(ctx, alice, a.id, target.id)
    found = lookup.resolve_path(ctx, alice, home, "target/a/b/c/f.txt")
    assert found.id == version.node_id


def test_folder_cannot_move_into_itself_or_below(ctx, world):
    alice = world.user("alice")
    a = world.folder(world.home(alice), "a", actor=alice)
    b = world.folder(a, "b", actor=alice)
    for target in (a, b):
        with pytest.raises(InvalidMove):
            folders.move_node(ctx, alice, a.id, target.id)


def test_move_to_another_space_moves_the_quota_use(ctx, world):
    alice = world.user("alice")
    world.upload(alice, world.home(alice), "f.txt", b"12345")
    node = lookup.resolve_path(ctx, alice, world.home(alice), "f.txt")
    dept_root = world.department_root("Finance")
    folders.move_node(ctx, alice, node.id, dept_root.id)
    home_space = spaces.personal_space(ctx, alice)
    ctx.db.refresh(home_space)
    assert home_space.used_bytes == 0
    assert ctx.db.get(spaces.Space, dept_root.space_id).used_bytes == 5


def test_copy_of_a_folder_has_its_own_blobs(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    src = world.folder(home, "src", actor=alice)
    original = world.upload(alice, src, "f.txt", b"content")
    copy = folders.copy_node(ctx, alice, src.id, home.id)
    assert copy.name == "src (2)"
    copied = lookup.resolve_path(ctx, alice, home, "src (2)/f.txt")
    version = content.open_download(ctx, alice, copied.id).version
    assert version.blob_key != original.blob_key and version.sha256 == original.sha256


def test_search_ignores_case_and_unicode_spelling(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    world.upload(alice, world.folder(home, "x", actor=alice), "Budget ງົບປະມານ.xlsx")
    found = search.search_names(ctx, alice, "BUDGET", home).hits
    assert [h.entry.node.name for h in found] == ["Budget ງົບປະມານ.xlsx"]
    assert len(search.search_names(ctx, alice, "ງົບ", home).hits) == 1
    assert search.search_names(ctx, alice, "100%", home).hits == []


def test_deleted_item_leaves_the_folder_and_comes_back_on_restore(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    folder = world.folder(home, "Old", actor=alice)
    version = world.upload(alice, folder, "f.txt")
    assert names(ctx, alice, home) == ["Old"]
    trash.delete_node(ctx, alice, folder.id)
    assert names(ctx, alice, home) == []
    with pytest.raises(NotFound):
        content.open_download(ctx, alice, version.node_id)
    assert [n.name for n in trash.list_trash(ctx, alice, folder.space_id)] == ["Old"]
    trash.restore_node(ctx, alice, folder.id)
    assert content.open_download(ctx, alice, version.node_id).version.id == version.id


def test_restore_next_to_a_newer_item_of_the_same_name_renames_it(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    old = world.upload(alice, home, "f.txt", b"old")
    trash.delete_node(ctx, alice, old.node_id)
    world.upload(alice, home, "f.txt", b"new")
    trash.restore_node(ctx, alice, old.node_id)
    assert names(ctx, alice, home) == ["f (2).txt", "f.txt"]


def test_purge_removes_rows_now_and_blobs_after_commit(gs):
    from tests.fixtures.world import World

    with gs.unit_of_work() as ctx:
        world = World(ctx)
        alice = world.user("alice")
        version = world.upload(alice, world.home(alice), "f.txt", b"bytes")
        trash.delete_node(ctx, alice, version.node_id)
        trash.purge_node(ctx, alice, version.node_id)
        assert [o.key for o in gs.store.list()] == [version.blob_key]
    assert list(gs.store.list()) == []


def test_trash_past_retention_is_purged(ctx, world):
    from datetime import timedelta

    from gshare.core.models import utcnow

    alice = world.user("alice")
    version = world.upload(alice, world.home(alice), "f.txt")
    trash.delete_node(ctx, alice, version.node_id)
    assert trash.purge_expired(ctx, utcnow() - timedelta(days=1)) == 0
    assert [n.name for n in trash.list_trash(ctx, OPERATOR, version.node.space_id)] == ["f.txt"]
    assert trash.purge_expired(ctx, utcnow() + timedelta(seconds=1)) == 1
    assert trash.list_trash(ctx, OPERATOR, version.node.space_id) == []
