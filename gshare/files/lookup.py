"""Finding things in the tree: nodes by id or path, folder listings, and what is live
(search by name is in search.py).

A file is visible to a person only through a version they may read: a clean (or released)
version, or one they uploaded themselves. A file with no such version does not exist for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from gshare.access.gate import readable_by, require_visible
from gshare.access.permissions import Action, allowed_actions, require
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import Node, NodeKind, Space, Version
from gshare.core.paths import in_trash, walk

SORTS = ("name", "modified", "size")


@dataclass(frozen=True)
class Entry:
    """A node as one person sees it, with the version they would get (None for folders)."""

    node: Node
    version: Version | None


def get_node(
    ctx: Context, actor: Actor, node_id: int, action: Action = Action.SEE, trashed: bool = False
) -> Node:
    """Return a live node (or a trashed one) the actor may act on, else NotFound."""
    node = ctx.db.get(Node, node_id)
    if node is None or in_trash(ctx.db, node) != trashed:
        raise NotFound()
    require_visible(ctx.db, actor, action, node)
    return node


def breadcrumbs(ctx: Context, actor: Actor, node: Node) -> list[tuple[int, str]]:
    """Return (id, name) of the folders above a node the actor may see, then the node; a
    space's root is named after the space."""
    above = {n.id: n for n in ctx.db.scalars(select(Node).where(Node.id.in_(node.ancestor_ids)))}
    crumbs = []
    for folder in [*(above[i] for i in node.ancestor_ids if i in above), node]:
        if Action.SEE in allowed_actions(ctx.db, actor, folder):
            crumbs.append((folder.id, folder.name or ctx.db.get(Space, folder.space_id).name))
    return crumbs


def resolve_path(
    ctx: Context, actor: Actor, root: Node, path: str, action: Action = Action.SEE
) -> Node:
    """Return the node at a '/'-separated path below a folder, else NotFound."""
    node = walk(ctx.db, root, path)
    if node is None:
        raise NotFound()
    return get_node(ctx, actor, node.id, action)


def list_folder(
    ctx: Context,
    actor: Actor,
    folder: Node,
    sort: str = "name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Entry]:
    """List what the actor sees in a folder: folders first, then files with their version."""
    require(ctx.db, actor, Action.SEE, folder)
    order = _sort_key(actor, sort)
    query = visible_nodes(actor, Node.parent_id == folder.id).order_by(
        Node.kind.desc(), order.desc() if descending else order, Node.id
    )
    return with_versions(ctx.db, actor, ctx.db.scalars(query.limit(limit).offset(offset)).all())


def _sort_key(actor: Actor | None, sort: str):
    """Return the column to sort a listing by; size is that of the version the actor sees."""
    if sort == "modified":
        return Node.updated_at
    if sort == "size":
        return (
            select(Version.size)
            .where(Version.node_id == Node.id, readable_by(actor))
            .order_by(Version.number.desc())
            .limit(1)
            .correlate(Node)
            .scalar_subquery()
        )
    return Node.sort_key  # Lao dictionary order (gshare.core.collation)


def visible_nodes(actor: Actor | None, scope):
    """Select the live nodes matching scope: folders, and files with a version the actor sees."""
    has_version = select(Version.id).where(Version.node_id == Node.id, readable_by(actor))
    return select(Node).where(
        scope, Node.deleted_at.is_(None), or_(Node.kind == NodeKind.FOLDER, has_version.exists())
    )


def with_versions(db, actor: Actor | None, nodes: Sequence[Node]) -> list[Entry]:
    """Pair each node with the newest version the actor may see (one query for all)."""
    files = [n.id for n in nodes if n.kind == NodeKind.FILE]
    newest: dict[int, Version] = {}
    for chunk in (files[i : i + 5000] for i in range(0, len(files), 5000)):
        query = (
            select(Version)
            .where(Version.node_id.in_(chunk), readable_by(actor))
            .order_by(Version.node_id, Version.number.desc())
        )
        for version in db.scalars(query):
            newest.setdefault(version.node_id, version)
    return [Entry(n, newest.get(n.id)) for n in nodes]


def list_clean(
    ctx: Context, folder: Node, sort: str = "name", limit: int | None = None, offset: int = 0
) -> list[Entry]:
    """List a folder with clean versions only, unchecked (a public link's token is the grant)."""
    query = visible_nodes(None, Node.parent_id == folder.id)
    query = query.order_by(Node.kind.desc(), _sort_key(None, sort), Node.id)
    return with_versions(ctx.db, None, ctx.db.scalars(query.limit(limit).offset(offset)).all())
