"""The quarantine: versions found infected or blocked, kept out of every path, for admins
to review, release (with a reason, into the audit log) or delete."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from gshare.access.accounts import require_system_admin
from gshare.access.gate import is_quarantined
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.blobs import thumbnail_key
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, NotFound
from gshare.core.models import User, Version
from gshare.core.paths import node_path
from gshare.files import trash
from gshare.org import quotas


@dataclass(frozen=True)
class Item:
    """A quarantined version with what an admin needs to judge it."""

    version: Version
    path: str
    uploader: User | None


def list_quarantine(ctx: Context, actor: Actor, limit: int = 500) -> list[Item]:
    """Return the quarantined versions (not released), newest first."""
    require_system_admin(actor)
    versions = ctx.db.scalars(
        select(Version)
        .where(is_quarantined(Version))
        .order_by(Version.uploaded_at.desc())
        .limit(limit)
    )
    return [_item(ctx, v) for v in versions]


def show_quarantined(ctx: Context, actor: Actor, version_id: int) -> Item:
    """Return one quarantined version."""
    require_system_admin(actor)
    return _item(ctx, _quarantined(ctx, version_id))


def release_version(ctx: Context, actor: Actor, version_id: int, reason: str) -> Version:
    """Let a quarantined version through (e.g. a false positive), with the reason on record."""
    require_system_admin(actor)
    if not reason or not reason.strip():
        raise InvalidInput("Say why this version is released; the reason goes into the audit log.")
    version = _quarantined(ctx, version_id)
    version.released_by, version.release_reason = actor.id, reason.strip()
    audit.record(
        ctx,
        actor,
        "quarantine.release",
        node=version.node,
        version=version,
        signature=version.scan_signature,
        reason=reason.strip(),
    )
    return version


def delete_quarantined(ctx: Context, actor: Actor, version_id: int) -> None:
    """Delete a quarantined version for good (its blob goes after the commit)."""
    require_system_admin(actor)
    version = _quarantined(ctx, version_id)
    node = version.node
    audit.record(
        ctx,
        actor,
        "quarantine.delete",
        node=node,
        version=version,
        signature=version.scan_signature,
    )
    if ctx.db.scalar(select(func.count()).where(Version.node_id == node.id)) == 1:
        trash.purge_subtree(ctx, node)
        return
    quotas.refund(ctx.db, node.space_id, version.size)
    ctx.delete_blob_after_commit(version.blob_key)
    if version.thumbnail is not None:  # made while it was clean, before a rescan
        ctx.delete_blob_after_commit(thumbnail_key(version.blob_key))
    ctx.db.delete(version)
    ctx.db.flush()


def _quarantined(ctx: Context, version_id: int) -> Version:
    version = ctx.db.get(Version, version_id)
    if version is None or not is_quarantined(version):
        raise NotFound("No such version in quarantine.")
    return version


def _item(ctx: Context, version: Version) -> Item:
    uploader = ctx.db.get(User, version.uploaded_by) if version.uploaded_by else None
    return Item(version, node_path(ctx.db, version.node), uploader)
