"""The second factor's pages: the step after the password, and adding and removing an
authenticator app, security keys (gshare/accounts/security_keys.py; web/static/webauthn.js asks
the browser) and recovery codes on the account page (gshare/accounts/factors.py).

Between a right password and the second factor the browser is half signed in: its signed
session cookie holds who and since when (`factor_pending`), no session row exists yet, and
after `[mfa] sign_in_minutes` the sign-in must start again.
"""

from __future__ import annotations

import time

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from gshare.accounts import factors, login, security_keys, sessions
from gshare.core.errors import FactorNeeded, InvalidInput
from gshare.core.models import User
from web import shown_once
from web.auth import start_session
from web.context import actor, ctx, require_actor
from web.errors import sentence, wants_json

# what a person who must add a factor now may still open
OPEN_WHILE_DUE = frozenset(
    {"static", "auth.login", "auth.logout", "auth.language", "health.healthz", "health.readyz"}
)

bp = Blueprint("factors", __name__)


@bp.route("/login/factor", endpoint="second_step", methods=["GET", "POST"])
def second_step():
    """Ask for the second factor after a right password; start the session only then."""
    user = _half_signed_in()
    if user is None:
        return _start_again()
    if request.method == "GET":
        return _step_page(user, None)
    outcome = factors.verify_second_factor(ctx(), user, request.form.get("code", ""))
    return _after_second_step(user, outcome, "wrong")


@bp.post("/login/factor/key/options", endpoint="second_step_key_options")
def second_step_key_options():
    """Give the browser a challenge for one of the half-signed-in person's security keys."""
    user = _half_signed_in()
    if user is None:
        return {"error": {"code": "unauthorized", "message": _("Please sign in first.")}}, 401
    return _json(security_keys.begin_sign_in(ctx(), user))


@bp.post("/login/factor/key", endpoint="second_step_key")
def second_step_key():
    """Check the security key's answer after a right password; start the session only then."""
    user = _half_signed_in()
    if user is None:
        return _start_again()
    outcome, problem = security_keys.verify_security_key(
        ctx(), user, request.form.get("credential", "")
    )
    return _after_second_step(user, outcome, problem)


def _after_second_step(user: User, outcome: login.Outcome, problem):
    if outcome == login.Outcome.LOCKED:
        session.pop("factor_pending", None)
        return render_template("login.html", refusal="locked"), 401
    if outcome != login.Outcome.OK:
        return _step_page(user, problem), 401
    next_path = session["factor_pending"].get("next")
    start_session(user, second_factor=True)
    return redirect(next_path or url_for("browse.home"))


def _start_again():
    session.pop("factor_pending", None)
    flash(_("The sign-in took too long. Enter your username and password again."))
    return redirect(url_for("auth.login"))


def _step_page(user: User, refusal, again: bool = False):
    """The page asking for a code or a key; refusal is "wrong" (a code) or a key's error."""
    return render_template(
        "factor_step.html",
        refusal="wrong" if refusal == "wrong" else None,
        key_problem=None if refusal in (None, "wrong") else sentence(refusal),
        has_keys=bool(security_keys.list_keys(ctx(), user)),
        has_codes=any(f.kind == factors.TOTP for f in factors.list_factors(ctx(), user))
        or bool(factors.count_recovery_codes(ctx(), user)),
        again=again,
    )


@bp.before_app_request
def _send_to_enrolment():
    """Send a person whose grace has ended to add a factor before anything else; remind one
    still in grace once per session. Sign-ins through OIDC rely on the provider's factor."""
    user = actor()
    if user is None or current_user.by_token or session.get("signed_in_with") == "oidc":
        return None
    endpoint = request.endpoint or ""
    if endpoint in OPEN_WHILE_DUE or endpoint.startswith("factors."):
        return None
    needed = factors.requirement(ctx(), user)
    if needed.state == "due":
        flash(_("Your administrator requires a second factor: add one to continue."))
        return redirect(url_for("factors.manage"))
    if needed.state == "grace" and not session.get("factor_reminded"):
        session["factor_reminded"] = True
        flash(
            _(
                "Your administrator requires a second factor. Add one before %(date)s.",
                date=needed.until.date().isoformat(),
            )
        )
    return None


@bp.app_errorhandler(FactorNeeded)
def _confirm_first(exc: FactorNeeded):
    """Ask for the second factor again, then come back to the page the form was on."""
    if wants_json():
        return {"error": {"code": exc.code, "message": sentence(exc)}}, 403
    back = login.return_path(request.form.get("next")) or _same_site_referrer()
    return redirect(url_for("factors.reconfirm", next=back))


@bp.route("/account/factors/confirm", endpoint="reconfirm", methods=["GET", "POST"])
def reconfirm():
    """Prove the second factor again in a session (before making a token or an S3 key)."""
    user = require_actor()
    if request.method == "GET":
        return _step_page(user, None, again=True)
    outcome = factors.verify_second_factor(ctx(), user, request.form.get("code", ""))
    return _after_reconfirm(user, outcome, "wrong")


@bp.post("/account/factors/confirm/key/options", endpoint="reconfirm_key_options")
def reconfirm_key_options():
    """Give the browser a challenge for one of the person's security keys."""
    return _json(security_keys.begin_sign_in(ctx(), require_actor()))


@bp.post("/account/factors/confirm/key", endpoint="reconfirm_key")
def reconfirm_key():
    """Prove the second factor again with a security key."""
    user = require_actor()
    outcome, problem = security_keys.verify_security_key(
        ctx(), user, request.form.get("credential", "")
    )
    return _after_reconfirm(user, outcome, problem)


def _after_reconfirm(user: User, outcome: login.Outcome, problem):
    if outcome != login.Outcome.OK:
        return _step_page(user, problem, again=True), 401
    sessions.note_second_factor(ctx(), user, current_user.session_id)
    flash(_("Confirmed. You can make the token or key now."))
    return redirect(login.return_path(request.args.get("next")) or url_for("auth.account"))


@bp.get("/account/factors")
def manage():
    """Show one's second factors and recovery codes, and the ways to add one."""
    user = require_actor()
    return render_template(
        "factors.html",
        factors=factors.list_factors(ctx(), user),
        codes_left=factors.count_recovery_codes(ctx(), user),
        new_codes=shown_once.take("recovery_codes"),
    )


@bp.post("/account/factors/totp")
def begin_totp():
    """Start adding an authenticator app."""
    enrolment = factors.begin_totp(ctx(), require_actor(), request.form.get("label", ""))
    return redirect(url_for("factors.confirm_totp", factor_id=enrolment.factor.id))


@bp.route("/account/factors/totp/<int:factor_id>", methods=["GET", "POST"])
def confirm_totp(factor_id: int):
    """Show the new app's QR code and secret; make it work with a first right code."""
    user = require_actor()
    if request.method == "POST":
        try:
            codes = factors.confirm_totp(ctx(), user, factor_id, request.form.get("code", ""))
        except InvalidInput as exc:
            return _totp_page(user, factor_id, sentence(exc)), 400
        sessions.note_second_factor(ctx(), user, current_user.session_id)
        shown_once.keep("recovery_codes", codes)
        flash(_("The authenticator app was added. Sign-ins now ask for its code."))
        return redirect(url_for("factors.manage"))
    return _totp_page(user, factor_id, None)


@bp.post("/account/factors/key/options", endpoint="key_options")
def key_options():
    """Give the browser the options to make a new security key or passkey for gshare."""
    return _json(security_keys.begin_registration(ctx(), require_actor()))


@bp.post("/account/factors/key", endpoint="add_key")
def add_key():
    """Add the security key the browser made (its answer comes in a hidden field)."""
    user = require_actor()
    try:
        codes = security_keys.finish_registration(
            ctx(), user, request.form.get("credential", ""), request.form.get("label", "")
        )
    except InvalidInput as exc:
        flash(sentence(exc))
        return redirect(url_for("factors.manage"))
    sessions.note_second_factor(ctx(), user, current_user.session_id)
    shown_once.keep("recovery_codes", codes)
    flash(_("The security key was added. Sign-ins now ask for it."))
    return redirect(url_for("factors.manage"))


@bp.post("/account/factors/<int:factor_id>/remove")
def remove(factor_id: int):
    """Remove one of one's factors (the password is asked again)."""
    try:
        factors.remove_factor(ctx(), require_actor(), factor_id, request.form.get("password", ""))
    except InvalidInput as exc:
        flash(sentence(exc))
        return redirect(url_for("factors.manage"))
    flash(_("The second factor was removed."))
    return redirect(url_for("factors.manage"))


@bp.post("/account/factors/recovery-codes")
def renew_recovery_codes():
    """Make ten new recovery codes (the password is asked again); the old stop working."""
    try:
        codes = factors.renew_recovery_codes(
            ctx(), require_actor(), request.form.get("password", "")
        )
    except InvalidInput as exc:
        flash(sentence(exc))
        return redirect(url_for("factors.manage"))
    shown_once.keep("recovery_codes", codes)
    return redirect(url_for("factors.manage"))


def _totp_page(user: User, factor_id: int, error: str | None):
    enrolment = factors.pending_totp(ctx(), user, factor_id)
    qr = segno.make(enrolment.uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return render_template(
        "factor_totp.html", enrolment=enrolment, secret=enrolment.secret, qr=qr, error=error
    )


def _json(text: str):
    return current_app.response_class(text, mimetype="application/json")


def _same_site_referrer() -> str | None:
    referrer = request.referrer or ""
    if not referrer.startswith(request.host_url):
        return None
    return login.return_path("/" + referrer[len(request.host_url) :])


def _half_signed_in() -> User | None:
    """Return the person whose password was right in this browser a moment ago, else None."""
    pending = session.get("factor_pending")
    if not isinstance(pending, dict):
        return None
    minutes = ctx().config.mfa.sign_in_minutes
    if (
        not isinstance(pending.get("at"), (int, float))
        or time.time() - pending["at"] > minutes * 60
    ):
        return None
    user = ctx().db.get(User, pending.get("user"))
    return None if user is None or user.disabled else user
