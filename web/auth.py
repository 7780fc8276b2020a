"""Signing in and out, the account page (password, API tokens) and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from gshare.accounts import api_tokens, login
from gshare.core.errors import InvalidInput
from gshare.org import users
from web import shown_once
from web.context import WebUser, actor, ctx, require_actor
from web.i18n import LANGUAGES

bp = Blueprint("auth", __name__)

REFUSALS = {
    login.Outcome.WRONG: "wrong",
    login.Outcome.LOCKED: "locked",
    login.Outcome.THROTTLED: "throttled",
}


@bp.route("/login", endpoint="login", methods=["GET", "POST"])
def login_page():
    """Show the sign-in form and sign a person in."""
    if request.method == "GET":
        return render_template("login.html", refusal=None)
    result = login.sign_in(
        ctx(), request.form.get("username", ""), request.form.get("password", "")
    )
    if result.outcome != login.Outcome.OK:
        return render_template("login.html", refusal=REFUSALS[result.outcome]), 401
    start_session(result.user)
    return redirect(_safe_next(request.args.get("next")))


def start_session(user) -> None:
    """Begin a fresh session for a person, keeping only the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    session["epoch"] = user.session_epoch
    login_user(WebUser(user))


@bp.post("/logout")
def logout():
    """Sign out and forget the session."""
    user = actor()
    if user is not None:
        login.sign_out(ctx(), user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Remember the language chosen for this browser."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/account")
def account():
    """Show the person's account: password change and API tokens."""
    user = require_actor()
    tokens = api_tokens.list_tokens(ctx(), user)
    return render_template("account.html", tokens=tokens, new_token=shown_once.take("new_token"))


@bp.post("/account/password")
def change_password():
    """Change one's own password (every other session of the person ends)."""
    user = require_actor()
    if users.authenticate(ctx(), user.username, request.form.get("current", "")) is None:
        raise InvalidInput(_("The current password is not right."))
    if request.form.get("new") != request.form.get("repeat"):
        raise InvalidInput(_("The two new passwords are not the same."))
    users.set_password(ctx(), user, user, request.form.get("new", ""))
    session["epoch"] = user.session_epoch
    flash(_("Your password was changed. Other sessions were signed out."))
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
def create_token():
    """Create a personal API token and show it once."""
    _token, text = api_tokens.create_token(ctx(), require_actor(), request.form.get("label", ""))
    shown_once.keep("new_token", text)
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens."""
    api_tokens.revoke_token(ctx(), require_actor(), token_id)
    flash(_("The token was revoked."))
    return redirect(url_for("auth.account"))


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or ("\\" in target):
        return url_for("browse.home")
    return target
