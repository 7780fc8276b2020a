"""Spaces: one per department, one per person, and project spaces people create."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import delete, func, select, update

from gshare.access.accounts import require_system_admin
from gshare.access.permissions import (
    Action,
    allowed_actions,
    is_manager,
    require,
)
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.collation import sort_by_name
from gshare.core.config import GiB
from gshare.core.context import Context
from gshare.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gshare.core.models import (
    AccessKey,
    Grant,
    Node,
    NodeKind,
    ShareLink,
    Space,
    SpaceKind,
    UploadSession,
    User,
    utcnow,
)
from gshare.core.names import clean_name
from gshare.core.paths import root_of

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def check_slug(slug: str) -> str:
    """Return the slug if it is a valid S3 bucket name of ours, else raise InvalidInput."""
    if not _SLUG.match(slug) or "--" in slug:
        raise InvalidInput(
            "A space name for sync tools must be 3-63 characters: lowercase letters, digits "
            "and single hyphens, starting and ending with a letter or digit.",
            reason="space_name",
        )
    return slug


def slug_from(text: str, fallback: str) -> str:
    """Derive a bucket-safe slug from a name, or use the fallback when nothing Latin is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].strip("-")
    return slug if len(slug) >= 3 else fallback


def create_space(
    ctx: Context,
    *,
    kind: SpaceKind,
    name: str,
    slug: str,
    quota_bytes: int | None,
    department_id: int | None = None,
    owner: User | None = None,
) -> Space:
    """Create a space with its root folder."""
    check_slug(slug)
    if ctx.db.scalar(select(Space.id).where(Space.slug == slug)) is not None:
        raise Conflict(f"The space name '{slug}' is already taken.")
    space = Space(
        kind=kind,
        name=clean_name(name),
        slug=slug,
        quota_bytes=quota_bytes,
        department_id=department_id,
        owner_id=owner.id if owner else None,
    )
    ctx.db.add(space)
    ctx.db.flush()
    ctx.db.add(
        Node(
            space_id=space.id,
            parent_id=None,
            path="/",
            kind=NodeKind.FOLDER,
            name="",
            search_name="",
            created_by=owner.id if owner else None,
        )
    )
    ctx.db.flush()
    return space


def default_quota(config, kind: SpaceKind) -> int | None:
    """Return the configured default quota in bytes for a kind of space (None = unlimited)."""
    gb = config.quota.personal_gb if kind != SpaceKind.DEPARTMENT else config.quota.department_gb
    return int(gb * GiB) if gb else None


def create_project_space(ctx: Context, actor: User, name: str, slug: str) -> Space:
    """Create a space of the actor's own (a project, a committee) that they manage."""
    if not ctx.config.spaces.allow_user_spaces:
        raise PermissionDenied("Creating spaces of your own is turned off on this site.")
    space = create_space(
        ctx,
        kind=SpaceKind.PROJECT,
        name=name,
        slug=slug,
        owner=actor,
        quota_bytes=default_quota(ctx.config, SpaceKind.PROJECT),
    )
    audit.record(ctx, actor, "space.create", space_id=space.id, target=slug)
    return space


def managed_project_space(ctx: Context, actor: Actor, space: Space) -> Space | None:
    """Return the space if it is a project space the actor manages, else None."""
    return space if _managed_root(ctx.db, actor, space) is not None else None


def _managed_root(db, actor: Actor, space: Space) -> Node | None:
    if space.kind != SpaceKind.PROJECT:
        return None
    root = root_of(db, space)
    return root if is_manager(db, actor, root) else None


def _require_manager(db, actor: Actor, space: Space, message: str) -> Node:
    root = _managed_root(db, actor, space)
    if root is None:
        raise PermissionDenied(message)
    return root


def rename_project_space(ctx: Context, actor: Actor, space: Space, name: str) -> Space:
    """Change a project space's display name; its slug (the S3 bucket name) stays."""
    _require_manager(ctx.db, actor, space, "Only a project space you manage can be renamed.")
    old, space.name = space.name, clean_name(name)
    ctx.db.flush()
    audit.record(
        ctx,
        actor,
        "space.rename",
        space_id=space.id,
        target=space.slug,
        old_name=old,
        new_name=space.name,
    )
    return space


def delete_project_space(ctx: Context, actor: Actor, space: Space) -> None:
    """Delete an empty project space the actor manages (nothing in it, nothing in its trash)."""
    root = _require_manager(
        ctx.db, actor, space, "Only an empty project space you manage can be deleted."
    )
    count = ctx.db.scalar(select(func.count()).where(Node.space_id == space.id))
    uploads = ctx.db.scalar(select(func.count()).where(UploadSession.space_id == space.id))
    if count > 1 or uploads:
        raise InvalidInput(
            "The space is not empty (its trash and unfinished uploads count).", reason="not_empty"
        )
    audit.record(ctx, actor, "space.delete", space_id=space.id, target=space.slug)
    ctx.db.execute(
        update(AccessKey)
        .where(AccessKey.space_id == space.id)
        .values(space_id=None, revoked_at=func.coalesce(AccessKey.revoked_at, utcnow()))
    )
    for model in (Grant, ShareLink):
        ctx.db.execute(delete(model).where(model.node_id == root.id))
    ctx.db.execute(delete(Node).where(Node.space_id == space.id))
    ctx.db.execute(delete(Space).where(Space.id == space.id))
    ctx.db.expire_all()


def project_spaces(ctx: Context, actor: Actor) -> list[Space]:
    """Return the project spaces the actor created, by name (Lao dictionary order)."""
    query = select(Space).where(Space.owner_id == actor.id, Space.kind == SpaceKind.PROJECT)
    return sort_by_name(ctx.db.scalars(query), lambda space: space.name)


def department_spaces(ctx: Context, actor: Actor) -> list[tuple[Space, Node]]:
    """Return the department spaces the actor may see into, with their roots, by name."""
    rows = ctx.db.execute(
        select(Space, Node)
        .join(Node, (Node.space_id == Space.id) & Node.parent_id.is_(None))
        .where(Space.kind == SpaceKind.DEPARTMENT)
    )
    seen = [(s, root) for s, root in rows if Action.SEE in allowed_actions(ctx.db, actor, root)]
    return sort_by_name(seen, lambda row: row[0].name)


def get_space(ctx: Context, actor: Actor, slug: str) -> Space:
    """Return the space with this slug if the actor may see its root, else NotFound."""
    space = ctx.db.scalar(select(Space).where(Space.slug == slug))
    if space is None:
        raise NotFound(f"No space '{slug}'.")
    require(ctx.db, actor, Action.SEE, root_of(ctx.db, space))
    return space


def personal_space(ctx: Context, user: User) -> Space:
    """Return the user's personal space."""
    return ctx.db.scalar(
        select(Space).where(Space.owner_id == user.id, Space.kind == SpaceKind.PERSONAL)
    )


def set_quota(ctx: Context, actor: Actor, space: Space, quota_bytes: int | None) -> None:
    """Set a space's quota in bytes (None = unlimited)."""
    require_system_admin(actor)
    if quota_bytes is not None and quota_bytes < 0:
        raise InvalidInput("A quota cannot be negative.")
    space.quota_bytes = quota_bytes
    audit.record(
        ctx, actor, "space.quota", space_id=space.id, target=space.slug, quota_bytes=quota_bytes
    )


def list_spaces(ctx: Context, actor: Actor) -> list[Space]:
    """Return every space with its usage, for a system administrator."""
    require_system_admin(actor)
    by_name = sort_by_name(ctx.db.scalars(select(Space)), lambda space: space.name)
    return sorted(by_name, key=lambda space: space.kind)  # stable: by name within a kind
