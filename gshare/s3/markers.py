"""A file in the trash, seen by S3 clients as a delete marker.

On a versioned bucket S3 keeps a key's versions when the key is deleted and shows a delete
marker as its newest entry; deleting the marker brings the key back. gshare's trash is that:
a file in the trash (itself or a folder above it deleted) is a delete marker at its key, dated
when it left the tree, and restoring it is deleting the marker. Only files the person may read
a version of have markers they see.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from gshare.access.gate import may_read_file, readable_version
from gshare.access.visibility import SpaceView as Bucket
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import Node, NodeKind, Version
from gshare.core.paths import nodes_at, walk
from gshare.files import trash

_MARKER_ID = re.compile(r"d[0-9]+-[0-9]+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 500


@dataclass(frozen=True)
class DeleteMarker:
    """A file in the trash as S3 shows it on a versioned bucket: an entry of its key with no
    content, dated when the file (or a folder above it) was deleted."""

    key: str
    node: Node
    deleted_at: datetime

    @property
    def id(self) -> str:
        return marker_id(self.node.id, self.deleted_at)


class DeleteMarkerHit(NotFound):
    """The key's file is in the trash (named: a request gave its delete marker's id)."""

    def __init__(self, marker: DeleteMarker, named: bool):
        super().__init__(f"'{marker.key}' was deleted; it is in the space's trash.")
        self.marker, self.named = marker, named


def latest_delete_marker(
    ctx: Context, actor: Actor, bucket: Bucket, key: str
) -> DeleteMarker | None:
    """Return the newest delete marker the person sees at a key (after DeleteObject)."""
    markers = _markers_at(ctx, actor, bucket, key)
    return markers[0] if markers else None


def undelete_object(
    ctx: Context, actor: Actor, bucket: Bucket, key: str, marker: str
) -> DeleteMarker | None:
    """Bring back from the trash the file a delete marker stands for (S3: delete the marker),
    checked as trash restore is; None when the key has no such marker."""
    found = marker_named(ctx, actor, bucket, key, marker)
    if found is not None:
        trash.restore_hidden(ctx, actor, found.node)
    return found


def marker_id(node_id: int, deleted_at: datetime) -> str:
    """Return a delete marker's version id: 'd<file id>-<microseconds since 1970>'. It is never
    a number (no clash with version ids) and new for each deletion of the same file."""
    return f"d{node_id}-{_microseconds(deleted_at)}"


def is_marker_id(value: str | None) -> bool:
    """Tell whether an S3 version id names a delete marker rather than a version."""
    return value is not None and _MARKER_ID.fullmatch(value) is not None


def marker_named(
    ctx: Context, actor: Actor, bucket: Bucket, key: str, marker: str
) -> DeleteMarker | None:
    """Return the delete marker at a key with this id that the person sees, else None."""
    return next((m for m in _markers_at(ctx, actor, bucket, key) if m.id == marker), None)


def find_in_trash(
    ctx: Context, actor: Actor, bucket: Bucket, key: str, version_id: int | None
) -> tuple[Node, Version]:
    """Return a trashed file at a key with its version version_id, else NotFound; with no
    version_id, a key whose file is in the trash raises DeleteMarkerHit."""
    markers = _markers_at(ctx, actor, bucket, key)
    if version_id is None and markers:
        raise DeleteMarkerHit(markers[0], named=False)
    for marker in markers:  # a version of a trashed file, asked for by its id
        with contextlib.suppress(NotFound):
            return marker.node, readable_version(ctx.db, actor, marker.node, version_id)
    raise NotFound(f"No object '{key}'.")


def trashed_under(ctx: Context, bucket: Bucket, prefix: str) -> list[DeleteMarker]:
    """Return the trashed files of the bucket the person sees whose keys start with prefix
    (files in a deleted folder too); the caller drops those with no version they may see."""
    db, prefix = ctx.db, unicodedata.normalize("NFC", prefix)
    base = walk(db, bucket.root, prefix.rpartition("/")[0])
    scope = (base if base is not None and base.is_folder else bucket.root).child_path
    trashed = list(
        db.scalars(
            select(Node).where(
                Node.space_id == bucket.space.id,
                Node.deleted_at.is_not(None),
                Node.path.startswith(scope),
            )
        )
    )
    files = [n for n in trashed if not n.is_folder]
    folders = [n for n in trashed if n.is_folder]
    for start in range(0, len(folders), 100):
        inside = or_(*(Node.path.startswith(f.child_path) for f in folders[start : start + 100]))
        files += db.scalars(
            select(Node).where(Node.kind == NodeKind.FILE, Node.deleted_at.is_(None), inside)
        )
    ancestry = _ancestry(db, files)
    markers = []
    for node in files:
        names = [ancestry[i][0] for i in node.ancestor_ids[1:]]
        key = "/".join([*names, node.name])
        if key.startswith(prefix) and bucket.sees(node):
            markers.append(DeleteMarker(key, node, _deleted_at(node, ancestry)))
    return markers


def _markers_at(ctx: Context, actor: Actor, bucket: Bucket, key: str) -> list[DeleteMarker]:
    """Return the trashed files at a key the person may read, newest deletion first (the
    bucket may be find_space's: each file's own role decides)."""
    if key.endswith("/"):
        return []
    db = ctx.db
    files = files_at(db, bucket.root, key)
    ancestry = _ancestry(db, files)
    markers = [DeleteMarker(key, node, _deleted_at(node, ancestry)) for node in files]
    seen = [m for m in markers if m.deleted_at is not None and may_read_file(db, actor, m.node)]
    return sorted(seen, key=lambda m: (m.deleted_at, m.node.id), reverse=True)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _ancestry(db, nodes: list[Node]) -> dict[int, tuple[str, datetime | None]]:
    """Return the name and deletion time of every folder above the nodes."""
    ids = sorted({i for node in nodes for i in node.ancestor_ids})
    found: dict[int, tuple[str, datetime | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = db.execute(
            select(Node.id, Node.name, Node.deleted_at).where(
                Node.id.in_(ids[start : start + _CHUNK])
            )
        )
        found.update((node_id, (name, deleted)) for node_id, name, deleted in rows)
    return found


def _deleted_at(node: Node, ancestry) -> datetime | None:
    """Return when a node left the tree: its own deletion or a folder's above it, the first."""
    times = [node.deleted_at, *(ancestry[i][1] for i in node.ancestor_ids if i in ancestry)]
    return min((t for t in times if t is not None), default=None)


def files_at(db, root: Node, key: str) -> list[Node]:
    """Return the files at a key below root, live or in the trash (one query)."""
    return [node for node in nodes_at(db, root, key) if node.kind == NodeKind.FILE]
