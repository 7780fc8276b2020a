"""Single sign-on pages: the redirect to the OpenID Connect provider and back, and the way out
through the provider's sign-out.

Authlib's Flask client does the protocol: discovery, the authorization code flow with PKCE
(S256), state and nonce kept in the signed session cookie, the ID token's signature against the
provider's JWKS (fetched again when a new key id appears), its issuer, audience and times within
`[oidc] leeway_seconds`. gshare/accounts/oidc.py turns the checked claims into an account, and
the session starts exactly as after a password (web/auth.start_session).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from gshare.accounts import login, oidc
from web import security
from web.auth import start_session
from web.context import ctx

bp = Blueprint("oidc", __name__)

CALLBACK = "/login/oidc/callback"
TIME_CLAIMS = ("exp", "iat", "nbf")
PENDING_KEPT = 5  # sign-ins begun in one browser and not finished (several tabs)


@bp.record_once
def _register(state) -> None:
    settings = state.app.extensions["gshare"].config.oidc
    if not settings.enabled:
        return
    oauth = OAuth(state.app)
    client = oauth.register(
        "provider",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(settings.scopes),
            "code_challenge_method": "S256",
            "timeout": 15,
        },
    )
    state.app.extensions["gshare_oidc"] = client
    parts = urlsplit(settings.issuer)
    state.app.extensions["gshare_oidc_origin"] = f"{parts.scheme}://{parts.netloc}"


@bp.after_app_request
def _allow_sign_out_at_provider(response):
    """Let the sign-out form's redirects end at the provider (CSP form-action covers them)."""
    origin = current_app.extensions.get("gshare_oidc_origin")
    if origin and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = security.CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


@bp.app_context_processor
def _sign_in_choices() -> dict:
    settings = current_app.extensions["gshare"].config.oidc
    return {
        "sso_name": settings.provider_name if settings.enabled else None,
        "sso_enabled": settings.enabled,
        "password_form_shown": settings.local_passwords or request.args.get("local") == "1",
    }


@bp.get("/login/oidc", endpoint="start")
def start():
    """Send the browser to the provider to sign in."""
    client = _client()
    redirect_uri = _settings_url(CALLBACK)
    try:
        client.load_server_metadata()
        found = client.create_authorization_url(redirect_uri)
    except (requests.RequestException, ValueError) as exc:
        return _refused(oidc.refuse(ctx(), "unavailable", repr(exc)), 503)
    client.save_authorize_data(redirect_uri=redirect_uri, **found)
    pending = dict(list(session.get("oidc_pending", {}).items())[-(PENDING_KEPT - 1) :])
    pending[found["state"]] = time.time()
    session["oidc_pending"] = pending
    session["oidc_next"] = login.return_path(request.args.get("next"))
    return redirect(found["url"])


@bp.get(CALLBACK, endpoint="callback")
def callback():
    """Take the provider's answer: check it, sign the person in, start their session."""
    client, settings = _client(), current_app.extensions["gshare"].config.oidc
    pending = dict(session.get("oidc_pending", {}))
    started = pending.pop(request.args.get("state", ""), None)
    session["oidc_pending"] = pending
    try:
        oidc.check_sign_in_age(started, settings)
        claims = _checked_claims(client, settings.leeway_seconds)
        identity = oidc.read_identity(settings, settings.issuer, claims)
        user = oidc.sign_in_with_identity(ctx(), identity)
    except oidc.SignInRefused as refusal:
        oidc.refuse(ctx(), refusal.reason, str(refusal))
        return _refused(refusal, 403 if refusal.reason in ("disabled", "taken") else 400)
    next_path = session.get("oidc_next")
    start_session(user, provider_sid=str(claims.get("sid") or "") or None)
    session["signed_in_with"] = "oidc"
    return redirect(next_path or "/")


@bp.get("/logout/oidc/frontchannel", endpoint="frontchannel_logout")
def frontchannel_logout():
    """End the sessions that came from the provider session it names (OpenID Connect
    Front-Channel Logout 1.0: the provider loads this in an iframe, with iss and sid)."""
    _client()
    oidc.end_provider_session(ctx(), request.args.get("iss", ""), request.args.get("sid", ""))
    response = make_response("", 200)
    origin = current_app.extensions["gshare_oidc_origin"]
    response.headers["Content-Security-Policy"] = f"default-src 'none'; frame-ancestors {origin}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout/oidc/backchannel", endpoint="backchannel_logout")
@security.csrf.exempt  # the provider calls it, server to server, with a signed token
def backchannel_logout():
    """End the sessions a logout token names (OpenID Connect Back-Channel Logout 1.0: the
    provider POSTs `logout_token`, a JWT it signed, when a person signs out there or is
    logged out by an administrator): 200 when done, 400 with the reason when the token is
    refused, 503 when the provider's keys cannot be fetched to check it."""
    client, settings = _client(), current_app.extensions["gshare"].config.oidc
    try:
        claims = _verified_jwt(client, request.form.get("logout_token", ""))
        sid, sub = oidc.read_logout_token(settings, claims)
    except (JoseError, ValueError, oidc.LogoutRefused) as exc:
        message = str(exc)
        current_app.logger.warning("back-channel logout refused: %s", message)
        return _no_store(
            {"error": "invalid_request", "error_description": message or "bad token"}, 400
        )
    except (requests.RequestException, RuntimeError) as exc:
        current_app.logger.warning("back-channel logout: the provider's keys: %r", exc)
        return _no_store({"error": "temporarily_unavailable"}, 503)
    oidc.end_logged_out_sessions(ctx(), sid, sub)
    return _no_store("", 200)


def _verified_jwt(client, token: str) -> dict:
    """Return the claims of a JWT signed with one of the provider's keys (its key set fetched
    again when the token names a key not in it)."""
    metadata = client.load_server_metadata()
    algorithms = metadata.get("id_token_signing_alg_values_supported")
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        return dict(jwt.decode(token, keys, registry=registry).claims)
    except InvalidKeyIdError:
        keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
        return dict(jwt.decode(token, keys, registry=registry).claims)


def _no_store(body, status: int):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/logout/oidc", endpoint="sign_out")
def sign_out():
    """Send a browser just signed out of gshare on to the provider's sign-out."""
    client = _client()
    try:
        ending = client.create_logout_url(
            post_logout_redirect_uri=_settings_url("/login"), client_id=client.client_id
        )
    except (requests.RequestException, RuntimeError):
        return redirect("/login")
    return redirect(ending["url"])


def _checked_claims(client, leeway: int) -> dict:
    """Return the ID token's checked claims merged with the userinfo endpoint's answer."""
    try:
        token = client.authorize_access_token(leeway=leeway)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise oidc.SignInRefused("The provider sent no ID token.", "token")
        if client.load_server_metadata().get("userinfo_endpoint"):
            more = client.userinfo(token=token)
            if more.get("sub") != claims.get("sub"):
                raise oidc.SignInRefused("The provider's answers name two people.", "token")
            claims = {**more, **claims}
    except MismatchingStateError as exc:
        raise oidc.SignInRefused("This sign-in was not started here.", "state") from exc
    except ClaimError as exc:
        if isinstance(exc, ExpiredTokenError) or exc.claim in TIME_CLAIMS:
            raise oidc.SignInRefused(f"The ID token's time is off: {exc}", "clock") from exc
        raise oidc.SignInRefused(f"The ID token was not for this sign-in: {exc}", "token") from exc
    except JoseError as exc:
        raise oidc.SignInRefused(f"The ID token could not be verified: {exc}", "token") from exc
    except OAuthError as exc:
        raise oidc.SignInRefused(f"The provider refused: {exc}", "provider") from exc
    except requests.RequestException as exc:
        raise oidc.SignInRefused(f"The provider did not answer: {exc}", "unavailable") from exc
    return claims


def _client():
    client = current_app.extensions.get("gshare_oidc")
    if client is None:
        abort(404)
    return client


def _settings_url(path: str) -> str:
    return current_app.extensions["gshare"].config.server.public_url.rstrip("/") + path


def _refused(refusal: oidc.SignInRefused, status: int):
    return render_template("oidc_refused.html", reason=refusal.reason), status
