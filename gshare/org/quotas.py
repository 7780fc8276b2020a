"""Quotas: the bytes a space may hold, checked before and while bytes arrive.

A project space a person created counts against that person's quota too: its bytes are charged
to the space and to the person's personal space, so making spaces never makes room.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import aliased, object_session
from sqlalchemy.orm.attributes import set_committed_value

from gshare.core.db import run
from gshare.core.errors import QuotaExceeded
from gshare.core.models import Space, SpaceKind


def room_left(space: Space) -> int | None:
    """Return how many more bytes the space accepts (None = unlimited)."""
    rooms = [_own_room(s) for s in (space, _owner_space(space)) if s is not None]
    limited = [room for room in rooms if room is not None]
    return min(limited) if limited else None


def check_room(space: Space, size: int) -> None:
    """Raise QuotaExceeded before accepting a file of a known size that does not fit."""
    left = room_left(space)
    if left is not None and size > left:
        raise QuotaExceeded(_message(space, size))


def charge(db, space: Space, size: int) -> None:
    """Add stored bytes to a space (and to its owner's personal space for a project space)
    atomically, refusing if another upload took the room."""
    for charged in (space, _owner_space(space)):
        if charged is None:
            continue
        used = run(db, _CHARGE, {"space_id": charged.id, "size": size}).scalar()
        if used is None:
            raise QuotaExceeded(_message(charged, size))
        set_committed_value(charged, "used_bytes", used)


# Built once: an upload runs it, and building a statement costs more than running it here.
_CHARGE = (
    update(Space)
    .where(
        Space.id == bindparam("space_id"),
        Space.quota_bytes.is_(None) | (Space.used_bytes + bindparam("size") <= Space.quota_bytes),
    )
    .values(used_bytes=Space.used_bytes + bindparam("size"))
    .returning(Space.used_bytes)
    .execution_options(synchronize_session=False)
)


def refund(db, space_id: int, size: int) -> None:
    """Give back the bytes of purged versions (to the owner's personal space too)."""
    project = aliased(Space)
    owner = (
        select(project.owner_id)
        .where(project.id == space_id, project.kind == SpaceKind.PROJECT)
        .scalar_subquery()
    )
    personal = (Space.kind == SpaceKind.PERSONAL) & (Space.owner_id == owner)
    db.execute(
        update(Space)
        .where((Space.id == space_id) | personal)
        .values(used_bytes=Space.used_bytes - size)
        .execution_options(synchronize_session=False)
    )


def _own_room(space: Space) -> int | None:
    if space.quota_bytes is None:
        return None
    return max(space.quota_bytes - space.used_bytes, 0)


def _owner_space(space: Space) -> Space | None:
    """Return the personal space a project space's bytes count against too, if any."""
    db = object_session(space)
    if db is None or space.kind != SpaceKind.PROJECT or space.owner_id is None:
        return None
    return db.scalar(
        select(Space).where(Space.owner_id == space.owner_id, Space.kind == SpaceKind.PERSONAL)
    )


def _message(space: Space, size: int) -> str:
    return (
        f"The space '{space.name}' has {room_left(space):,} bytes left; this file needs {size:,}."
    )
