"""The trash: delete (recoverable), restore, purge (for good), and expiry after retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from gshare.access.permissions import Action, allowed_actions
from gshare.activity import audit
from gshare.core.actor import OPERATOR, Actor
from gshare.core.blobs import thumbnail_key
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, InvalidMove
from gshare.core.models import Grant, Node, ShareLink, Version, utcnow
from gshare.core.paths import in_trash
from gshare.files.content import free_name
from gshare.files.folders import relocate_node
from gshare.files.lookup import get_node
from gshare.org import quotas


def delete_node(ctx: Context, actor: Actor, node_id: int) -> Node:
    """Move a folder or file to the trash of its space."""
    return move_to_trash(ctx, actor, get_node(ctx, actor, node_id, Action.EDIT))


def delete_nodes(ctx: Context, actor: Actor, node_ids: list[int]) -> list[Node]:
    """Move several folders and files to the trash, all or none (the caller rolls back)."""
    if not node_ids:
        raise InvalidInput("Choose at least one file or folder.")
    return [delete_node(ctx, actor, node_id) for node_id in dict.fromkeys(node_ids)]


def move_to_trash(ctx: Context, actor: Actor, node: Node) -> Node:
    """Move a node the actor was checked for EDIT on to the trash (delete_node finds and
    checks it)."""
    if node.parent_id is None:
        raise InvalidMove("The top folder of a space cannot be deleted.")
    node.deleted_at, node.deleted_by = utcnow(), actor.id
    ctx.db.flush()
    audit.record(ctx, actor, "node.delete", node=node)
    return node


def list_trash(ctx: Context, actor: Actor, space_id: int) -> list[Node]:
    """Return the deleted items of a space the actor may restore, newest first."""
    rows = ctx.db.scalars(
        select(Node)
        .where(Node.space_id == space_id, Node.deleted_at.is_not(None))
        .order_by(Node.deleted_at.desc())
    )
    return [node for node in rows if _may_edit(ctx.db, actor, node)]


def restore_node(ctx: Context, actor: Actor, node_id: int) -> Node:
    """Bring an item back from the trash to its folder (or the space's top if that is gone)."""
    node = get_node(ctx, actor, node_id, Action.EDIT, trashed=True)
    if node.deleted_at is None:
        raise InvalidMove("Restore the deleted folder that contains this item.")
    parent = ctx.db.get(Node, node.parent_id)
    if in_trash(ctx.db, parent):
        parent = ctx.db.scalar(
            select(Node).where(Node.space_id == node.space_id, Node.parent_id.is_(None))
        )
    node.name = free_name(ctx.db, parent, node.name)
    node.deleted_at = node.deleted_by = None
    relocate_node(ctx.db, node, parent, node.name)
    audit.record(ctx, actor, "node.restore", node=node)
    return node


def restore_hidden(ctx: Context, actor: Actor, node: Node) -> Node:
    """Bring a file back from the trash with the deleted folders that hold it, outermost first
    (each restored as restore_node does, checked as it checks)."""
    above = ctx.db.scalars(
        select(Node).where(Node.id.in_(node.ancestor_ids), Node.deleted_at.is_not(None))
    )
    for folder in sorted(above, key=lambda n: len(n.path)):
        restore_node(ctx, actor, folder.id)
    if node.deleted_at is not None:
        restore_node(ctx, actor, node.id)
    return node


def purge_node(ctx: Context, actor: Actor, node_id: int) -> None:
    """Delete an item in the trash for good, with its versions; blobs go after the commit."""
    purge(ctx, actor, get_node(ctx, actor, node_id, Action.EDIT, trashed=True))


def purge(ctx: Context, actor: Actor, node: Node) -> None:
    """Delete for good a trashed node the actor was checked for EDIT on, recorded as theirs."""
    audit.record(ctx, actor, "node.purge", node=node)
    purge_subtree(ctx, node)


def purge_expired(ctx: Context, older_than: datetime) -> int:
    """Purge every item that has been in the trash since before the given time."""
    expired = list(ctx.db.scalars(select(Node).where(Node.deleted_at < older_than)))
    for node in expired:
        audit.record(ctx, OPERATOR, "node.purge", node=node, reason="retention")
        purge_subtree(ctx, node)
    return len(expired)


def retention_cutoff(config) -> datetime:
    """Return the time before which trashed items are purged."""
    return utcnow() - timedelta(days=config.retention.trash_days)


def purge_subtree(ctx: Context, node: Node) -> None:
    """Delete a node, everything below it and their versions; blobs go after the commit."""
    subtree = select(Node.id).where((Node.id == node.id) | Node.path.startswith(node.child_path))
    ids = list(ctx.db.scalars(subtree))
    versions = list(
        ctx.db.execute(
            select(Version.blob_key, Version.size, Version.thumbnail).where(
                Version.node_id.in_(ids)
            )
        )
    )
    quotas.refund(ctx.db, node.space_id, sum(size for _, size, _ in versions))
    for model, column in (
        (Version, Version.node_id),
        (Grant, Grant.node_id),
        (ShareLink, ShareLink.node_id),
    ):
        ctx.db.execute(delete(model).where(column.in_(ids)))
    ctx.db.execute(delete(Node).where(Node.id.in_(ids)))
    ctx.db.expire_all()
    for key, _, thumbnail in versions:
        ctx.delete_blob_after_commit(key)
        if thumbnail is not None:  # "none" too: one made by a request racing the refusal
            ctx.delete_blob_after_commit(thumbnail_key(key))


def _may_edit(db, actor: Actor, node: Node) -> bool:
    return Action.EDIT in allowed_actions(db, actor, node)
