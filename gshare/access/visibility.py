"""What of a space a person sees: all of it, or the parts shared with them and the ways in.

`permissions.effective_role` answers for one node; this module answers for a whole space, for
what lists many nodes at once (the S3 endpoint's buckets and keys, "Shared with me").

A person sees a whole space when their role on its top folder lets them see it. Otherwise they
see only the parts shared with them with a role that lets them see, and the folders above those
parts just as a way in ("traverse"): their names, nothing else in them. A space in which they
hold any role at all, or where anything is shared with them, is one they see something of.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from gshare.access.gate import current_version
from gshare.access.permissions import (
    APPLIES_TO_GRANTEE,
    SEEING,
    Role,
    effective_role,
    grantee_params,
)
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.models import Grant, Node, Space, SpaceKind, UserRole
from gshare.core.paths import in_trash, root_of


@dataclass(frozen=True)
class SpaceView:
    """A space as one person sees it: all of it, or only what is shared with them."""

    space: Space
    root: Node
    role: Role | None  # their role on the space's top folder
    shared: frozenset[int] = frozenset()  # nodes shared with them with a seeing role
    traverse: frozenset[int] = frozenset()  # the folders above those: ways in, nothing more

    @property
    def whole(self) -> bool:
        """Tell whether the person sees all of the space."""
        return self.role in SEEING

    def sees(self, node: Node) -> bool:
        """Return whether the person sees this node's content (not just passes through it)."""
        return self.whole or bool(self.shared.intersection([*node.ancestor_ids, node.id]))


def visible_spaces(ctx: Context, actor: Actor) -> list[SpaceView]:
    """Return the spaces the person sees anything of, each as they see it, by slug."""
    shared = shared_with(ctx, actor)
    spaces = ctx.db.scalars(
        select(Space).where(Space.id.in_(_candidates(ctx.db, actor, shared))).order_by(Space.slug)
    )
    views = (_view(ctx, actor, space, lambda: shared) for space in spaces)
    return [view for view in views if view is not None]


def space_view(
    ctx: Context, actor: Actor, space: Space, root: Node | None = None
) -> SpaceView | None:
    """Return the space as the person sees it, or None when they see nothing of it (root: its
    root folder, when the caller loaded it already)."""
    return _view(ctx, actor, space, lambda: shared_with(ctx, actor), root)


def shared_with(ctx: Context, actor: Actor) -> list[tuple[Node, Grant]]:
    """Return the live items shared with the actor directly or through their department
    (files only when the actor may read a version of them: the scan gate)."""
    query = (
        select(Node, Grant)
        .join(Grant, Grant.node_id == Node.id)
        .where(APPLIES_TO_GRANTEE)
        .order_by(Grant.created_at.desc())
    )
    rows = ctx.db.execute(query, grantee_params(ctx.db, actor))
    return [
        (n, g)
        for n, g in rows
        if not in_trash(ctx.db, n)
        and (n.is_folder or current_version(ctx.db, actor, n) is not None)
    ]


def _candidates(db, actor: Actor, shared: list[tuple[Node, Grant]]) -> set[int]:
    """Return the ids of the spaces the person may see something of (a few more, not fewer)."""
    ids = set(
        db.scalars(
            select(Space.id).where(
                or_(Space.owner_id == actor.id, Space.department_id == actor.department_id)
            )
        )
    )
    if actor.role == UserRole.DEPARTMENT_ADMIN:
        ids.update(db.scalars(select(Space.id).where(Space.kind == SpaceKind.DEPARTMENT)))
    ids.update(node.space_id for node, _ in shared)
    return ids


def _view(
    ctx: Context, actor: Actor, space: Space, shared_with, root: Node | None = None
) -> SpaceView | None:
    root = root or root_of(ctx.db, space)
    role = effective_role(ctx.db, actor, root)
    if role in SEEING:
        return SpaceView(space, root, role)
    shared = [(n, g) for n, g in shared_with() if n.space_id == space.id]
    if role is None and not shared:
        return None
    seeing = [n for n, g in shared if g.role in SEEING]
    return SpaceView(
        space,
        root,
        role,
        frozenset(n.id for n in seeing),
        frozenset(i for n in seeing for i in n.ancestor_ids),
    )
