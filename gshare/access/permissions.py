"""Who may do what: roles, the actions they allow, inheritance down the tree, one `require`.

Every service asks `require(db, actor, action, node)` before doing anything. A person with no
role at all on a node gets NotFound (the item does not exist for them); a person with some role
but not this action gets PermissionDenied.

What a person sees of a whole space at once is in visibility.py; which versions they may read
(the scan gate) in gate.py.
"""

from __future__ import annotations

import enum

from sqlalchemy import bindparam, literal, or_, select
from sqlalchemy.orm import Session

from gshare.core.actor import Actor
from gshare.core.db import run
from gshare.core.errors import NotFound, PermissionDenied
from gshare.core.models import Department, Grant, Node, Space, SpaceKind, User, UserRole


class Role(enum.StrEnum):
    UPLOADER = "uploader"
    VIEWER = "viewer"
    EDITOR = "editor"
    MANAGER = "manager"


class Action(enum.StrEnum):
    SEE = "see"  # see the item and list a folder
    READ = "read"  # download
    UPLOAD = "upload"  # add files (a new file or a new version)
    EDIT = "edit"  # create folders, rename, move, copy into, delete, restore
    SHARE = "share"  # grant and revoke roles, create and revoke links


CHAIN_CACHE = "gshare.department_chains"

RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.MANAGER: 3}

ALLOWED: dict[Role, frozenset[Action]] = {
    Role.UPLOADER: frozenset({Action.UPLOAD}),
    Role.VIEWER: frozenset({Action.SEE, Action.READ}),
    Role.EDITOR: frozenset({Action.SEE, Action.READ, Action.UPLOAD, Action.EDIT}),
    Role.MANAGER: frozenset(Action),
}

SEEING = frozenset(role for role, actions in ALLOWED.items() if Action.SEE in actions)


def best_role(roles) -> Role | None:
    """Return the highest of several roles; uploader only wins when nothing else applies."""
    ranked = [Role(r) for r in roles if Role(r) in RANK]
    if ranked:
        return max(ranked, key=RANK.__getitem__)
    return Role.UPLOADER if Role.UPLOADER in {Role(r) for r in roles} else None


def effective_role(db: Session, actor: Actor | None, node: Node) -> Role | None:
    """Return the actor's role on the node: the highest of implicit and granted roles."""
    if actor is None or actor.disabled:
        return None
    if actor.is_operator:
        return Role.MANAGER
    roles: set[Role | str] = set(_space_roles(db, actor, node.space_id))
    if Role.MANAGER in roles:
        return Role.MANAGER  # no grant gives more: no need to look
    roles.update(_granted_roles(db, actor, [*node.ancestor_ids, node.id]))
    return best_role(roles)


def is_manager(db: Session, actor: Actor | None, node: Node) -> bool:
    """Tell whether the actor manages the node (shares it, grants roles on it, or runs the
    project space it is the top of)."""
    return effective_role(db, actor, node) == Role.MANAGER


def role_allows(role: Role | str, action: Action) -> bool:
    """Tell whether a role allows an action (an uploader does not see what is in a folder, so
    a file of theirs never replaces one that is there)."""
    return action in ALLOWED[Role(role)]


def allowed_actions(db: Session, actor: Actor | None, node: Node) -> frozenset[Action]:
    """Return what the actor may do to the node (templates use this to hide buttons)."""
    role = effective_role(db, actor, node)
    return ALLOWED[role] if role else frozenset()


def require(db: Session, actor: Actor | None, action: Action, node: Node) -> Role:
    """Raise NotFound or PermissionDenied unless the actor may do the action to the node."""
    role = effective_role(db, actor, node)
    if role is None:
        raise NotFound()
    if action not in ALLOWED[role]:
        raise PermissionDenied(f"Your role here ({role}) does not allow this ({action}).")
    return role


def managers_of(db: Session, node: Node) -> set[int]:
    """Return the ids of the people who manage a node (to tell them what happens to it)."""
    space = db.get(Space, node.space_id)
    ids = {space.owner_id} if space.owner_id else set()
    if space.kind == SpaceKind.DEPARTMENT:
        ids.update(
            db.scalars(
                select(User.id).where(
                    User.role == UserRole.DEPARTMENT_ADMIN,
                    User.disabled.is_(False),
                    User.department_id.in_(department_chain(db, space.department_id)),
                )
            )
        )
    ids.update(
        db.scalars(
            select(Grant.user_id).where(
                Grant.node_id.in_([*node.ancestor_ids, node.id]),
                Grant.role == Role.MANAGER,
                Grant.user_id.is_not(None),
            )
        )
    )
    return ids


def department_chain(db: Session, department_id: int) -> list[int]:
    """Return the department's id followed by the ids of the departments above it (one query
    whatever the depth; cached for the unit of work; departments.move_department clears the
    cache)."""
    cache = db.info.setdefault(CHAIN_CACHE, {})
    if department_id not in cache:
        rows = run(db, _CHAIN_ROWS, {"department": department_id}).all()
        chain = [department_id] if department_id is not None else []
        for _, parent_id in sorted(rows):
            if parent_id is None or parent_id in chain:
                break  # the top, or a loop (move_department refuses those)
            chain.append(parent_id)
        cache[department_id] = chain
    return cache[department_id]


def administers_department(db: Session, actor: Actor, department_id: int) -> bool:
    """Return whether the actor is a department administrator of this department or one
    above it (system administrators are not: they have no implicit access to files)."""
    return (
        not actor.disabled
        and actor.role == UserRole.DEPARTMENT_ADMIN
        and actor.department_id in department_chain(db, department_id)
    )


def _space_roles(db: Session, actor: Actor, space_id: int) -> list[Role]:
    space = db.get(Space, space_id)
    if space.owner_id == actor.id and space.kind in (SpaceKind.PERSONAL, SpaceKind.PROJECT):
        return [Role.MANAGER]
    if space.kind != SpaceKind.DEPARTMENT:
        return []
    if actor.role == UserRole.DEPARTMENT_ADMIN and administers_department(
        db, actor, space.department_id
    ):
        return [Role.MANAGER]
    return [Role.EDITOR] if actor.department_id == space.department_id else []


def _granted_roles(db: Session, actor: Actor, node_ids: list[int]) -> list[str]:
    params = {"nodes": node_ids, "user": actor.id, "department": actor.department_id}
    return list(run(db, _GRANTED, params).scalars())


# The departments from the person's (bindparam "department") up to the top: (depth, id,
# parent_id) rows, one query whatever the depth. The depth bound ends a loop in the tree, which
# move_department refuses but a hand-edited database could hold.
_MAX_DEPTH = 64
_chain = (
    select(literal(0).label("depth"), Department.id, Department.parent_id)
    .where(Department.id == bindparam("department"))
    .cte("department_chain", recursive=True)
)
_chain = _chain.union_all(
    select(_chain.c.depth + 1, Department.id, Department.parent_id)
    .join(_chain, Department.id == _chain.c.parent_id)
    .where(_chain.c.depth < _MAX_DEPTH)
)
_CHAIN_ROWS = select(_chain.c.depth, _chain.c.parent_id)

# The departments above the person's, as a subquery of the same parameter.
_ABOVE = select(_chain.c.parent_id).where(_chain.c.parent_id.is_not(None))


def applies_to_grantee(above):
    """Return the condition on grants that give a person a role: theirs, their department's,
    and a department's above theirs (`above`) given "with sub-departments"."""
    return or_(
        Grant.user_id == bindparam("user"),
        Grant.department_id == bindparam("department"),
        Grant.department_id.in_(above) & Grant.include_subdepartments,
    )


# One rule, with the person as parameters (grantee_params), for role checks here and for
# "shared with me" (visibility.shared_with).
APPLIES_TO_GRANTEE = applies_to_grantee(bindparam("above", expanding=True))


def grantee_params(db: Session, actor: Actor) -> dict:
    """Return the parameters of APPLIES_TO_GRANTEE for a person."""
    chain = department_chain(db, actor.department_id)
    return {"user": actor.id, "department": actor.department_id, "above": chain[1:]}


# Built once: every request asks it, and building a statement costs more than running it here.
# The departments above the person's are found in the same query (one round trip, not two).
_GRANTED = select(Grant.role).where(
    Grant.node_id.in_(bindparam("nodes", expanding=True)), applies_to_grantee(_ABOVE)
)
