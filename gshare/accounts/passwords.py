"""A person changes their own password: their other sessions end, and, if they ask, their API
tokens and S3 access keys are revoked too (a password change after a theft)."""

from __future__ import annotations

from gshare.accounts import access_keys, api_tokens
from gshare.core.context import Context
from gshare.core.errors import InvalidInput
from gshare.core.models import User
from gshare.org import users


def change_own_password(
    ctx: Context,
    actor: User,
    current: str,
    new: str,
    repeat: str,
    keep_session: int | None,
    revoke_keys: bool,
) -> None:
    """Change the actor's password, ending their other sessions; revoke keys if asked."""
    if users.authenticate(ctx, actor.username, current) is None:
        raise InvalidInput("The current password is not right.")
    if new != repeat:
        raise InvalidInput("The two new passwords are not the same.")
    users.set_password(ctx, actor, actor, new, keep_session=keep_session)
    if revoke_keys:
        api_tokens.revoke_all_tokens(ctx, actor)
        access_keys.revoke_all_keys(ctx, actor, actor)
