"""Search by name: everything a person sees, across their spaces and shares, or below a folder.

A name matches when it contains every word of the query, in any order, ignoring case (the
search key of gshare.core.names). Lao is written without spaces between words, so a Lao word
matches anywhere inside a name. What a person sees is the access package's answer
(visibility.visible_spaces; the scan gate's readable_by, through lookup.with_versions);
trashed items never match.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select

from gshare.access import visibility
from gshare.access.permissions import Action, require
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.models import Node, Space
from gshare.core.names import search_key
from gshare.files.lookup import Entry, with_versions

MAX_WORDS = 8
PAGE = 50


@dataclass(frozen=True)
class Hit:
    """A found item, where it is (space, then folders), and the folder to open it in."""

    entry: Entry
    location: tuple[str, ...]
    folder_id: int | None  # None when the person may not open the folder it is in


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    more: bool


def search_names(
    ctx: Context,
    actor: Actor,
    text: str,
    within: Node | None = None,
    limit: int = PAGE,
    offset: int = 0,
) -> Results:
    """Find the items whose name holds every word of the text, everywhere or below a folder."""
    words = search_key(text).split()[:MAX_WORDS]
    if not words:
        return Results([], False)
    scope, opens = _below(ctx, actor, within) if within else _everywhere(ctx, actor)
    match = and_(*(Node.search_name.like(f"%{_escaped(w)}%", escape="\\") for w in words))
    query = select(Node).where(scope, match, Node.parent_id.is_not(None), Node.deleted_at.is_(None))
    entries = _seen(ctx.db, actor, query.order_by(Node.sort_key, Node.id), limit + 1, offset)
    return Results(_located(ctx.db, entries[:limit], opens), len(entries) > limit)


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _below(ctx: Context, actor: Actor, folder: Node):
    """Scope to what is below a folder the person sees (all of it: roles are inherited)."""
    require(ctx.db, actor, Action.SEE, folder)
    return Node.path.startswith(folder.child_path), lambda node: True


def _everywhere(ctx: Context, actor: Actor):
    """Scope to the spaces the person sees whole and the parts of others shared with them."""
    views = visibility.visible_spaces(ctx, actor)
    whole = [v.space.id for v in views if v.whole]
    shared = {i for v in views if not v.whole for i in v.shared}
    tops = ctx.db.execute(select(Node.id, Node.path).where(Node.id.in_(shared))).all()
    scope = or_(
        Node.space_id.in_(whole) if whole else false(),
        *(Node.path.startswith(f"{path}{node_id}/") for node_id, path in tops),
        Node.id.in_(shared) if shared else false(),
    )
    wholes = set(whole)
    return scope, lambda node: node.space_id in wholes or not shared.isdisjoint(node.ancestor_ids)


def _seen(db, actor: Actor, query, count: int, offset: int) -> list[Entry]:
    """Run the query a chunk at a time, keeping what the person sees: folders, and files with
    a version they may read (the scan gate), neither inside a trashed folder. Asking the gate
    of a chunk's files at once is faster than asking it of every name in the scope."""
    found: list[Entry] = []
    skipped, start, chunk = 0, 0, max(count + offset, 100)
    while len(found) < count:
        nodes = db.scalars(query.limit(chunk).offset(start)).all()
        trashed = _trashed(db, {i for n in nodes for i in n.ancestor_ids})
        live = [n for n in nodes if trashed.isdisjoint(n.ancestor_ids)]
        for entry in with_versions(db, actor, live):
            if entry.node.is_folder or entry.version is not None:
                if skipped < offset:
                    skipped += 1
                else:
                    found.append(entry)
        if len(nodes) < chunk:
            break
        start += chunk
    return found[:count]


def _trashed(db, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(db.scalars(select(Node.id).where(Node.id.in_(ids), Node.deleted_at.is_not(None))))


def _located(db, entries: list[Entry], opens) -> list[Hit]:
    """Name the space and the folders above each item (one query for all)."""
    above = {i for e in entries for i in e.node.ancestor_ids[1:]}
    names = dict(db.execute(select(Node.id, Node.name).where(Node.id.in_(above))).all())
    space_ids = {e.node.space_id for e in entries}
    spaces = dict(db.execute(select(Space.id, Space.name).where(Space.id.in_(space_ids))).all())
    return [
        Hit(
            e,
            (spaces[e.node.space_id], *(names[i] for i in e.node.ancestor_ids[1:])),
            e.node.parent_id if opens(e.node) else None,
        )
        for e in entries
    ]
