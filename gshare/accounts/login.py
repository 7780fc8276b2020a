"""Signing in: password check, per-account lockout and per-address rate limit, all audited.

Failed attempts are counted on the account (users.failed_logins) and in the audit log, so
every node behind a load balancer sees the same numbers. The caller must commit even when the
sign-in fails: the failure is itself a change (a counter, an audit event).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from gshare.activity import audit
from gshare.core.context import Context
from gshare.core.models import AuditEvent, User, utcnow
from gshare.org import users

MAX_FAILURES = 5  # failed passwords in a row before the account is locked
LOCK_MINUTES = 15  # how long a locked account waits
ADDRESS_WINDOW_MINUTES = 15  # window of the per-address limit
MAX_ADDRESS_FAILURES = 30  # failed sign-ins from one address in that window


class Outcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown user, wrong password, disabled account: one answer
    LOCKED = "locked"  # the account is locked for a while
    THROTTLED = "throttled"  # too many failures from this address


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: User | None = None


def sign_in(ctx: Context, username: str, password: str) -> SignIn:
    """Check a username and password; count failures, lock accounts, audit every attempt."""
    username = (username or "").strip().lower()
    if _address_failures(ctx) >= MAX_ADDRESS_FAILURES:
        audit.record(ctx, None, "login.throttled", target=username)
        return SignIn(Outcome.THROTTLED)
    account = ctx.db.scalar(select(User).where(User.username == username))
    if account is not None and is_locked(account):
        audit.record(ctx, None, "login.locked", target=username)
        return SignIn(Outcome.LOCKED)
    user = users.authenticate(ctx, username, password or "")
    if user is None:
        return _failed(ctx, account, username)
    user.failed_logins, user.locked_until = 0, None
    audit.record(ctx, user, "login", target=username)
    return SignIn(Outcome.OK, user)


def sign_out(ctx: Context, user: User) -> None:
    """Record that a person signed out."""
    audit.record(ctx, user, "logout", target=user.username)


def is_locked(user: User) -> bool:
    """Return whether the account is locked after too many wrong passwords."""
    return user.locked_until is not None and user.locked_until > utcnow()


def _failed(ctx: Context, account: User | None, username: str) -> SignIn:
    audit.record(ctx, None, "login.failed", target=username)
    if account is None:
        return SignIn(Outcome.WRONG)
    account.failed_logins = (account.failed_logins or 0) + 1
    if account.failed_logins < MAX_FAILURES:
        return SignIn(Outcome.WRONG)
    account.failed_logins = 0
    account.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
    audit.record(ctx, None, "login.lockout", target=username, minutes=LOCK_MINUTES)
    return SignIn(Outcome.LOCKED)


def _address_failures(ctx: Context) -> int:
    if not ctx.ip:
        return 0
    since = utcnow() - timedelta(minutes=ADDRESS_WINDOW_MINUTES)
    return ctx.db.scalar(
        select(func.count()).where(
            AuditEvent.action == "login.failed", AuditEvent.ip == ctx.ip, AuditEvent.at >= since
        )
    )
