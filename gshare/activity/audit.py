"""The audit log: one event for every change, every grant and every read of shared content."""

from __future__ import annotations

import time
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select

from gshare.access.accounts import require_system_admin
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.db import run
from gshare.core.models import AuditEvent, Node, Space, Version
from gshare.core.paths import node_path


def record(
    ctx: Context,
    actor: Actor,
    action: str,
    *,
    node: Node | None = None,
    version: Version | None = None,
    space_id: int | None = None,
    target: str = "",
    **detail,
) -> AuditEvent:
    """Add an audit event (flushed with the caller's transaction)."""
    event = AuditEvent(**_event(ctx, actor, action, node, version, space_id, target, detail))
    ctx.db.add(event)
    return event


def write(
    ctx: Context,
    actor: Actor,
    action: str,
    *,
    node: Node,
    version: Version,
    target: str = "",
    **detail,
) -> None:
    """Write an audit event about a flushed version now, in one INSERT: what record does,
    without the session's bookkeeping (for uploads and downloads, the hot paths)."""
    run(ctx.db, _INSERT, _event(ctx, actor, action, node, version, None, target, detail))


_INSERT = insert(cast(Table, AuditEvent.__table__))  # built once; `at` is the column's default, now


def _event(ctx, actor, action, node, version, space_id, target, detail) -> dict:
    if node is not None and not target:
        target = node_path(ctx.db, node)
    return {
        "actor_id": getattr(actor, "id", None),
        "action": action,
        "space_id": space_id if space_id is not None else getattr(node, "space_id", None),
        "node_id": getattr(node, "id", None),
        "version_id": getattr(version, "id", None),
        "target": target,
        "ip": ctx.ip,
        "detail": detail or None,
    }


def record_download(
    ctx: Context,
    actor: Actor,
    node: Node,
    version: Version,
    byte_range: str | None,
    target: str = "",
) -> None:
    """Record a read of shared content.

    A download in parts (S3 tools fetch 8 MiB at a time, browsers resume) is one access: its
    first part is recorded, and the parts after it at most once per PARTS_WINDOW seconds per
    person, version and server process. Whole reads, and parts that start the file, are always
    recorded. target, when the caller resolved the node's path already, saves looking it up.
    """
    seen = (getattr(actor, "id", None), version.blob_key)  # a blob key is never reused
    now = time.monotonic()
    later_part = byte_range is not None and not byte_range.startswith("0-")
    if later_part and now - _parts_seen.get(seen, -PARTS_WINDOW) < PARTS_WINDOW:
        return
    _parts_seen[seen] = now
    if len(_parts_seen) > _PARTS_SEEN_MAX:
        for key, at in list(_parts_seen.items()):
            if now - at >= PARTS_WINDOW:
                _parts_seen.pop(key, None)
    write(ctx, actor, "file.download", node=node, version=version, target=target, range=byte_range)


PARTS_WINDOW = 600.0
_PARTS_SEEN_MAX = 10_000
_parts_seen: dict[tuple[int | None, str], float] = {}


def list_events(
    db,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    space_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Return the newest audit events matching the filters."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    for column, value in (
        (AuditEvent.actor_id, actor_id),
        (AuditEvent.action, action),
        (AuditEvent.space_id, space_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return list(db.scalars(query))


def search_events(ctx: Context, actor: Actor, **filters) -> list[AuditEvent]:
    """Return audit events for a system administrator (filters as in list_events)."""
    require_system_admin(actor)
    return list_events(ctx.db, **filters)


def items_in_words(ctx: Context, events: list[AuditEvent]) -> dict[int, str]:
    """Return each event's item as people read it, by event id: its space's name in place of
    the slug its path was stored with, and ' › ' between the parts (one query for the page).

    A space's slug never changes, so the slug in a path is its event's own space; the path is
    kept as stored when the space is gone or the item is not a path (a person, a department).
    """
    ids = {e.space_id for e in events} - {None}
    rows = ctx.db.execute(select(Space.id, Space.slug, Space.name).where(Space.id.in_(ids)))
    spaces = {space_id: (slug, name) for space_id, slug, name in rows}
    return {e.id: _item_in_words(e.target, spaces.get(e.space_id)) for e in events}


def _item_in_words(target: str, space: tuple[str, str] | None) -> str:
    if space is None:
        return target
    slug, name = space
    first, *rest = target.split("/")
    if first != slug:
        return target
    return " › ".join([name, *(part for part in rest if part)])
