"""A folder's ZIP extracts safely on Windows: every entry name is one Windows accepts, inside
the folder, unique, and an empty folder appears once."""

import io
import re
import zipfile

from gshare.files import zipstream

RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.IGNORECASE)
REFUSED = re.compile(r'[\\<>:"|?*\x00-\x1f]')


def zip_names(ctx, world, actor, folder) -> list[str]:
    plan = zipstream.plan_zip(ctx, actor, folder.id)
    data = b"".join(zipstream.stream_zip(plan))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive.namelist()


def assert_safe_on_windows(name: str) -> None:
    parts = name.rstrip("/").split("/")
    assert not name.startswith("/"), name
    for part in parts:
        assert part and part not in (".", ".."), name
        assert not REFUSED.search(part), name
        assert not RESERVED.match(part), name
        assert not part.endswith((".", " ")), name


def test_zip_entry_names_are_safe_to_extract_on_windows_and_unique(ctx, world):
    alice = world.user("alice")
    home = world.home(alice)
    top = world.folder(home, "Reports", actor=alice)
    world.upload(alice, top, "plan.txt", b"plan")
    for name in (
        "a\\..\\..\\evil.txt",
        "C:evil.txt",
        "CON",
        "nul.txt",
        "com1.log",
        "trailing. ",
        'what<>:"|?*.txt',
        "what_______.txt",
    ):
        world.upload(alice, top, name, name.encode())
    empty = world.folder(top, "Sub", actor=alice)
    world.folder(empty, "Deeper.", actor=alice)
    world.folder(top, "Empty", actor=alice)
    names = zip_names(ctx, world, alice, top)
    assert "plan.txt" in names  # an ordinary name stays as it is
    for name in names:
        assert_safe_on_windows(name)
    assert len(names) == len({n.casefold() for n in names})  # Windows ignores case
    assert "Empty/" in names and "Sub/Deeper_/" in names
    assert not any("//" in n for n in names)
    assert len(names) == 11  # 9 files, 2 empty folders and nothing lost


def test_a_zip_of_a_folder_keeps_the_content_under_its_new_name(ctx, world):
    alice = world.user("alice")
    top = world.folder(world.home(alice), "Top", actor=alice)
    world.upload(alice, top, "a\\b.txt", b"inside")
    plan = zipstream.plan_zip(ctx, alice, top.id)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zipstream.stream_zip(plan))))
    assert archive.namelist() == ["a_b.txt"]
    assert archive.read("a_b.txt") == b"inside"
