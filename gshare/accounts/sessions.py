"""Signed-in browsers as rows: the cookie carries a random token, the database keeps only its
digest, so signing out, a password change or an administrator ends a session on every node.

A session ends when it is revoked, when it has not been used for `[sessions]
idle_timeout_minutes`, or `lifetime_hours` after it began, however busy it is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update

from gshare.access.accounts import require_manager_of
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import User, UserSession, utcnow

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
ENDED_SESSIONS_KEPT = timedelta(days=30)  # an ended session's row (device, address) is kept
_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Macintosh|Mac OS X"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
)


@dataclass(frozen=True)
class NewSession:
    """A session just begun: its row, and the token for the cookie (kept nowhere else)."""

    session: UserSession
    token: str


def digest(token: str) -> str:
    """Return the stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    ctx: Context,
    user: User,
    user_agent: str = "",
    now: datetime | None = None,
    second_factor: bool = False,
    provider_sid: str | None = None,
) -> NewSession:
    """Begin a session for a person who just signed in (noting a second factor proven, or the
    single sign-on provider's session it came from)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_digest=digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=ctx.config.sessions.lifetime_hours),
        device=describe_device(user_agent),
        ip=ctx.ip,
        factor_at=now if second_factor else None,
        provider_sid=(provider_sid or "")[:255] or None,
    )
    ctx.db.add(row)
    ctx.db.flush()
    return NewSession(row, token)


def find_session(ctx: Context, token: str, now: datetime | None = None) -> UserSession | None:
    """Return the live session of an enabled person this token opens, noting its use."""
    if not token:
        return None
    now = now or utcnow()
    row = ctx.db.scalar(
        select(UserSession).where(UserSession.token_digest == digest(token), _live(ctx, now))
    )
    if row is None:
        return None
    user = ctx.db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at, row.ip = now, ctx.ip or row.ip
    return row


def list_sessions(ctx: Context, actor: User, now: datetime | None = None) -> list[UserSession]:
    """Return the actor's live sessions, the most recently used first."""
    return list(
        ctx.db.scalars(
            select(UserSession)
            .where(UserSession.user_id == actor.id, _live(ctx, now or utcnow()))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_session(ctx: Context, actor: User, session_id: int) -> None:
    """End one of the actor's own sessions (signing out, or from the sessions page)."""
    row = ctx.db.get(UserSession, session_id)
    if row is None or row.user_id != actor.id or row.revoked_at is not None:
        raise NotFound("No such session.")
    row.revoked_at = utcnow()
    audit.record(ctx, actor, "session.end", target=actor.username, session_id=row.id)


def end_other_sessions(ctx: Context, actor: User, keep_id: int | None) -> int:
    """End every session of the actor's but this one; return how many ended."""
    ended = end_sessions(ctx, actor, keep_id=keep_id)
    audit.record(ctx, actor, "session.end_others", target=actor.username, ended=ended)
    return ended


def end_all_sessions(ctx: Context, actor: Actor, user: User) -> int:
    """End every session a person has (an administrator's act); return how many ended."""
    require_manager_of(ctx.db, actor, user.department_id, user.role)
    ended = end_sessions(ctx, user)
    audit.record(ctx, actor, "session.end_all", target=user.username, ended=ended)
    return ended


def end_sessions(ctx: Context, user: User, keep_id: int | None = None) -> int:
    """Revoke a person's open sessions, but keep_id's; the caller audits why."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    result = ctx.db.execute(
        query.values(revoked_at=utcnow()).execution_options(synchronize_session="fetch")
    )
    return result.rowcount  # type: ignore[attr-defined]


def describe_device(user_agent: str) -> str:
    """Sum a user agent up as people say it: "Firefox, Windows"."""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    summary = ", ".join(part for part in (browser, system) if part)
    return summary or user_agent.strip()[:60]


def _live(ctx: Context, now: datetime) -> ColumnElement[bool]:
    idle = timedelta(minutes=ctx.config.sessions.idle_timeout_minutes)
    return (
        UserSession.revoked_at.is_(None)
        & (UserSession.expires_at > now)
        & (UserSession.last_seen_at > now - idle)
    )


def forget_ended_sessions(ctx: Context, now: datetime) -> int:
    """Delete the rows of sessions that ended (signed out, ended, idle or past their lifetime)
    more than ENDED_SESSIONS_KEPT ago (gc); the audit log keeps the sign-ins and sign-outs."""
    idle = timedelta(minutes=ctx.config.sessions.idle_timeout_minutes)
    before = now - ENDED_SESSIONS_KEPT
    ended = (
        (UserSession.revoked_at < before)
        | (UserSession.expires_at < before)
        | (UserSession.last_seen_at < before - idle)
    )
    return ctx.db.execute(delete(UserSession).where(ended)).rowcount  # type: ignore[attr-defined]


def note_second_factor(ctx: Context, actor: User, session_id: int | None) -> None:
    """Note that the actor just proved a second factor in this session (a new one added)."""
    row = ctx.db.get(UserSession, session_id) if session_id is not None else None
    if row is not None and row.user_id == actor.id:
        row.factor_at = utcnow()
