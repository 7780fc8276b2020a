"""Departments: the tree of ministry > department > division, each with its own space."""

from __future__ import annotations

from sqlalchemy import select

from gshare.access.accounts import require_system_admin
from gshare.access.permissions import CHAIN_CACHE, department_chain
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.collation import sort_by_name
from gshare.core.context import Context
from gshare.core.errors import Conflict, InvalidInput, NotFound
from gshare.core.models import Department, Space, SpaceKind
from gshare.core.names import clean_name
from gshare.org import spaces


def add_department(
    ctx: Context, actor: Actor, name: str, parent: Department | None = None, slug: str | None = None
) -> Department:
    """Create a department under a parent (or at the top) together with its space."""
    require_system_admin(actor)
    name = clean_name(name)
    parent_id = parent.id if parent else None
    if _sibling_named(ctx.db, parent_id, name) is not None:
        raise Conflict(f"A department named '{name}' already exists there.")
    department = Department(name=name, parent_id=parent_id)
    ctx.db.add(department)
    ctx.db.flush()
    spaces.create_space(
        ctx,
        kind=SpaceKind.DEPARTMENT,
        name=name,
        department_id=department.id,
        slug=slug or spaces.slug_from(name, f"dept-{department.id}"),
        quota_bytes=spaces.default_quota(ctx.config, SpaceKind.DEPARTMENT),
    )
    audit.record(ctx, actor, "department.add", target=full_name(ctx, department))
    return department


def rename_department(ctx: Context, actor: Actor, department: Department, name: str) -> None:
    """Rename a department (its space keeps its sync name)."""
    require_system_admin(actor)
    name = clean_name(name)
    if _sibling_named(ctx.db, department.parent_id, name) not in (None, department.id):
        raise Conflict(f"A department named '{name}' already exists there.")
    old = full_name(ctx, department)
    department.name = name
    department_space(ctx, department).name = name
    audit.record(ctx, actor, "department.rename", target=old, new_name=name)


def move_department(
    ctx: Context, actor: Actor, department: Department, parent: Department | None
) -> None:
    """Move a department under another one (never under itself or its own sub-departments)."""
    require_system_admin(actor)
    if parent is not None and department.id in department_chain(ctx.db, parent.id):
        raise InvalidInput("A department cannot be moved under itself or its sub-departments.")
    parent_id = parent.id if parent else None
    if _sibling_named(ctx.db, parent_id, department.name) not in (None, department.id):
        raise Conflict(f"A department named '{department.name}' already exists there.")
    department.parent_id = parent_id
    ctx.db.flush()
    ctx.db.info.pop(CHAIN_CACHE, None)
    audit.record(ctx, actor, "department.move", target=full_name(ctx, department))


def list_departments(ctx: Context) -> list[tuple[Department, str]]:
    """Return every department with its full name ('Ministry / Department'), in Lao
    dictionary order."""
    rows = [(d, full_name(ctx, d)) for d in ctx.db.scalars(select(Department))]
    return sort_by_name(rows, lambda row: row[1])


def find_department(ctx: Context, ref: str) -> Department:
    """Find a department by id, by full name ('Ministry / Department') or by its space's slug."""
    if ref.isdigit() and (department := ctx.db.get(Department, int(ref))):
        return department
    for department, name in list_departments(ctx):
        if name == ref or department.name == ref:
            return department
    space = ctx.db.scalar(
        select(Space).where(Space.slug == ref, Space.kind == SpaceKind.DEPARTMENT)
    )
    if space is not None:
        return ctx.db.get(Department, space.department_id)
    raise NotFound(f"No department '{ref}'.")


def full_name(ctx: Context, department: Department) -> str:
    """Return 'Ministry / Department / Division'."""
    names = [ctx.db.get(Department, i).name for i in department_chain(ctx.db, department.id)]
    return " / ".join(reversed(names))


def unit_kind(ctx: Context, department: Department) -> str:
    """Return what this unit is called at its level of the tree (`[org] unit_names`):
    'ministry', 'department', 'division', 'section', 'office' or the neutral 'unit'."""
    level = len(department_chain(ctx.db, department.id)) - 1
    names = ctx.config.org.unit_names
    return names[level] if level < len(names) else "unit"


def department_space(ctx: Context, department: Department) -> Space:
    """Return the department's space."""
    return ctx.db.scalar(select(Space).where(Space.department_id == department.id))


def _sibling_named(db, parent_id: int | None, name: str) -> int | None:
    parent_match = (
        Department.parent_id.is_(None) if parent_id is None else Department.parent_id == parent_id
    )
    return db.scalar(select(Department.id).where(parent_match, Department.name == name))
