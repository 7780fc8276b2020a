"""A second factor after the password: an authenticator app (TOTP, RFC 6238) with ten one-time
recovery codes; security keys live in security_keys.py and count here as factors too.

The app's secret is stored encrypted (Fernet, its own purpose); a code is accepted for the time
step before, at or after now, and only for a step later than the last one accepted, so a code
seen over someone's shoulder cannot be used again. Recovery codes are stored as SHA-256 digests
(each carries 50 random bits, and wrong codes lock the account like wrong passwords) and are
spent with an atomic update, so two requests cannot spend one code twice. Every step is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select, update

from gshare.access.accounts import require_manager_of
from gshare.accounts import login, sessions
from gshare.activity import audit
from gshare.core import crypto
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import FactorNeeded, InvalidInput, NotFound
from gshare.core.models import RecoveryCode, SecondFactor, User, UserSession, utcnow
from gshare.org import users

TOTP = "totp"
STEP_SECONDS = 30
RECOVERY_CODES = 10
_PURPOSE = b"gshare totp v1"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
ISSUER = "G-Share"


@dataclass(frozen=True)
class TotpEnrolment:
    """An authenticator app being added: its row, its secret and the otpauth:// address."""

    factor: SecondFactor
    secret: str
    uri: str


def list_factors(ctx: Context, user: User) -> list[SecondFactor]:
    """Return a person's working factors, oldest first."""
    return list(
        ctx.db.scalars(
            select(SecondFactor)
            .where(SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_not(None))
            .order_by(SecondFactor.id)
        )
    )


def with_factors(ctx: Context, people: list[User]) -> set[int]:
    """Return the ids of those among these people who have a working second factor."""
    return set(
        ctx.db.scalars(
            select(SecondFactor.user_id).where(
                SecondFactor.user_id.in_([p.id for p in people]),
                SecondFactor.confirmed_at.is_not(None),
            )
        )
    )


def has_factor(ctx: Context, user: User) -> bool:
    """Return whether a person has a working second factor."""
    return bool(list_factors(ctx, user))


def begin_totp(ctx: Context, actor: User, label: str = "") -> TotpEnrolment:
    """Start adding an authenticator app: a new secret, not working until a code confirms it."""
    secret = pyotp.random_base32()
    factor = SecondFactor(
        user_id=actor.id,
        kind=TOTP,
        label=label.strip()[:200],
        secret_encrypted=_box(ctx).encrypt(secret.encode()).decode(),
    )
    ctx.db.add(factor)
    ctx.db.flush()
    audit.record(ctx, actor, "factor.totp.begin", target=actor.username, factor_id=factor.id)
    return _enrolment(ctx, actor, factor)


def pending_totp(ctx: Context, actor: User, factor_id: int) -> TotpEnrolment:
    """Return the actor's authenticator app still waiting for its first code."""
    return _enrolment(ctx, actor, _pending(ctx, actor, factor_id))


def confirm_totp(
    ctx: Context, actor: User, factor_id: int, code: str, now: datetime | None = None
) -> list[str]:
    """Make an authenticator app work once it shows a right code; return new recovery codes
    when the person had none left (shown once), else an empty list."""
    factor = _pending(ctx, actor, factor_id)
    step = _matching_step(_secret(ctx, factor), _digits(code), None, now or utcnow())
    if step is None:
        audit.record(ctx, actor, "factor.totp.confirm_failed", target=actor.username)
        raise InvalidInput(
            "That code is not right. Check the app's clock and try again.", reason="code"
        )
    factor.confirmed_at, factor.last_step = now or utcnow(), step
    audit.record(ctx, actor, "factor.totp.add", target=actor.username, factor_id=factor.id)
    if count_recovery_codes(ctx, actor):
        return []
    return new_recovery_codes(ctx, actor)


def verify_second_factor(
    ctx: Context, user: User, code: str, now: datetime | None = None
) -> login.Outcome:
    """Check the code typed after the password (the app's, or a recovery code); a wrong one
    counts toward the lockout like a wrong password."""
    now = now or utcnow()
    if login.is_locked(user, now):
        audit.record(ctx, None, "factor.locked", target=user.username)
        return login.Outcome.LOCKED
    method = _spend_totp(ctx, user, code, now) or _spend_recovery_code(ctx, user, code, now)
    if method is None:
        audit.record(ctx, None, "factor.failed", target=user.username)
        return login.count_wrong_factor(ctx, user, now).outcome
    login.forget_failures(ctx, user)
    audit.record(ctx, user, "factor.passed", target=user.username, method=method)
    return login.Outcome.OK


def remove_factor(ctx: Context, actor: User, factor_id: int, password: str) -> None:
    """Remove one of one's own factors; the password must be given again."""
    factor = ctx.db.get(SecondFactor, factor_id)
    if factor is None or factor.user_id != actor.id:
        raise NotFound("No such second factor.")
    if users.authenticate(ctx, actor.username, password or "") is None:
        raise InvalidInput("The password is not right.", reason="password")
    ctx.db.delete(factor)
    ctx.db.flush()
    if not has_factor(ctx, actor):
        ctx.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    audit.record(ctx, actor, f"factor.{factor.kind}.remove", target=actor.username)


def renew_recovery_codes(ctx: Context, actor: User, password: str) -> list[str]:
    """Replace one's recovery codes with ten new ones (the old stop working)."""
    if not has_factor(ctx, actor):
        raise InvalidInput("Add an authenticator app or a security key first.", reason="no_factor")
    if users.authenticate(ctx, actor.username, password or "") is None:
        raise InvalidInput("The password is not right.", reason="password")
    return new_recovery_codes(ctx, actor)


def count_recovery_codes(ctx: Context, user: User) -> int:
    """Return how many of a person's recovery codes are still unused."""
    return ctx.db.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def provisioning_uri(enrolment_secret: str, user: User) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(enrolment_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


@dataclass(frozen=True)
class Requirement:
    """Whether a person must add a factor: "none", "grace" (until a date) or "due" (now)."""

    state: str
    until: datetime | None = None


def requirement(ctx: Context, user: User, now: datetime | None = None) -> Requirement:
    """Return what `[mfa] required_for` asks of a person; their grace starts the first time."""
    rules = ctx.config.mfa.required_for
    if not ("everyone" in rules or user.role in rules) or has_factor(ctx, user):
        return Requirement("none")
    now = now or utcnow()
    if user.factor_grace_from is None:
        user.factor_grace_from = now
        audit.record(ctx, user, "factor.grace_start", target=user.username)
    until = user.factor_grace_from + timedelta(days=ctx.config.mfa.grace_days)
    return Requirement("grace" if now < until else "due", until)


def require_recent_factor(
    ctx: Context, user: User, session_id: int | None, now: datetime | None = None
) -> None:
    """Raise FactorNeeded unless a person with a factor proved it in this session lately."""
    if not has_factor(ctx, user):
        return
    row = ctx.db.get(UserSession, session_id) if session_id is not None else None
    recent = timedelta(minutes=ctx.config.mfa.recent_minutes)
    if row is None or row.factor_at is None or (now or utcnow()) - row.factor_at > recent:
        raise FactorNeeded("Confirm your second factor again first.")


def reset_factors(ctx: Context, actor: Actor, user: User) -> int:
    """Remove every factor and recovery code of a person's and end their sessions (an
    administrator's act, for a lost phone and key); return how many factors went."""
    require_manager_of(ctx.db, actor, user.department_id, user.role)
    removed = ctx.db.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    ctx.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = sessions.end_sessions(ctx, user)
    count = removed.rowcount  # type: ignore[attr-defined]
    audit.record(ctx, actor, "factor.reset", target=user.username, factors=count, sessions=ended)
    return count


def new_recovery_codes(ctx: Context, actor: User) -> list[str]:
    """Replace a person's recovery codes with ten new ones; return them (shown once)."""
    ctx.db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        for _ in range(RECOVERY_CODES)
    ]
    for code in codes:
        ctx.db.add(RecoveryCode(user_id=actor.id, code_digest=_digest(actor, code)))
    ctx.db.flush()
    audit.record(ctx, actor, "factor.recovery_codes.new", target=actor.username)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _spend_totp(ctx: Context, user: User, code: str, now: datetime) -> str | None:
    digits = _digits(code)
    if len(digits) != 6:
        return None
    for factor in list_factors(ctx, user):
        if factor.kind != TOTP:
            continue
        step = _matching_step(_secret(ctx, factor), digits, factor.last_step, now)
        if step is not None and _advance(ctx, factor, step, now):
            return TOTP
    return None


def _advance(ctx: Context, factor: SecondFactor, step: int, now: datetime) -> bool:
    """Record the step as used unless a later or equal one already was (atomically)."""
    spent = ctx.db.execute(
        update(SecondFactor)
        .where(
            SecondFactor.id == factor.id,
            (SecondFactor.last_step.is_(None)) | (SecondFactor.last_step < step),
        )
        .values(last_step=step, last_used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return spent.rowcount == 1  # type: ignore[attr-defined]


def _spend_recovery_code(ctx: Context, user: User, code: str, now: datetime) -> str | None:
    typed = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    if len(typed) != 10:
        return None
    spent = ctx.db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == _digest(user, typed),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    left = count_recovery_codes(ctx, user)
    audit.record(ctx, user, "factor.recovery_code.used", target=user.username, left=left)
    return "recovery_code"


def _matching_step(secret: str, digits: str, last_step: int | None, now: datetime) -> int | None:
    if len(digits) != 6:
        return None
    totp, current = pyotp.TOTP(secret), int(now.timestamp()) // STEP_SECONDS
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _pending(ctx: Context, actor: User, factor_id: int) -> SecondFactor:
    factor = ctx.db.get(SecondFactor, factor_id)
    if factor is None or factor.user_id != actor.id or factor.kind != TOTP or factor.confirmed_at:
        raise NotFound("No authenticator app is waiting to be added.")
    return factor


def _enrolment(ctx: Context, actor: User, factor: SecondFactor) -> TotpEnrolment:
    secret = _secret(ctx, factor)
    return TotpEnrolment(factor, secret, provisioning_uri(secret, actor))


def _secret(ctx: Context, factor: SecondFactor) -> str:
    return _box(ctx).decrypt((factor.secret_encrypted or "").encode()).decode()


def _box(ctx: Context):
    return crypto.fernet(ctx.config, _PURPOSE)


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace())


def _digest(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{code}".encode()).hexdigest()
