"""Signing in: password check, per-account lockout, a throttle per (address, account) and a
hard per-address limit, all audited; and where to go after signing in.

Failed attempts are counted in the database (users.failed_logins, sign_in_failures) with
atomic updates, and in the audit log, so every node behind a load balancer sees the same
numbers and parallel guesses are all counted. The caller must commit even when the sign-in
fails: the failure is itself a change (a counter, an audit event).

- An account is locked for `[sessions] lock_minutes` after `lock_after_failures` wrong
  passwords in a row from anywhere; each further wrong password locks it again.
- One address guessing at one account is slowed: after FREE_FAILURES wrong passwords each
  further try must wait 2^n seconds (n failures), up to MAX_DELAY. Others behind the same
  address (one NAT can be a whole ministry building) are not affected.
- One address is refused altogether only far above normal use (`address_failure_limit`).

With [ldap] configured, people from the directory (and names gshare does not know) are checked
against the directory (directory_people.py); local accounts, the break-glass administrator
among them, keep their password here and sign in when the directory is down.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy import case, delete, func, literal, select, update

from gshare.access.accounts import require_manager_of
from gshare.accounts import directory_people
from gshare.accounts.directory import DirectoryError, DirectoryUnavailable
from gshare.activity import audit
from gshare.core import db as database
from gshare.core.actor import Actor
from gshare.core.config import OidcConfig
from gshare.core.context import Context
from gshare.core.models import (
    AuditEvent,
    SecondFactor,
    SignInFailures,
    User,
    UTCDateTime,
    utcnow,
)
from gshare.org import users

log = logging.getLogger(__name__)
FREE_FAILURES = 3  # wrong passwords from one address for one account before it must wait
MAX_DELAY = timedelta(minutes=15)
FORGET_PAIR_AFTER = timedelta(days=1)  # a pair quiet this long starts counting again


class Outcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown user, wrong password, disabled account: one answer
    LOCKED = "locked"  # the account is locked for a while
    SLOWED = "slowed"  # this address must wait before trying this account again
    THROTTLED = "throttled"  # too many failures from this address
    PASSWORDS_OFF = "passwords_off"  # single sign-on only; this is no break-glass account
    DIRECTORY_DOWN = "directory_down"  # the directory cannot be asked right now
    DIRECTORY_REFUSED = "directory_refused"  # the directory entry cannot be used here


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: User | None = None
    second_step: bool = False  # the password was right; a second factor must follow


def sign_in(ctx: Context, username: str, password: str, now: datetime | None = None) -> SignIn:
    """Check a username and password; count failures, lock and slow, audit every attempt."""
    now = now or utcnow()
    username = (username or "").strip().lower()[:64]
    if _address_failures(ctx, now) >= ctx.config.sessions.address_failure_limit:
        audit.record(ctx, None, "login.throttled", target=username)
        return SignIn(Outcome.THROTTLED)
    if not local_password_allowed(ctx.config.oidc, username):
        audit.record(ctx, None, "login.password_off", target=username)
        return SignIn(Outcome.PASSWORDS_OFF)
    account = ctx.db.scalar(select(User).where(User.username == username))
    if account is not None and is_locked(account, now):
        audit.record(ctx, None, "login.locked", target=username)
        return SignIn(Outcome.LOCKED)
    if _must_wait(ctx, username, now):
        audit.record(ctx, None, "login.slowed", target=username)
        return SignIn(Outcome.SLOWED)
    try:
        user = _check_password(ctx, account, username, password or "")
    except DirectoryUnavailable as exc:
        audit.record(ctx, None, "login.directory_down", target=username, reason=str(exc))
        return SignIn(Outcome.DIRECTORY_DOWN)
    except DirectoryError as exc:
        log.warning("directory sign-in of %r refused: %s", username, exc)
        audit.record(ctx, None, "login.directory_refused", target=username, reason=str(exc))
        return SignIn(Outcome.DIRECTORY_REFUSED)
    if user is None:
        return _failed(ctx, account, username, now)
    audit.record(ctx, user, "login", target=username, source=user.source)
    if _has_second_factor(ctx, user):  # failures are forgotten only after the second factor
        return SignIn(Outcome.OK, user, second_step=True)
    forget_failures(ctx, user)
    return SignIn(Outcome.OK, user)


def forget_failures(ctx: Context, user: User) -> None:
    """Clear an account's wrong-password count and this address's wait (a full sign-in)."""
    user.failed_logins, user.locked_until = 0, None
    _forget_pair(ctx, user.username)


def count_wrong_factor(ctx: Context, user: User, now: datetime | None = None) -> SignIn:
    """Count a wrong second-factor code as a wrong password: it locks and slows alike."""
    return _failed(ctx, user, user.username, now or utcnow())


def local_password_allowed(settings: OidcConfig, username: str) -> bool:
    """Return whether this username may sign in with a gshare password: everyone, unless
    `[oidc] local_passwords` is off, when only the break-glass administrators may."""
    return settings.local_passwords or username in settings.break_glass


def _check_password(
    ctx: Context, account: User | None, username: str, password: str
) -> User | None:
    """Ask the directory for its people and for unknown names; gshare for local accounts."""
    if ctx.config.ldap.enabled and (account is None or account.source == directory_people.LDAP):
        return directory_people.authenticate(ctx, username, password)
    return users.authenticate(ctx, username, password)


def sign_out(ctx: Context, user: User) -> None:
    """Record that a person signed out."""
    audit.record(ctx, user, "logout", target=user.username)


def is_locked(user: User, now: datetime | None = None) -> bool:
    """Return whether the account is locked after too many wrong passwords."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def retry_delay(failures: int) -> timedelta:
    """Return how long one address waits after `failures` wrong passwords for one account."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures, 20)), MAX_DELAY)


def unlock_account(ctx: Context, actor: Actor, user: User) -> None:
    """Lift a lock and every address's wait on an account (an administrator's act)."""
    require_manager_of(ctx.db, actor, user.department_id, user.role)
    user.failed_logins, user.locked_until = 0, None
    _forget_pair(ctx, user.username, every_address=True)
    audit.record(ctx, actor, "login.unlock", target=user.username)


def return_path(target: str | None) -> str | None:
    """Return target if it is a path on this site (one leading slash, no scheme, no host, no
    backslash, however encoded), else None: where to go after signing in."""
    if not target or len(target) > 2048 or not target.startswith("/"):
        return None
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return None
    decoded = target
    for _ in range(4):  # %252F%252F is %2F%2F is //
        decoded = unquote(decoded)
    # browsers drop tabs and newlines from URLs and read a backslash as a slash
    squeezed = "".join(ch for ch in decoded if ord(ch) > 0x20 and ord(ch) != 0x7F)
    if "\\" in squeezed or squeezed.startswith("//"):
        return None
    parts = urlsplit(squeezed)
    if parts.scheme or parts.netloc:
        return None
    return target


def _failed(ctx: Context, account: User | None, username: str, now: datetime) -> SignIn:
    audit.record(ctx, None, "login.failed", target=username)
    _count_pair_failure(ctx, username, now)
    if account is None:
        return SignIn(Outcome.WRONG)
    settings = ctx.config.sessions
    until = literal(now + timedelta(minutes=settings.lock_minutes), UTCDateTime)
    failures = ctx.db.execute(
        update(User)
        .where(User.id == account.id)
        .values(
            failed_logins=User.failed_logins + 1,
            locked_until=case(
                (User.failed_logins + 1 >= settings.lock_after_failures, until),
                else_=User.locked_until,
            ),
        )
        .returning(User.failed_logins)
        .execution_options(synchronize_session="fetch")
    ).scalar_one()
    if failures < settings.lock_after_failures:
        return SignIn(Outcome.WRONG)
    audit.record(ctx, None, "login.lockout", target=username, minutes=settings.lock_minutes)
    return SignIn(Outcome.LOCKED)


def _has_second_factor(ctx: Context, user: User) -> bool:
    found = select(SecondFactor.id).where(
        SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_not(None)
    )
    return ctx.db.scalar(found.limit(1)) is not None


def _must_wait(ctx: Context, username: str, now: datetime) -> bool:
    if not ctx.ip:
        return False
    row = ctx.db.execute(
        select(SignInFailures.failures, SignInFailures.last_failed_at).where(
            SignInFailures.ip == ctx.ip, SignInFailures.username == username
        )
    ).one_or_none()
    return row is not None and now < row.last_failed_at + retry_delay(row.failures)


def _count_pair_failure(ctx: Context, username: str, now: datetime) -> None:
    if not ctx.ip:
        return
    table = SignInFailures.__table__
    stale = table.c.last_failed_at < literal(now - FORGET_PAIR_AFTER, UTCDateTime)
    statement = database.insert(ctx.db, table).values(
        ip=ctx.ip[:45], username=username, failures=1, last_failed_at=now
    )
    ctx.db.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.ip, table.c.username],
            set_={
                "failures": case((stale, 1), else_=table.c.failures + 1),
                "last_failed_at": statement.excluded.last_failed_at,
            },
        )
    )


def forget_quiet_failures(ctx: Context, now: datetime) -> int:
    """Delete the failure counts of (address, user name) pairs quiet long enough to start
    counting again anyway (gc); return how many were deleted."""
    stale = SignInFailures.last_failed_at < now - FORGET_PAIR_AFTER
    return ctx.db.execute(delete(SignInFailures).where(stale)).rowcount  # type: ignore[attr-defined]


def _forget_pair(ctx: Context, username: str, every_address: bool = False) -> None:
    query = delete(SignInFailures).where(SignInFailures.username == username)
    if not every_address:
        if not ctx.ip:
            return
        query = query.where(SignInFailures.ip == ctx.ip)
    ctx.db.execute(query)


def _address_failures(ctx: Context, now: datetime) -> int:
    if not ctx.ip:
        return 0
    since = now - timedelta(minutes=ctx.config.sessions.address_window_minutes)
    return ctx.db.scalar(
        select(func.count()).where(
            AuditEvent.action == "login.failed", AuditEvent.ip == ctx.ip, AuditEvent.at >= since
        )
    )
