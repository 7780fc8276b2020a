"""Single sign-on with OpenID Connect: who a provider's claims say a person is, and their
gshare account (made at the first sign-in, brought up to date at every one).

The protocol (discovery, PKCE, state, nonce, the ID token's signature and times) is Authlib's
job in the front end; this module starts where the claims have been checked. The mapping
(docs/identity.md):

- the account is found by (issuer, subject); at the first sign-in an account with the same
  username that has never used the provider is taken over, except a break-glass account;
- the department is the first value of the department claim naming a department (its full
  name, its name or its space's slug), else `default_department`, else the sign-in is refused;
- the role is system_admin when a group is in `system_admin_groups`, department_admin when one
  is in `department_admin_groups`, member otherwise: the provider is the authority, so a role
  taken away there is taken away here at the next sign-in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from gshare.activity import audit
from gshare.core.actor import OPERATOR
from gshare.core.config import OidcConfig
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, NotFound, PermissionDenied
from gshare.core.models import Department, User, UserRole, UserSession, utcnow
from gshare.org import departments, users


class SignInRefused(PermissionDenied):
    """The provider's answer does not let this person in; `reason` says why."""

    def __init__(self, message: str, reason: str):
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """A person as the provider describes them."""

    issuer: str
    subject: str
    username: str
    display_name: str
    email: str | None
    departments: tuple[str, ...]
    groups: frozenset[str]


def read_identity(settings: OidcConfig, issuer: str, claims: dict) -> Identity:
    """Read who the person is from the checked claims, by the configured claim names."""
    subject = str(claims.get("sub") or "")
    raw_username = str(claims.get(settings.username_claim) or "").split("@")[0]
    if not subject or not raw_username:
        raise SignInRefused(
            f"The provider did not say who you are (no '{settings.username_claim}' claim).",
            reason="claims",
        )
    try:
        username = users.check_username(raw_username)
    except InvalidInput as exc:
        raise SignInRefused(str(exc), reason="claims") from exc
    email = claims.get(settings.email_claim)
    return Identity(
        issuer=issuer,
        subject=subject,
        username=username,
        display_name=str(claims.get(settings.name_claim) or username).strip()[:200],
        email=str(email)[:254] if email else None,
        departments=_strings(claims.get(settings.department_claim)),
        groups=frozenset(_strings(claims.get(settings.groups_claim))),
    )


def sign_in_with_identity(ctx: Context, identity: Identity) -> User:
    """Return the person's account, made or brought up to date from the provider's claims."""
    settings = ctx.config.oidc
    department = _mapped_department(ctx, settings, identity)
    role = mapped_role(settings, identity.groups)
    user = _account_of(ctx, identity)
    if user is None:
        user = users.add_user(
            ctx,
            OPERATOR,
            identity.username,
            identity.display_name,
            department,
            role=role,
            email=identity.email,
        )
        user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
        audit.record(ctx, None, "login.oidc_account", target=user.username, role=str(role))
    elif user.disabled:
        raise SignInRefused("This account is disabled. Ask your administrator.", "disabled")
    else:
        _update_account(ctx, user, identity, department, role)
    audit.record(ctx, user, "login", target=user.username, method="oidc")
    return user


def mapped_role(settings: OidcConfig, groups: frozenset[str]) -> UserRole:
    """Return the role the person's groups give."""
    if groups & set(settings.system_admin_groups):
        return UserRole.SYSTEM_ADMIN
    if groups & set(settings.department_admin_groups):
        return UserRole.DEPARTMENT_ADMIN
    return UserRole.MEMBER


def check_sign_in_age(started_at: float | None, settings: OidcConfig) -> None:
    """Refuse a provider's answer to a sign-in this browser never began, already finished or
    began more than `sign_in_minutes` ago."""
    if started_at is None:
        raise SignInRefused("This sign-in was already used or not started here.", "state")
    if time.time() - started_at > settings.sign_in_minutes * 60:
        raise SignInRefused("This sign-in took too long and has expired.", "expired")


def end_provider_session(ctx: Context, issuer: str, sid: str) -> int:
    """End the gshare sessions that came from one session at the provider (its front-channel
    logout); one from another issuer, or naming no session, ends nothing. Return how many."""
    if not sid or issuer.rstrip("/") != ctx.config.oidc.issuer.rstrip("/"):
        return 0
    return end_logged_out_sessions(ctx, sid, None)


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_MINUTES = 10  # how old a logout token may be when it arrives


class LogoutRefused(InvalidInput):
    """A back-channel logout token gshare does not act on; the message says why."""


def read_logout_token(
    settings: OidcConfig, claims: dict, now: float | None = None
) -> tuple[str | None, str | None]:
    """Return (sid, sub) from a logout token whose signature was checked (OpenID Connect
    Back-Channel Logout 1.0, 2.6): from this provider, for this client, issued within
    `LOGOUT_TOKEN_MINUTES` (give or take `leeway_seconds`), with the logout event, naming a
    session or a person, and without a nonce (an ID token is not a logout token)."""
    now, leeway = time.time() if now is None else now, settings.leeway_seconds
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if str(claims.get("iss", "")).rstrip("/") != settings.issuer.rstrip("/"):
        raise LogoutRefused("The logout token is from another provider.")
    if settings.client_id not in audiences:
        raise LogoutRefused("The logout token is for another client.")
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or not (
        now - LOGOUT_TOKEN_MINUTES * 60 - leeway <= issued <= now + leeway
    ):
        raise LogoutRefused("The logout token's time is off.")
    expires = claims.get("exp")
    if expires is not None and (not isinstance(expires, int | float) or expires < now - leeway):
        raise LogoutRefused("The logout token has expired.")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise LogoutRefused("The token is not a logout token (no logout event).")
    if "nonce" in claims:
        raise LogoutRefused("The token is not a logout token (it has a nonce).")
    sid, sub = str(claims.get("sid") or ""), str(claims.get("sub") or "")
    if not sid and not sub:
        raise LogoutRefused("The logout token names no session and no person.")
    return sid or None, sub or None


def end_logged_out_sessions(ctx: Context, sid: str | None, sub: str | None) -> int:
    """End the gshare sessions a logout token names: those from the provider session `sid`
    (of the person `sub`, when it names one too), else every session the person began through
    the provider. Return how many."""
    query = select(UserSession).where(
        UserSession.revoked_at.is_(None), UserSession.provider_sid.is_not(None)
    )
    if sid:
        query = query.where(UserSession.provider_sid == sid[:255])
    if sub:
        person = select(User.id).where(
            User.oidc_issuer == ctx.config.oidc.issuer, User.oidc_subject == sub
        )
        query = query.where(UserSession.user_id.in_(person.scalar_subquery()))
    rows = ctx.db.scalars(query).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        owner = ctx.db.get(User, row.user_id)
        audit.record(ctx, None, "session.provider_logout", target=owner.username, session=row.id)
    return len(rows)


def refuse(ctx: Context, reason: str, detail: str) -> SignInRefused:
    """Audit a refused single sign-on and return the error to raise."""
    audit.record(ctx, None, "login.oidc_refused", reason=reason, detail=detail[:500])
    return SignInRefused(detail, reason)


def _account_of(ctx: Context, identity: Identity) -> User | None:
    user = ctx.db.scalar(
        select(User).where(
            User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
        )
    )
    if user is not None:
        return user
    same_name = ctx.db.scalar(select(User).where(User.username == identity.username))
    if same_name is None:
        return None
    if same_name.oidc_subject is not None or same_name.username in ctx.config.oidc.break_glass:
        raise SignInRefused(
            f"The username '{identity.username}' belongs to another account here.", "taken"
        )
    same_name.oidc_issuer, same_name.oidc_subject = identity.issuer, identity.subject
    audit.record(ctx, None, "login.oidc_link", target=same_name.username)
    return same_name


def _update_account(
    ctx: Context, user: User, identity: Identity, department: Department, role: UserRole
) -> None:
    changes = {
        "username": identity.username,
        "display_name": identity.display_name,
        "email": identity.email,
        "department_id": department.id,
        "role": str(role),
    }
    changed = {key: value for key, value in changes.items() if getattr(user, key) != value}
    if "username" in changed and ctx.db.scalar(
        select(User.id).where(User.username == identity.username, User.id != user.id)
    ):
        del changed["username"]  # taken by another account: keep the old one
    for key, value in changed.items():
        setattr(user, key, value)
    if changed:
        audit.record(ctx, None, "user.oidc_update", target=user.username, changed=sorted(changed))


def _mapped_department(ctx: Context, settings: OidcConfig, identity: Identity) -> Department:
    for ref in (*identity.departments, settings.default_department):
        if not ref:
            continue
        try:
            return departments.find_department(ctx, ref)
        except NotFound:
            continue
    claimed = ", ".join(identity.departments) or "none"
    raise SignInRefused(
        f"Your account at the provider names no department of gshare ({claimed}).", "department"
    )


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if isinstance(item, str | int))
    return (str(value),)
