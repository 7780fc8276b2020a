"""Where a node sits in the tree: its path, the node at a path, a space's root, the trash.

Plain navigation, with no check of who asks: the access package and the services that checked
already build on it. `nodes.path` holds a node's ancestor ids, root first ('/1/7/').
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import identity_key

from gshare.core.models import Node, Space


def root_of(db: Session, space: Space) -> Node:
    """Return the root folder of a space."""
    return db.scalar(select(Node).where(Node.space_id == space.id, Node.parent_id.is_(None)))


def in_trash(db: Session, node: Node) -> bool:
    """Return whether the node or a folder above it was deleted."""
    if node.deleted_at is not None:
        return True
    ids = node.ancestor_ids
    return (
        bool(ids)
        and db.scalar(select(func.count()).where(Node.id.in_(ids), Node.deleted_at.is_not(None)))
        > 0
    )


def node_path(db: Session, node: Node) -> str:
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


def key_path(slug: str, path: str) -> str:
    """Return 'space-slug/folder/file' for a path walk or nodes_at resolved: what node_path
    says of the node found, without asking the database for the folders' names."""
    return "/".join([slug, *_path_names(path)])


def child_named(db: Session, folder: Node, name: str) -> Node | None:
    """Return the live child of a folder with exactly this (NFC) name."""
    return db.scalar(_CHILD_NAMED, {"folder": folder.id, "name": name})


# Built once: every upload asks it twice (before its bytes are stored and with its writes).
_CHILD_NAMED = select(Node).where(
    Node.parent_id == bindparam("folder"), Node.name == bindparam("name"), Node.deleted_at.is_(None)
)


def walk(db: Session, root: Node, path: str) -> Node | None:
    """Return the live node at a '/'-separated path below root without any check, or None
    (one query, whatever the depth)."""
    names = _path_names(path)
    if not names:
        return root
    return db.scalar(_path_query(len(names), live=True), _path_params(root, names))


def nodes_at(db: Session, root: Node, path: str) -> list[Node]:
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


def path_lookup(root: Node, path: str) -> tuple[int, dict]:
    """Return how many names a path below root has and the parameters leaf_query takes."""
    names = _path_names(path)
    return len(names), _path_params(root, names)


def leaf_query(depth: int):
    """Return (the query of the live node at a path of depth names, the alias of that node),
    for callers that join more to the node found (gate.walk_to_current joins its version)."""
    return _path_select(depth, live=True)


def _path_query(depth: int, live: bool):
    return _path_select(depth, live)[0]


@lru_cache(maxsize=128)
def _path_select(depth: int, live: bool):
    """Return the query of the nodes at a path of this many names (live ones only, or all),
    built once (building it costs more than running it) with the root and the names as
    parameters, and the alias of the node it finds.

    The query joins one alias of nodes per level. An alias makes its columns on first use,
    and two threads making the same one at once can leave a half-made column behind (the
    query then matches the wrong rows), so the query is built under a lock before it is
    shared.
    """
    with _path_lock:
        levels = tuple(aliased(Node, name=f"level{i}") for i in range(depth))
        query = (
            select(levels[-1])
            .select_from(levels[0])
            .where(levels[0].parent_id == bindparam("root"))
        )
        for parent, child in zip(levels, levels[1:], strict=False):
            query = query.join(child, child.parent_id == parent.id)
        for i, level in enumerate(levels):
            query = query.where(level.name == bindparam(f"name{i}"))
            if live:
                query = query.where(level.deleted_at.is_(None))
        levels[-1].id  # noqa: B018 - made here, under the lock, for callers joining to it
        return query, levels[-1]


_path_lock = threading.Lock()
