"""In-app notices to people: an upload found infected, a file pulled back, and the like."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.models import Notification, utcnow


def notify(
    ctx: Context,
    user_id: int,
    kind: str,
    *,
    node_id: int | None = None,
    version_id: int | None = None,
    **params,
) -> Notification:
    """Leave a notice for a person (shown in the web UI until read)."""
    notice = Notification(
        user_id=user_id, kind=kind, node_id=node_id, version_id=version_id, params=params or None
    )
    ctx.db.add(notice)
    return notice


def notify_many(
    ctx: Context, user_ids: list[int], kind: str, *, node_id: int | None = None, **params
) -> None:
    """Leave the same notice for many people at once (a department's members), in one
    statement."""
    if user_ids:
        rows = [
            {"user_id": i, "kind": kind, "node_id": node_id, "params": params or None}
            for i in user_ids
        ]
        ctx.db.execute(insert(Notification), rows)


def list_notifications(
    ctx: Context, actor: Actor, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    """Return the actor's notices, newest first."""
    query = select(Notification).where(Notification.user_id == actor.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(ctx.db.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(ctx: Context, actor: Actor, ids: list[int]) -> None:
    """Mark some of the actor's notices as read."""
    ctx.db.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.id.in_(ids))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def count_unread(ctx: Context, actor: Actor) -> int:
    """Return how many of the actor's notices are unread."""
    return ctx.db.scalar(
        select(func.count()).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    )
