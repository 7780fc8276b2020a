"""Finding things in the tree: nodes by id or path, folder listings, search, and what is live.

A file is visible to a person only through a version they may read: a clean (or released)
version, or one they uploaded themselves. A file with no such version does not exist for them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from gshare.errors import NotFound
from gshare.models import Node, NodeKind, ScanState, Space, Version
from gshare.names import search_key
from gshare.permissions import SYSTEM, Action, require

SORTS = {
    "name": Node.name,
    "modified": Node.updated_at,
    "size": Version.size,
}


@dataclass(frozen=True)
class Entry:
    """A node as one person sees it, with the version they would get (None for folders)."""

    node: Node
    version: Version | None


def readable_by(actor, version=Version):
    """Return the SQL condition for versions this actor may see (None: an anonymous reader)."""
    clean = or_(version.scan_state == ScanState.CLEAN, version.release_reason.is_not(None))
    if actor is SYSTEM:
        return version.id.is_not(None)
    return or_(clean, version.uploaded_by == actor.id) if actor is not None else clean


def current_version(db, actor, node: Node) -> Version | None:
    """Return the newest version of a file this actor may see."""
    return db.scalar(select(Version).where(Version.node_id == node.id, readable_by(actor))
                     .order_by(Version.number.desc()).limit(1))


def get_node(db, actor, node_id: int, action: Action = Action.SEE,
             trashed: bool = False) -> Node:
    """Return a live node (or a trashed one) the actor may act on, else NotFound."""
    node = db.get(Node, node_id)
    if node is None or in_trash(db, node) != trashed:
        raise NotFound()
    require(db, actor, action, node)
    if node.kind == NodeKind.FILE and action != Action.UPLOAD and (
            current_version(db, actor, node) is None):
        raise NotFound()
    return node


def in_trash(db, node: Node) -> bool:
    """Return whether the node or a folder above it was deleted."""
    if node.deleted_at is not None:
        return True
    ids = node.ancestor_ids
    return bool(ids) and db.scalar(
        select(func.count()).where(Node.id.in_(ids), Node.deleted_at.is_not(None))) > 0


def node_path(db, node: Node) -> str:
    """Return 'space-slug/folder/file' for display and the audit log."""
    rows = db.execute(select(Node.id, Node.name).where(Node.id.in_(node.ancestor_ids)))
    names = {node_id: name for node_id, name in rows}
    slug = db.scalar(select(Space.slug).where(Space.id == node.space_id))
    return "/".join([slug, *(names[i] for i in node.ancestor_ids[1:]), node.name]).rstrip("/")


def child_named(db, folder: Node, name: str) -> Node | None:
    """Return the live child of a folder with exactly this (NFC) name."""
    return db.scalar(select(Node).where(Node.parent_id == folder.id, Node.name == name,
                                        Node.deleted_at.is_(None)))


def resolve_path(db, actor, root: Node, path: str, action: Action = Action.SEE) -> Node:
    """Return the node at a '/'-separated path below a folder, else NotFound."""
    node = root
    for part in (p for p in path.split("/") if p):
        node = child_named(db, node, unicodedata.normalize("NFC", part))
        if node is None:
            raise NotFound()
    return get_node(db, actor, node.id, action)


def list_folder(db, actor, folder: Node, sort: str = "name", descending: bool = False,
                limit: int | None = None, offset: int = 0) -> list[Entry]:
    """List what the actor sees in a folder: folders first, then files with their version."""
    require(db, actor, Action.SEE, folder)
    query = _entries(actor).where(Node.parent_id == folder.id)
    order = SORTS.get(sort, Node.name)
    query = query.order_by(Node.kind.desc(), order.desc() if descending else order, Node.id)
    return [Entry(n, v) for n, v in db.execute(query.limit(limit).offset(offset))]


def count_children(db, actor, folder: Node) -> int:
    """Return how many entries the actor sees in a folder."""
    query = _entries(actor).where(Node.parent_id == folder.id)
    return db.scalar(select(func.count()).select_from(query.subquery()))


def search(db, actor, folder: Node, text: str, limit: int = 200) -> list[Entry]:
    """Find entries below a folder whose name contains the text (case- and NFC-insensitive)."""
    require(db, actor, Action.SEE, folder)
    needle = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = _entries(actor).where(
        Node.path.startswith(folder.child_path),
        Node.search_name.like(f"%{needle}%", escape="\\")).order_by(Node.name).limit(limit)
    return [Entry(n, v) for n, v in db.execute(query) if not in_trash(db, n)]


def _entries(actor):
    """Select live nodes with the version this actor would see (files without one left out)."""
    newest = aliased(Version)
    newest_id = (select(newest.id).where(newest.node_id == Node.id, readable_by(actor, newest))
                 .order_by(newest.number.desc()).limit(1).correlate(Node).scalar_subquery())
    return (select(Node, Version)
            .outerjoin(Version, Version.id == newest_id)
            .where(Node.deleted_at.is_(None),
                   or_(Node.kind == NodeKind.FOLDER, Version.id.is_not(None))))



def list_clean(db, folder: Node, sort: str = "name", limit: int | None = None,
               offset: int = 0) -> list[Entry]:
    """List a folder with clean versions only, unchecked (a public link's token is the grant)."""
    query = _entries(None).where(Node.parent_id == folder.id)
    query = query.order_by(Node.kind.desc(), SORTS.get(sort, Node.name), Node.id)
    return [Entry(n, v) for n, v in db.execute(query.limit(limit).offset(offset))]
