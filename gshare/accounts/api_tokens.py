"""Personal tokens for the JSON API: shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import ApiToken, User, utcnow

PREFIX = "gsh_"


def digest(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: Context, actor: Actor, label: str = "") -> tuple[ApiToken, str]:
    """Create a token for the actor; return the row and the token text (shown once)."""
    text = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, token_digest=digest(text), label=label.strip()[:200])
    ctx.db.add(token)
    ctx.db.flush()
    audit.record(ctx, actor, "api_token.create", target=token.label, token_id=token.id)
    return token, text


def list_tokens(ctx: Context, actor: Actor) -> list[ApiToken]:
    """Return the actor's tokens that are not revoked, newest first."""
    return list(
        ctx.db.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id.desc())
        )
    )


def revoke_token(ctx: Context, actor: Actor, token_id: int) -> None:
    """Revoke one of the actor's own tokens."""
    token = ctx.db.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id or token.revoked_at is not None:
        raise NotFound()
    token.revoked_at = utcnow()
    audit.record(ctx, actor, "api_token.revoke", target=token.label, token_id=token.id)


def revoke_all_tokens(ctx: Context, actor: User) -> int:
    """Revoke every token of the actor's; return how many."""
    tokens = list_tokens(ctx, actor)
    for token in tokens:
        token.revoked_at = utcnow()
    audit.record(ctx, actor, "api_token.revoke_all", target=actor.username, count=len(tokens))
    return len(tokens)


def authenticate_token(ctx: Context, text: str) -> User | None:
    """Return the enabled user a live token belongs to, else None."""
    if not text or not text.startswith(PREFIX):
        return None
    token = ctx.db.scalar(
        select(ApiToken).where(ApiToken.token_digest == digest(text), ApiToken.revoked_at.is_(None))
    )
    if token is None:
        return None
    user = ctx.db.get(User, token.user_id)
    if user is None or user.disabled:
        return None
    token.last_used_at = utcnow()
    return user
