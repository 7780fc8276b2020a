"""A folder as a ZIP streamed on the fly: only what the person may read, never buffered whole.

`plan_zip` walks the folder through the tree services (the same listing the person sees, clean
versions only for others' files, quarantined versions left out) inside the unit of work.
`stream_zip` then needs no database: it reads each blob from the store and yields ZIP bytes
(stored, not compressed; ZIP64 so size is no limit).

Entry names are made safe to extract on Windows, whose rules are stricter than gshare's names:
characters Windows refuses (and the backslash, its separator) become '_', trailing dots and
spaces become '_', reserved device names (CON, NUL, COM1...) get a leading '_', and names that
then clash (Windows ignores case) are numbered, names left unchanged keeping theirs.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, cast

from gshare.access.gate import current_version, is_quarantined
from gshare.access.permissions import Action
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import InvalidInput
from gshare.core.models import Node
from gshare.core.names import numbered
from gshare.files import lookup

MAX_ENTRIES = 20_000
_REFUSED_ON_WINDOWS = re.compile(r'[\\/<>:"|?*\x00-\x1f\x7f]')
_RESERVED_ON_WINDOWS = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.I)


@dataclass(frozen=True)
class ZipEntry:
    path: str  # an empty folder's ends with '/'
    blob_key: str | None  # None for an empty folder
    size: int
    modified: tuple


@dataclass(frozen=True)
class ZipPlan:
    name: str
    entries: list[ZipEntry]
    store: object  # the object store the plan's blobs are read from, after the commit


def plan_zip(ctx: Context, actor: Actor, folder_id: int) -> ZipPlan:
    """List what a ZIP of the folder holds for this person, and audit the download."""
    folder = lookup.get_node(ctx, actor, folder_id, Action.READ)
    if not folder.is_folder:
        raise InvalidInput("Only a folder can be downloaded as a ZIP.")
    entries: list[ZipEntry] = []
    _walk(ctx, actor, folder, "", entries)
    name = folder.name or ctx.db.get(lookup.Space, folder.space_id).name
    audit.record(ctx, actor, "folder.download_zip", node=folder, files=len(entries))
    return ZipPlan(f"{name}.zip", entries, ctx.store)


def plan_clean_zip(ctx: Context, folder: Node) -> ZipPlan:
    """List a ZIP of a folder as a public link's reader sees it: clean files only, unchecked
    (the link is the grant; its caller checks and counts it)."""
    entries: list[ZipEntry] = []
    _walk(ctx, None, folder, "", entries, lambda f: lookup.list_clean(ctx, f))
    name = folder.name or ctx.db.get(lookup.Space, folder.space_id).name
    return ZipPlan(f"{name}.zip", entries, ctx.store)


def plan_zip_of(ctx: Context, actor: Actor, node_ids: list[int]) -> ZipPlan:
    """List what a ZIP of several files and folders holds for this person, and audit it."""
    if not node_ids:
        raise InvalidInput("Choose at least one file or folder to download.")
    nodes = [lookup.get_node(ctx, actor, i, Action.READ) for i in dict.fromkeys(node_ids)]
    entries: list[ZipEntry] = []
    for node, name in zip(nodes, _entry_names([n.name for n in nodes]), strict=True):
        if node.is_folder:
            before = len(entries)
            _walk(ctx, actor, node, f"{name}/", entries)
            audit.record(ctx, actor, "folder.download_zip", node=node, files=len(entries) - before)
            continue
        version = current_version(ctx.db, actor, node)
        if version is not None and not is_quarantined(version):
            entries.append(ZipEntry(name, version.blob_key, version.size, _stamp(node)))
            audit.record(ctx, actor, "file.download", node=node, version=version, range=None)
    parent = ctx.db.get(Node, nodes[0].parent_id) if nodes[0].parent_id else nodes[0]
    name = parent.name or ctx.db.get(lookup.Space, parent.space_id).name
    return ZipPlan(f"{name}.zip", entries, ctx.store)


def _walk(
    ctx: Context,
    actor: Actor | None,
    folder: Node,
    prefix: str,
    entries: list[ZipEntry],
    listing=None,
) -> None:
    listing = listing or (lambda f: lookup.list_folder(ctx, actor, f))
    children = listing(folder)
    if not children and prefix:
        entries.append(ZipEntry(prefix, None, 0, _stamp(folder)))
    names = _entry_names([entry.node.name for entry in children])
    for entry, name in zip(children, names, strict=True):
        if len(entries) >= MAX_ENTRIES:
            raise InvalidInput(f"A ZIP holds at most {MAX_ENTRIES:,} files; download less.")
        path = f"{prefix}{name}"
        if entry.node.is_folder:
            _walk(ctx, actor, entry.node, f"{path}/", entries, listing)
        elif not is_quarantined(entry.version):
            entries.append(
                ZipEntry(path, entry.version.blob_key, entry.version.size, _stamp(entry.node))
            )


def _entry_names(names: list[str]) -> list[str]:
    """Return the names of a folder's items as they go into the ZIP: safe on Windows and
    unique whatever their case, the names that needed no change keeping theirs."""
    safe = [windows_name(name) for name in names]
    taken: set[str] = set()
    result = list(safe)
    for unchanged in (True, False):
        for i, name in enumerate(names):
            if (safe[i] == name) == unchanged:
                result[i] = _unique(safe[i], taken)
    return result


def windows_name(name: str) -> str:
    """Return a name that Windows accepts for a file or folder, changes shown as '_'."""
    name = _REFUSED_ON_WINDOWS.sub("_", name)
    if name != name.rstrip(". "):
        name = name.rstrip(". ") + "_"
    if _RESERVED_ON_WINDOWS.fullmatch(name):
        name = f"_{name}"
    return name


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = numbered(name, n)
    taken.add(candidate.casefold())
    return candidate


def _stamp(node: Node) -> tuple:
    moment = node.updated_at
    return (
        max(moment.year, 1980),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )


class _Sink:
    """A write-only file object that hands what is written to the generator."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.offset = 0

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def stream_zip(plan: ZipPlan) -> Iterator[bytes]:
    """Yield the ZIP file of a plan, reading each blob from the store as it goes."""
    store = plan.store
    sink = _Sink()
    archive_file = cast(IO[bytes], sink)  # write, tell and flush are all ZipFile uses
    with zipfile.ZipFile(
        archive_file, "w", compression=zipfile.ZIP_STORED, allowZip64=True
    ) as archive:
        for entry in plan.entries:
            if entry.blob_key is None:
                archive.writestr(zipfile.ZipInfo(entry.path, entry.modified), b"")
                yield sink.take()
                continue
            yield from _add_file(store, archive, sink, entry)
    yield sink.take()


def _add_file(store, archive, sink, entry: ZipEntry) -> Iterator[bytes]:
    info = zipfile.ZipInfo(entry.path, entry.modified)
    info.file_size = entry.size
    with archive.open(info, "w", force_zip64=True) as target:
        if entry.size:
            with store.get(entry.blob_key) as stream:
                for chunk in stream:
                    target.write(chunk)
                    yield sink.take()
    yield sink.take()
