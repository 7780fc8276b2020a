"""The S3 access keys page: a person's keys for sync tools (aws cli, rclone, s3cmd).

Thin views over gshare.access_keys. The secret of a new key reaches the page that shows it
once through web/shown_once.py, never readable in the session cookie.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from gshare.access.visibility import space_view, visible_spaces
from gshare.accounts import access_keys, factors
from gshare.core.errors import NotFound
from gshare.core.models import Space, User
from web import shown_once
from web.context import ctx, require_actor

bp = Blueprint("access_keys", __name__)

NEW_KEY = "new_access_key"


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/account/keys")
def keys():
    """List the person's live keys, the form to create one, and a new key's secret once."""
    user = require_actor()
    live = access_keys.list_keys(ctx(), user, user)
    return render_template(
        "access_keys.html",
        keys=live,
        limited_to=_limited_to(live),
        spaces=[view.space for view in visible_spaces(ctx(), user)],
        new_key=shown_once.take(NEW_KEY),
        endpoint=s3_public_url(ctx().config),
    )


@bp.post("/account/keys")
def create_key():
    """Create a key for oneself, maybe read-only or limited to one space the person sees."""
    user = require_actor()
    factors.require_recent_factor(ctx(), user, current_user.session_id)
    space = _visible_space(user, request.form.get("space", ""))
    new = access_keys.create_key(
        ctx(),
        user,
        user,
        request.form.get("label", ""),
        read_only=bool(request.form.get("read_only")),
        space=space,
    )
    shown_once.keep(
        NEW_KEY,
        {"key_id": new.key.key_id, "secret": new.secret, "bucket": space.slug if space else None},
    )
    return redirect(url_for(".keys"))


@bp.post("/account/keys/<key_id>/label")
def label_key(key_id: str):
    """Change the label of one of one's own keys."""
    access_keys.label_key(ctx(), _own_key_actor(key_id), key_id, request.form.get("label", ""))
    flash(_("The label of %(key_id)s was changed.", key_id=key_id))
    return redirect(url_for(".keys"))


@bp.post("/account/keys/<key_id>/revoke")
def revoke_key(key_id: str):
    """Revoke one of one's own keys: the next request signed with it is refused."""
    access_keys.revoke_key(ctx(), _own_key_actor(key_id), key_id)
    flash(
        _(
            "The key %(key_id)s was revoked; sync tools using it are refused from now on.",
            key_id=key_id,
        )
    )
    return redirect(url_for(".keys"))


def s3_public_url(config) -> str:
    """Return the address sync tools use to reach the S3 endpoint."""
    return (config.server.s3_public_url or f"http://{config.server.s3_listen}").rstrip("/")


def _own_key_actor(key_id: str) -> User:
    """Return the signed-in person once the key is found to be theirs (else NotFound)."""
    user = require_actor()
    access_keys.get_own_key(ctx(), user, key_id)
    return user


def _visible_space(user, space_id: str) -> Space | None:
    """Return the chosen space if the person sees something of it; empty: None (every space)."""
    if not space_id:
        return None
    space = ctx().db.get(Space, int(space_id)) if space_id.isdigit() else None
    if space is None or space_view(ctx(), user, space) is None:
        raise NotFound(f"No space '{space_id}'.")
    return space


def _limited_to(keys) -> dict[int, Space]:
    """Return the spaces the keys are limited to, by id."""
    ids = {key.space_id for key in keys if key.space_id is not None}
    if not ids:
        return {}
    return {space.id: space for space in ctx().db.scalars(select(Space).where(Space.id.in_(ids)))}
