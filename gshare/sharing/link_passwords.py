"""Link passwords: a minimum length, argon2 hashing, and limits on guessing them.

Wrong guesses are counted per link and per address in `link_password_throttles`, by atomic
upserts in the caller's transaction, so every node behind a load balancer sees the same counts.
Too many in a window lock the link (or the address) for a while, longer after each lock; a
locked link refuses password attempts before any hashing. argon2 takes memory and CPU, so each
process runs at most `[links] password_checks_at_once` checks at a time; a check that finds no
free slot soon is answered "busy" instead of queueing.

The lock is checked before waiting for a slot and again once a slot is free, just before
hashing; checks hashing at the same moment may each still add a failure after the lock, so a
lock may come a few guesses late: at most the checks in flight, which the slots bound.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, literal, or_, select, update

from gshare.activity import audit
from gshare.core import db as database
from gshare.core.config import Config
from gshare.core.context import Context
from gshare.core.errors import Busy, PasswordTooShort, TooManyAttempts
from gshare.core.models import LinkPasswordThrottle, Node, ShareLink, UTCDateTime, utcnow

MIN_PASSWORD_LENGTH = 8
FAILURES_PER_LINK = 10  # wrong passwords on one link in a window before it locks
FAILURES_PER_ADDRESS = 30  # wrong passwords from one address, on any links, in a window
WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=15)  # doubled by each lock that follows within a day
LONGEST_LOCK = timedelta(hours=24)

_hasher = PasswordHasher()
_Throttle = LinkPasswordThrottle


def hash_password(password: str) -> str:
    """Return the stored form of a new link password, refusing one that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(
            f"A link password needs at least {MIN_PASSWORD_LENGTH} characters.",
            minimum=MIN_PASSWORD_LENGTH,
        )
    return _hasher.hash(password)


def check_password(ctx: Context, link: ShareLink, password: str) -> bool:
    """Return whether the password opens the link; count, audit and lock on wrong ones.

    Raises TooManyAttempts while the link or the address is locked (before any hashing) and
    Busy when no check slot frees up in time. The caller must commit on a wrong password.
    """
    if link.password_hash is None:
        return True
    _refuse_if_locked(ctx, link)
    with _check_slot(ctx.config):
        _refuse_if_locked(ctx, link)  # a lock may have come while this check waited
        right = _verify(link.password_hash, password or "")
    if right:
        return True
    audit.record(ctx, None, "link.password_failed", node=_node(ctx, link), link_id=link.id)
    _count_failure(ctx, link, "link", str(link.id), FAILURES_PER_LINK)
    if ctx.ip:
        _count_failure(ctx, link, "address", ctx.ip, FAILURES_PER_ADDRESS)
    return False


def forget_quiet_throttles(ctx: Context, now: datetime) -> int:
    """Delete the counts of links and addresses with no lock in force and no failure for a
    day, after which a new lock would start from the first length again (gc)."""
    quiet = (_Throttle.window_started_at < now - LONGEST_LOCK) & or_(
        _Throttle.locked_until.is_(None), _Throttle.locked_until < now - LONGEST_LOCK
    )
    return ctx.db.execute(delete(_Throttle).where(quiet)).rowcount  # type: ignore[attr-defined]


def password_check_slots(config: Config) -> threading.BoundedSemaphore:
    """Return this process's slots for password checks."""
    return _slots(config.links.password_checks_at_once)


@cache
def _slots(size: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(size)


@contextmanager
def _check_slot(config: Config) -> Iterator[None]:
    slots = password_check_slots(config)
    if not slots.acquire(timeout=config.links.password_check_wait_seconds):
        raise Busy("Too many passwords are being checked; the server is busy.", retry_after=5)
    try:
        yield
    finally:
        slots.release()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse_if_locked(ctx: Context, link: ShareLink) -> None:
    now = utcnow()
    subjects = [and_(_Throttle.scope == "link", _Throttle.subject == str(link.id))]
    if ctx.ip:
        subjects.append(and_(_Throttle.scope == "address", _Throttle.subject == ctx.ip))
    until = ctx.db.scalar(
        select(_Throttle.locked_until)
        .where(or_(*subjects), _Throttle.locked_until > now)
        .order_by(_Throttle.locked_until.desc())
        .limit(1)
    )
    if until is not None:
        seconds = max(int((until - now).total_seconds()) + 1, 1)
        raise TooManyAttempts(
            f"Too many wrong passwords were tried. Try again in {-(-seconds // 60)} minutes.",
            retry_after=seconds,
            minutes=-(-seconds // 60),
        )


def _count_failure(ctx: Context, link: ShareLink, scope: str, subject: str, limit: int) -> None:
    """Add a failure to the window (a new window if the last one is over); lock at the limit."""
    now = utcnow()
    at_now = literal(now, UTCDateTime())
    table = _Throttle.__table__
    window_over = table.c.window_started_at < literal(now - WINDOW, UTCDateTime())
    failures = ctx.db.execute(
        database.insert(ctx.db, table)
        .values(scope=scope, subject=subject, failures=1, window_started_at=now, lockouts=0)
        .on_conflict_do_update(
            index_elements=[table.c.scope, table.c.subject],
            set_={
                "failures": case((window_over, 1), else_=table.c.failures + 1),
                "window_started_at": case((window_over, at_now), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.failures)
    ).scalar_one()
    if failures >= limit:
        _lock(ctx, link, scope, subject, limit, now)


def _lock(ctx: Context, link: ShareLink, scope: str, subject: str, limit: int, now: datetime):
    row = and_(_Throttle.scope == scope, _Throttle.subject == subject)
    recent = _Throttle.locked_until > now - timedelta(days=1)
    lockouts = ctx.db.scalar(
        update(_Throttle)
        .where(row, _Throttle.failures >= limit)
        .values(failures=0, lockouts=case((recent, _Throttle.lockouts + 1), else_=1))
        .returning(_Throttle.lockouts)
        .execution_options(synchronize_session=False)
    )
    if lockouts is None:  # another check locked it first
        return
    length = min(FIRST_LOCK * 2 ** (lockouts - 1), LONGEST_LOCK)
    ctx.db.execute(
        update(_Throttle)
        .where(row)
        .values(locked_until=now + length)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        ctx,
        None,
        "link.password_locked",
        node=_node(ctx, link),
        link_id=link.id,
        scope=scope,
        minutes=int(length.total_seconds() // 60),
    )


def _node(ctx: Context, link: ShareLink) -> Node | None:
    return ctx.db.get(Node, link.node_id)
