"""Folders and the shape of the tree: create, rename, move, copy.

Rename and move change rows only, whatever the size of the files: blobs never move.
"""

from __future__ import annotations

from sqlalchemy import func, literal, select, update

from gshare.access.gate import current_version
from gshare.access.permissions import Action
from gshare.activity import audit
from gshare.core.actor import OPERATOR, Actor
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, InvalidMove, NameTaken
from gshare.core.models import Node, NodeKind, Space, Version, utcnow
from gshare.core.names import clean_name, search_key
from gshare.core.paths import child_named
from gshare.files import content
from gshare.files.lookup import get_node, list_folder
from gshare.org import quotas
from gshare.scanning.policy import refuse_blocked_ending


def create_folder(ctx: Context, actor: Actor, parent: Node, name: str) -> Node:
    """Create a folder inside a folder."""
    parent = get_node(ctx, actor, parent.id, Action.EDIT)
    name = _free_or_raise(ctx, actor, parent, clean_name(name))
    folder = Node(
        space_id=parent.space_id,
        parent_id=parent.id,
        path=parent.child_path,
        kind=NodeKind.FOLDER,
        name=name,
        search_name=search_key(name),
        created_by=actor.id,
    )
    ctx.db.add(folder)
    ctx.db.flush()
    audit.record(ctx, actor, "folder.create", node=folder)
    return folder


def ensure_folders(ctx: Context, actor: Actor, root: Node, path: str) -> Node:
    """Return the folder at a path below root, creating missing folders on the way."""
    folder = root
    for part in (p for p in path.split("/") if p):
        existing = child_named(ctx.db, folder, clean_name(part))
        if existing is not None and not existing.is_folder:
            if _seen_by(ctx, actor, existing):
                raise NameTaken(f"'{part}' is a file, not a folder.")
            existing = None  # a file hidden from this person: create_folder moves it aside
        folder = existing or create_folder(ctx, actor, folder, part)
    return folder


def rename_node(ctx: Context, actor: Actor, node_id: int, new_name: str) -> Node:
    """Rename a folder or file in place."""
    node = get_node(ctx, actor, node_id, Action.EDIT)
    _refuse_root(node, "renamed")
    new_name = clean_name(new_name)
    if new_name == node.name:
        return node
    if not node.is_folder:
        refuse_blocked_ending(ctx.config.antivirus, node.name, new_name)
    parent = ctx.db.get(Node, node.parent_id)
    _free_or_raise(ctx, actor, parent, new_name)
    old_name = node.name
    node.name, node.search_name, node.updated_at = new_name, search_key(new_name), utcnow()
    ctx.db.flush()
    audit.record(ctx, actor, "node.rename", node=node, old_name=old_name)
    return node


def move_node(
    ctx: Context, actor: Actor, node_id: int, target_id: int, new_name: str | None = None
) -> Node:
    """Move a folder or file into another folder, possibly of another space."""
    node = get_node(ctx, actor, node_id, Action.EDIT)
    target = get_node(ctx, actor, target_id, Action.EDIT)
    _refuse_root(node, "moved")
    if not target.is_folder:
        raise InvalidMove("Items can only be moved into a folder.")
    if target.id == node.id or node.id in target.ancestor_ids:
        raise InvalidMove("A folder cannot be moved into itself or a folder inside it.")
    name = _free_or_raise(ctx, actor, target, clean_name(new_name or node.name))
    if not node.is_folder:
        refuse_blocked_ending(ctx.config.antivirus, node.name, name)
    relocate_node(ctx.db, node, target, name)
    audit.record(ctx, actor, "node.move", node=node)
    return node


def move_nodes(ctx: Context, actor: Actor, node_ids: list[int], target_id: int) -> list[Node]:
    """Move several folders and files into one folder, all or none (the caller rolls back)."""
    return [move_node(ctx, actor, node_id, target_id) for node_id in _chosen(node_ids)]


def copy_nodes(ctx: Context, actor: Actor, node_ids: list[int], target_id: int) -> list[Node]:
    """Copy several folders and files into one folder, all or none (the caller rolls back)."""
    return [copy_node(ctx, actor, node_id, target_id) for node_id in _chosen(node_ids)]


def _chosen(node_ids: list[int]) -> list[int]:
    if not node_ids:
        raise InvalidInput("Choose at least one file or folder.")
    return list(dict.fromkeys(node_ids))


def relocate_node(db, node: Node, target: Node, name: str) -> None:
    """Put a node (and everything below it) into a folder under a name; no checks, rows only."""
    if target.space_id != node.space_id:
        _move_bytes_between_spaces(db, node, target.space_id)
    old_path, new_path = node.child_path, f"{target.child_path}{node.id}/"
    db.execute(
        update(Node)
        .where(Node.path.startswith(old_path))
        .values(
            path=literal(new_path) + func.substr(Node.path, len(old_path) + 1),
            space_id=target.space_id,
        )
        .execution_options(synchronize_session=False)
    )
    node.parent_id, node.path, node.space_id = target.id, target.child_path, target.space_id
    node.name, node.search_name, node.updated_at = name, search_key(name), utcnow()
    db.flush()
    db.expire_all()


def copy_node(
    ctx: Context, actor: Actor, node_id: int, target_id: int, new_name: str | None = None
) -> Node:
    """Copy a file (its current version) or a folder (what the actor sees in it) into a folder."""
    node = get_node(ctx, actor, node_id, Action.READ)
    target = get_node(ctx, actor, target_id, Action.EDIT)
    if not target.is_folder:
        raise InvalidMove("Items can only be copied into a folder.")
    if node.is_folder and (target.id == node.id or node.id in target.ancestor_ids):
        raise InvalidMove("A folder cannot be copied into itself or a folder inside it.")
    name = content.free_name(ctx.db, target, clean_name(new_name or node.name))
    copy = _copy_tree(ctx, actor, node, target, name)
    audit.record(ctx, actor, "node.copy", node=copy, source_id=node.id)
    return copy


def _copy_tree(ctx: Context, actor: Actor, node: Node, target: Node, name: str) -> Node:
    if not node.is_folder:
        copy = content.add_file_node(ctx.db, actor, target, name)
        content.copy_version(ctx, actor, current_version(ctx.db, actor, node), copy)
        return copy
    copy = Node(
        space_id=target.space_id,
        parent_id=target.id,
        path=target.child_path,
        kind=NodeKind.FOLDER,
        name=name,
        search_name=search_key(name),
        created_by=actor.id,
    )
    ctx.db.add(copy)
    ctx.db.flush()
    for entry in list_folder(ctx, actor, node):
        _copy_tree(ctx, actor, entry.node, copy, entry.node.name)
    return copy


def _move_bytes_between_spaces(db, node: Node, space_id: int) -> None:
    ids = select(Node.id).where((Node.id == node.id) | Node.path.startswith(node.child_path))
    size = db.scalar(
        select(func.coalesce(func.sum(Version.size), 0)).where(Version.node_id.in_(ids))
    )
    quotas.charge(db, db.get(Space, space_id), size)
    quotas.refund(db, node.space_id, size)


def _free_or_raise(ctx: Context, actor: Actor, folder: Node, name: str) -> str:
    """Return the name if it is free in the folder for this person, else raise NameTaken.

    A file they cannot see (someone else's upload being scanned or in quarantine) is not
    theirs to know of: it steps aside to a numbered name, kept whole for its uploader and the
    admins, so the answer is the same as for a free name."""
    existing = child_named(ctx.db, folder, name)
    if existing is None:
        return name
    if existing.is_folder or _seen_by(ctx, actor, existing):
        raise NameTaken(f"'{name}' already exists in this folder.")
    _step_aside(ctx, folder, existing)
    return name


def _seen_by(ctx: Context, actor: Actor, node: Node) -> bool:
    """Tell whether a file exists for this person (a version they may read)."""
    return current_version(ctx.db, actor, node) is not None


def _step_aside(ctx: Context, folder: Node, node: Node) -> None:
    old_name, new_name = node.name, content.free_name(ctx.db, folder, node.name)
    node.name, node.search_name = new_name, search_key(new_name)
    ctx.db.flush()
    audit.record(
        ctx, OPERATOR, "node.rename", node=node, old_name=old_name, reason="name_taken_unseen"
    )


def _refuse_root(node: Node, verb: str) -> None:
    if node.parent_id is None:
        raise InvalidMove(f"The top folder of a space cannot be {verb}.")
