"""Access keys for the S3 endpoint: one person's key id and secret, maybe read-only or one space.

The secret is shown once, when the key is created, and stored encrypted (Fernet) under a key
derived from the server secret; the S3 endpoint decrypts it to verify a request's signature.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import bindparam, select, update

from gshare.access.accounts import may_manage_keys_of, require_keys_manager, require_system_admin
from gshare.activity import audit
from gshare.core import crypto
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import AccessKey, Space, User, utcnow

KEY_ID_PREFIX = "GS"
_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class NewKey:
    """A key just created: the row, and its secret (shown this once, never again)."""

    key: AccessKey
    secret: str


@dataclass(frozen=True)
class KeyHolder:
    """Who signs with a key, and what the key limits them to."""

    key: AccessKey
    user: User
    secret: str


def create_key(
    ctx: Context,
    actor: Actor,
    user: User,
    label: str = "",
    read_only: bool = False,
    space: Space | None = None,
) -> NewKey:
    """Create an access key for a person; return it with its secret."""
    require_keys_manager(actor, user.id)
    secret = secrets.token_urlsafe(30)
    key = AccessKey(
        user_id=user.id,
        key_id=_new_key_id(),
        label=label.strip()[:200],
        secret_encrypted=_fernet(ctx.config).encrypt(secret.encode()).decode(),
        read_only=read_only,
        space_id=space.id if space else None,
    )
    ctx.db.add(key)
    ctx.db.flush()
    audit.record(
        ctx,
        actor,
        "key.create",
        target=key.key_id,
        user=user.username,
        read_only=read_only,
        space=space.slug if space else None,
    )
    return NewKey(key, secret)


def list_keys(
    ctx: Context, actor: Actor, user: User | None = None, revoked: bool = False
) -> list[AccessKey]:
    """Return a person's keys (everyone's for an administrator and user None), oldest first."""
    if user is None:
        require_system_admin(actor)
    else:
        require_keys_manager(actor, user.id)
    query = select(AccessKey).order_by(AccessKey.id)
    if user is not None:
        query = query.where(AccessKey.user_id == user.id)
    if not revoked:
        query = query.where(AccessKey.revoked_at.is_(None))
    return list(ctx.db.scalars(query))


def label_key(ctx: Context, actor: Actor, key_id: str, label: str) -> AccessKey:
    """Change the label of a key."""
    key = get_key(ctx, actor, key_id)
    key.label = label.strip()[:200]
    ctx.db.flush()
    return key


def revoke_key(ctx: Context, actor: Actor, key_id: str) -> AccessKey:
    """Revoke a key: requests signed with it are refused from now on."""
    key = get_key(ctx, actor, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        ctx.db.flush()
        audit.record(ctx, actor, "key.revoke", target=key.key_id)
    return key


def revoke_all_keys(ctx: Context, actor: Actor, user: User) -> int:
    """Revoke every key of a person's; return how many."""
    keys = list_keys(ctx, actor, user)
    for key in keys:
        key.revoked_at = utcnow()
    audit.record(ctx, actor, "key.revoke_all", target=user.username, count=len(keys))
    return len(keys)


def get_key(ctx: Context, actor: Actor, key_id: str) -> AccessKey:
    """Return a key of the actor's (any key for an administrator), else NotFound."""
    key = ctx.db.scalar(select(AccessKey).where(AccessKey.key_id == key_id))
    if key is None or not may_manage_keys_of(actor, key.user_id):
        raise NotFound(f"No access key '{key_id}'.")
    return key


def get_own_key(ctx: Context, actor: Actor, key_id: str) -> AccessKey:
    """Return one of the actor's own keys, else NotFound (for an administrator too: the web
    page changes one's own keys; `gshare key` manages everyone's)."""
    key = ctx.db.scalar(select(AccessKey).where(AccessKey.key_id == key_id))
    if key is None or actor.is_operator or key.user_id != actor.id:
        raise NotFound(f"No access key '{key_id}'.")
    return key


def find_holder(db, config, key_id: str) -> KeyHolder | None:
    """Return the live key with this id, its enabled owner and its secret, or None."""
    return find_holder_with(db, config, LIVE_KEY, {"key_id": key_id})[0]


def find_holder_with(db, config, query, params: dict) -> tuple[KeyHolder | None, tuple]:
    """Like find_holder, with LIVE_KEY extended by columns of the caller's (the S3 endpoint
    reads the request's space with the key: one round trip where two were made); return the
    holder and those columns' values, or (None, ())."""
    row = db.execute(query, params).first()
    if row is None:
        return None, ()
    try:
        secret = _fernet(config).decrypt(row[0].secret_encrypted.encode()).decode()
    except InvalidToken:
        return None, ()  # encrypted under another server secret: the key cannot be used
    return KeyHolder(row[0], row[1], secret), tuple(row[2:])


# Built once: every S3 request asks it (the parameter is key_id).
LIVE_KEY = (
    select(AccessKey, User)
    .join(User, User.id == AccessKey.user_id)
    .where(
        AccessKey.key_id == bindparam("key_id"),
        AccessKey.revoked_at.is_(None),
        User.disabled.is_(False),
    )
)


def touch_due(key: AccessKey) -> bool:
    """Tell whether a key's use is to be recorded now (at most every few minutes)."""
    return key.last_used_at is None or utcnow() - key.last_used_at >= _TOUCH_EVERY


def touch_key(db, key: AccessKey) -> bool:
    """Record that a key was used (at most every few minutes); tell whether it wrote."""
    if not touch_due(key):
        return False
    db.execute(update(AccessKey).where(AccessKey.id == key.id).values(last_used_at=utcnow()))
    return True


def reencrypt_secrets(ctx: Context) -> int:
    """Encrypt every stored key secret under the current server secret (after a rotation, so
    that the retired secret can be dropped from `old_secret_keys`); return how many changed.
    A secret no secret in the ring decrypts is left as it is (that key cannot be used)."""
    changed = 0
    for key in ctx.db.scalars(select(AccessKey)):
        if resealed := crypto.reseal(ctx.config, _PURPOSE, key.secret_encrypted):
            key.secret_encrypted, changed = resealed, changed + 1
    return changed


_PURPOSE = b"gshare access-key secrets v1"


def _new_key_id() -> str:
    return KEY_ID_PREFIX + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(18))


def _fernet(config) -> MultiFernet:
    return crypto.fernet(config, _PURPOSE)
