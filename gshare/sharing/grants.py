"""Sharing: grant and revoke roles on folders and files to people and departments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gshare.access.permissions import Action, Role
from gshare.activity import audit, notifications
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, NotFound, PermissionDenied
from gshare.core.models import Department, Grant, Node, User
from gshare.files.lookup import get_node
from gshare.org import departments, grantees

SHARED_NOTICE = "share.granted"


def grant_role(
    ctx: Context,
    actor: Actor,
    node_id: int,
    role: Role | str,
    *,
    user: User | None = None,
    department: Department | None = None,
    include_subdepartments: bool = False,
) -> Grant:
    """Give a person or a department a role on a folder or file (replacing an earlier one)."""
    node = get_node(ctx, actor, node_id, Action.SHARE)
    role = _check_role(role)
    if (user is None) == (department is None):
        raise InvalidInput("Share with exactly one person or one department.")
    grant = _existing(ctx.db, node, user, department) or Grant(
        node_id=node.id,
        user_id=getattr(user, "id", None),
        department_id=getattr(department, "id", None),
    )
    grant.role, grant.created_by = role, actor.id
    grant.include_subdepartments = bool(department and include_subdepartments)
    ctx.db.add(grant)
    ctx.db.flush()
    audit.record(
        ctx,
        actor,
        "share.grant",
        node=node,
        role=str(role),
        user=getattr(user, "username", None),
        department_id=grant.department_id,
        include_subdepartments=grant.include_subdepartments,
    )
    _tell_grantees(ctx, actor, node, grant, user, department)
    return grant


def shared_item(ctx: Context, actor: Actor, node_id: int | None) -> Node | None:
    """Return the item a share notice is about if the reader may see it now, else None (a
    file not yet clean to them, taken back, or deleted: the notice then names nothing)."""
    for action in (Action.SEE, Action.UPLOAD):  # an uploader may only add files to a folder
        try:
            return get_node(ctx, actor, node_id or 0, action)
        except (NotFound, PermissionDenied):
            continue
    return None


def _tell_grantees(ctx: Context, actor: Actor, node: Node, grant: Grant, user, department):
    """Leave a notice for the person, or each active member of the department; the item's
    name is looked up when the notice is read, through the scan gate."""
    if user is not None:
        people = [user.id]
    else:
        people = grantees.department_member_ids(ctx, department, grant.include_subdepartments)
    via = departments.full_name(ctx, department) if department is not None else None
    notifications.notify_many(
        ctx,
        [person for person in people if person != actor.id],
        SHARED_NOTICE,
        node_id=node.id,
        role=str(grant.role),
        by=getattr(actor, "display_name", None),
        via=via,
    )


def revoke_grant(ctx: Context, actor: Actor, grant_id: int) -> None:
    """Take back a grant."""
    grant = ctx.db.get(Grant, grant_id)
    if grant is None:
        raise NotFound()
    node = get_node(ctx, actor, grant.node_id, Action.SHARE)
    audit.record(
        ctx,
        actor,
        "share.revoke",
        node=node,
        role=grant.role,
        user_id=grant.user_id,
        department_id=grant.department_id,
    )
    ctx.db.delete(grant)
    ctx.db.flush()


@dataclass(frozen=True)
class Access:
    """A grant as shown on a node: inherited when it sits on a folder above."""

    grant: Grant
    inherited_from: Node | None


def list_access(ctx: Context, actor: Actor, node_id: int) -> list[Access]:
    """Return the grants that apply to a node: its own and those inherited from above."""
    node = get_node(ctx, actor, node_id, Action.SEE)
    ids = [*node.ancestor_ids, node.id]
    grants = ctx.db.scalars(select(Grant).where(Grant.node_id.in_(ids)).order_by(Grant.id))
    return [
        Access(g, None if g.node_id == node.id else ctx.db.get(Node, g.node_id)) for g in grants
    ]


def _check_role(role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"Unknown role '{role}'; use viewer, editor, manager or uploader."
        ) from None


def _existing(db, node: Node, user, department) -> Grant | None:
    column, value = (
        (Grant.user_id, user.id) if user is not None else (Grant.department_id, department.id)
    )
    return db.scalar(select(Grant).where(Grant.node_id == node.id, column == value))
