"""Finding things in the tree: nodes by id or path, folder listings, search, and what is live.

A file is visible to a person only through a version they may read: a clean (or released)
version, or one they uploaded themselves. A file with no such version does not exist for them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from gshare.errors import NotFound
from gshare.models import Node, NodeKind, ScanState, Space, Version
from gshare.names import search_key
from gshare.permissions import SYSTEM, Action, require

SORTS = ("name", "modified", "size")


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


def walk(db, root: Node, path: str) -> Node | None:
    """Return the live node at a '/'-separated path below root without any check, or None
    (one query, whatever the depth)."""
    names = [unicodedata.normalize("NFC", part) for part in path.split("/") if part]
    if not names:
        return root
    levels = _levels(len(names))
    query = select(levels[-1]).select_from(levels[0]).where(levels[0].parent_id == root.id)
    for parent, child in zip(levels, levels[1:], strict=False):
        query = query.join(child, child.parent_id == parent.id)
    for level, name in zip(levels, names, strict=True):
        query = query.where(level.name == name, level.deleted_at.is_(None))
    return db.scalar(query)


@lru_cache(maxsize=64)
def _levels(depth: int) -> tuple:
    """Return one alias of nodes per level of a path (built once: building them is costly)."""
    return tuple(aliased(Node, name=f"level{i}") for i in range(depth))


def resolve_path(db, actor, root: Node, path: str, action: Action = Action.SEE) -> Node:
    """Return the node at a '/'-separated path below a folder, else NotFound."""
    node = walk(db, root, path)
    if node is None:
        raise NotFound()
    return get_node(db, actor, node.id, action)


def list_folder(db, actor, folder: Node, sort: str = "name", descending: bool = False,
                limit: int | None = None, offset: int = 0) -> list[Entry]:
    """List what the actor sees in a folder: folders first, then files with their version."""
    require(db, actor, Action.SEE, folder)
    order = _sort_key(actor, sort)
    query = _visible_nodes(actor, Node.parent_id == folder.id).order_by(
        Node.kind.desc(), order.desc() if descending else order, Node.id)
    return _with_versions(db, actor, db.scalars(query.limit(limit).offset(offset)).all())


def search(db, actor, folder: Node, text: str, limit: int = 200) -> list[Entry]:
    """Find entries below a folder whose name contains the text (case- and NFC-insensitive)."""
    require(db, actor, Action.SEE, folder)
    needle = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    scope = Node.path.startswith(folder.child_path) & Node.search_name.like(
        f"%{needle}%", escape="\\")
    query = _visible_nodes(actor, scope).order_by(Node.name).limit(limit)
    nodes = [n for n in db.scalars(query) if not in_trash(db, n)]
    return _with_versions(db, actor, nodes)


def _sort_key(actor, sort: str):
    """Return the column to sort a listing by; size is that of the version the actor sees."""
    if sort == "modified":
        return Node.updated_at
    if sort == "size":
        return (select(Version.size).where(Version.node_id == Node.id, readable_by(actor))
                .order_by(Version.number.desc()).limit(1).correlate(Node).scalar_subquery())
    return Node.name


def _visible_nodes(actor, scope):
    """Select the live nodes matching scope: folders, and files with a version the actor sees."""
    has_version = select(Version.id).where(Version.node_id == Node.id, readable_by(actor))
    return select(Node).where(scope, Node.deleted_at.is_(None),
                              or_(Node.kind == NodeKind.FOLDER, has_version.exists()))


def entries_where(db, actor, scope) -> list[Entry]:
    """Return the live nodes matching an SQL condition as the actor sees them, unordered
    (for callers that check permission themselves, e.g. the S3 listing of a bucket)."""
    return _with_versions(db, actor, db.scalars(_visible_nodes(actor, scope)).all())


def _with_versions(db, actor, nodes: list[Node]) -> list[Entry]:
    """Pair each node with the newest version the actor may see (one query for all)."""
    files = [n.id for n in nodes if n.kind == NodeKind.FILE]
    newest: dict[int, Version] = {}
    for chunk in (files[i:i + 5000] for i in range(0, len(files), 5000)):
        query = (select(Version).where(Version.node_id.in_(chunk), readable_by(actor))
                 .order_by(Version.node_id, Version.number.desc()))
        for version in db.scalars(query):
            newest.setdefault(version.node_id, version)
    return [Entry(n, newest.get(n.id)) for n in nodes]


def list_clean(db, folder: Node, sort: str = "name", limit: int | None = None,
               offset: int = 0) -> list[Entry]:
    """List a folder with clean versions only, unchecked (a public link's token is the grant)."""
    query = _visible_nodes(None, Node.parent_id == folder.id)
    query = query.order_by(Node.kind.desc(), _sort_key(None, sort), Node.id)
    return _with_versions(db, None, db.scalars(query.limit(limit).offset(offset)).all())
