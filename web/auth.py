"""Signing in and out, the account page (password, API tokens), one's sessions and the
language switch."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from gshare.accounts import api_tokens, factors, login, passwords, sessions
from web import shown_once
from web.context import WebUser, actor, ctx, require_actor
from web.i18n import LANGUAGES

bp = Blueprint("auth", __name__)

REFUSALS = {
    login.Outcome.WRONG: "wrong",
    login.Outcome.LOCKED: "locked",
    login.Outcome.SLOWED: "slowed",
    login.Outcome.THROTTLED: "throttled",
    login.Outcome.PASSWORDS_OFF: "passwords_off",
    login.Outcome.DIRECTORY_DOWN: "directory_down",
    login.Outcome.DIRECTORY_REFUSED: "directory_refused",
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
    next_path = login.return_path(request.args.get("next"))
    if result.second_step:  # web/factors.py asks for the second factor
        _fresh_session()
        session["factor_pending"] = {"user": result.user.id, "at": time.time(), "next": next_path}
        return redirect(url_for("factors.second_step"))
    start_session(result.user)
    return redirect(next_path or url_for("browse.home"))


def start_session(user, second_factor: bool = False, provider_sid: str | None = None) -> None:
    """Begin a fresh session for a person, keeping only the language choice."""
    _fresh_session()
    session.permanent = True
    started = sessions.start_session(
        ctx(),
        user,
        request.headers.get("User-Agent", ""),
        second_factor=second_factor,
        provider_sid=provider_sid,
    )
    session["sid"] = started.token
    login_user(WebUser(user, session_id=started.session.id))


def _fresh_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.post("/logout")
def logout():
    """Sign out: end this session on every node and forget the cookie."""
    user = actor()
    via_provider = session.get("signed_in_with") == "oidc"
    if user is not None:
        if current_user.session_id is not None:
            sessions.end_session(ctx(), user, current_user.session_id)
        login.sign_out(ctx(), user)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("oidc.sign_out" if via_provider else "auth.login"))


@bp.post("/language")
def language():
    """Remember the language chosen for this browser."""
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(login.return_path(request.form.get("next")) or url_for("browse.home"))


@bp.get("/account")
def account():
    """Show the person's account: password change and API tokens."""
    user = require_actor()
    tokens = api_tokens.list_tokens(ctx(), user)
    return render_template("account.html", tokens=tokens, new_token=shown_once.take("new_token"))


@bp.post("/account/password")
def change_password():
    """Change one's own password (every other session of the person ends)."""
    form = request.form
    revoke = form.get("keys") == "revoke"
    passwords.change_own_password(
        ctx(),
        require_actor(),
        form.get("current", ""),
        form.get("new", ""),
        form.get("repeat", ""),
        keep_session=current_user.session_id,
        revoke_keys=revoke,
    )
    flash(_("Your password was changed. Other sessions were signed out."))
    if revoke:
        flash(_("Your API tokens and S3 access keys were revoked."))
    return redirect(url_for("auth.account"))


@bp.get("/account/sessions")
def session_list():
    """Show where the person is signed in, with this device marked."""
    user = require_actor()
    return render_template(
        "sessions.html",
        sessions=sessions.list_sessions(ctx(), user),
        this_session=current_user.session_id,
    )


@bp.post("/account/sessions/<int:session_id>/end")
def end_session(session_id: int):
    """End one of one's sessions (this one too: that signs out here)."""
    sessions.end_session(ctx(), require_actor(), session_id)
    flash(_("The session was ended."))
    return redirect(url_for("auth.session_list"))


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    """End every session of one's but this one."""
    sessions.end_other_sessions(ctx(), require_actor(), current_user.session_id)
    flash(_("Every other session was ended."))
    return redirect(url_for("auth.session_list"))


@bp.post("/account/tokens")
def create_token():
    """Create a personal API token and show it once (after a recent second factor)."""
    factors.require_recent_factor(ctx(), require_actor(), current_user.session_id)
    _token, text = api_tokens.create_token(ctx(), require_actor(), request.form.get("label", ""))
    shown_once.keep("new_token", text)
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens."""
    api_tokens.revoke_token(ctx(), require_actor(), token_id)
    flash(_("The token was revoked."))
    return redirect(url_for("auth.account"))
