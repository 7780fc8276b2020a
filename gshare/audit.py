"""The audit log: one event for every change, every grant and every read of shared content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gshare.models import AuditEvent, Node, Version
from gshare.tree import node_path


def record(ctx, actor, action: str, *, node: Node | None = None, version: Version | None = None,
           space_id: int | None = None, target: str = "", **detail) -> AuditEvent:
    """Add an audit event (flushed with the caller's transaction)."""
    if node is not None and not target:
        target = node_path(ctx.db, node)
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        space_id=space_id if space_id is not None else getattr(node, "space_id", None),
        node_id=getattr(node, "id", None),
        version_id=getattr(version, "id", None),
        target=target,
        ip=ctx.ip,
        detail=detail or None,
    )
    ctx.db.add(event)
    return event


def list_events(db, *, actor_id: int | None = None, action: str | None = None,
                space_id: int | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
    """Return the newest audit events matching the filters."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    for column, value in ((AuditEvent.actor_id, actor_id), (AuditEvent.action, action),
                          (AuditEvent.space_id, space_id)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return list(db.scalars(query))


def search_events(ctx, actor, **filters) -> list[AuditEvent]:
    """Return audit events for a system administrator (filters as in list_events)."""
    from gshare.permissions import require_system_admin

    require_system_admin(actor)
    return list_events(ctx.db, **filters)
