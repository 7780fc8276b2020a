"""Quotas: the bytes a space may hold, checked before and while bytes arrive."""

from __future__ import annotations

from sqlalchemy import update

from gshare.errors import QuotaExceeded
from gshare.models import Space


def room_left(space: Space) -> int | None:
    """Return how many more bytes the space accepts (None = unlimited)."""
    if space.quota_bytes is None:
        return None
    return max(space.quota_bytes - space.used_bytes, 0)


def check_room(space: Space, size: int) -> None:
    """Raise QuotaExceeded before accepting a file of a known size that does not fit."""
    left = room_left(space)
    if left is not None and size > left:
        raise QuotaExceeded(_message(space, size))


def charge(db, space: Space, size: int) -> None:
    """Add stored bytes to a space atomically, refusing if another upload took the room."""
    fits = (Space.quota_bytes.is_(None)) | (Space.used_bytes + size <= Space.quota_bytes)
    result = db.execute(update(Space).where(Space.id == space.id, fits)
                        .values(used_bytes=Space.used_bytes + size)
                        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise QuotaExceeded(_message(space, size))
    db.refresh(space, ["used_bytes"])


def refund(db, space_id: int, size: int) -> None:
    """Give back the bytes of purged versions."""
    db.execute(update(Space).where(Space.id == space_id)
               .values(used_bytes=Space.used_bytes - size)
               .execution_options(synchronize_session=False))


def _message(space: Space, size: int) -> str:
    return (f"The space '{space.name}' has {room_left(space):,} bytes left; "
            f"this file needs {size:,}.")
