"""Finding things in the tree: nodes by id or path, folder listings, search, and what is live.

A file is visible to a person only through a version they may read: a clean (or released)
version, or one they uploaded themselves. A file with no such version does not exist for them.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key

from gshare.errors import NotFound
from gshare.models import Node, NodeKind, ScanState, Space, Version
from gshare.names import search_key
from gshare.permissions import SYSTEM, Action, allowed_actions, require

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
    """Return 'space-slug/folder/file' for display and the audit log.

    The folders above a node are often loaded already (the request walked them): only the
    names not in the session are asked for, in one query.
    """
    names = {}
    for node_id in node.ancestor_ids[1:]:
        known = db.identity_map.get(identity_key(Node, node_id))
        if known is not None and "name" in known.__dict__:  # loaded, not expired
            names[node_id] = known.name
    missing = [i for i in node.ancestor_ids[1:] if i not in names]
    if missing:
        names.update(db.execute(select(Node.id, Node.name).where(Node.id.in_(missing))).all())
    slug = db.get(Space, node.space_id).slug
    return "/".join([slug, *(names[i] for i in node.ancestor_ids[1:]), node.name]).rstrip("/")


def breadcrumbs(db, actor, node: Node) -> list[tuple[int, str]]:
    """Return (id, name) of the folders above a node the actor may see, then the node; a
    space's root is named after the space."""
    above = {n.id: n for n in db.scalars(select(Node).where(Node.id.in_(node.ancestor_ids)))}
    crumbs = []
    for folder in [*(above[i] for i in node.ancestor_ids if i in above), node]:
        if Action.SEE in allowed_actions(db, actor, folder):
            crumbs.append((folder.id, folder.name or db.get(Space, folder.space_id).name))
    return crumbs


def child_named(db, folder: Node, name: str) -> Node | None:
    """Return the live child of a folder with exactly this (NFC) name."""
    return db.scalar(select(Node).where(Node.parent_id == folder.id, Node.name == name,
                                        Node.deleted_at.is_(None)))


def walk(db, root: Node, path: str) -> Node | None:
    """Return the live node at a '/'-separated path below root without any check, or None
    (one query, whatever the depth)."""
    names = _path_names(path)
    if not names:
        return root
    return db.scalar(_path_query(len(names), live=True), _path_params(root, names))


def nodes_at(db, root: Node, path: str) -> list[Node]:
    """Return every node at a path below root, live or in the trash (a name may have been
    used again since), without any check (one query)."""
    names = _path_names(path)
    if not names:
        return []
    return list(db.scalars(_path_query(len(names), live=False), _path_params(root, names)))


def _path_names(path: str) -> list[str]:
    return [unicodedata.normalize("NFC", part) for part in path.split("/") if part]


def _path_params(root: Node, names: list[str]) -> dict:
    return {"root": root.id} | {f"name{i}": name for i, name in enumerate(names)}


@lru_cache(maxsize=128)
def _path_query(depth: int, live: bool):
    """Return the query of the nodes at a path of this many names (live ones only, or all),
    built once (building it costs more than running it) with the root and the names as
    parameters.

    The query joins one alias of nodes per level. An alias makes its columns on first use,
    and two threads making the same one at once can leave a half-made column behind (the
    query then matches the wrong rows), so the query is built under a lock before it is
    shared.
    """
    with _path_lock:
        levels = tuple(aliased(Node, name=f"level{i}") for i in range(depth))
        query = (select(levels[-1]).select_from(levels[0])
                 .where(levels[0].parent_id == bindparam("root")))
        for parent, child in zip(levels, levels[1:], strict=False):
            query = query.join(child, child.parent_id == parent.id)
        for i, level in enumerate(levels):
            query = query.where(level.name == bindparam(f"name{i}"))
            if live:
                query = query.where(level.deleted_at.is_(None))
        return query


_path_lock = threading.Lock()


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
