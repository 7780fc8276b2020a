"""One unit of work per request, the signed-in person, and who is acting.

The unit of work opens before the view and commits after it (in after_request, so a failed
commit is a failed request); any error rolls it back. A streamed download opens its stream in
the view, the commit happens before the first byte goes out, and the stream needs no database.
"""

from __future__ import annotations

import contextlib

from flask import Flask, abort, current_app, g, request, session
from flask_login import LoginManager, current_user

from gshare.access import accounts, gate
from gshare.accounts import api_tokens, sessions
from gshare.core.models import User
from gshare.files import previews
from gshare.scanning import verdicts

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


class WebUser:
    """The signed-in person as Flask-Login sees them; `.user` is the gshare User (the actor)."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User, by_token: bool = False, session_id: int | None = None):
        self.user, self.by_token, self.session_id = user, by_token, session_id

    @property
    def is_active(self) -> bool:
        return not self.user.disabled

    def get_id(self) -> str:
        return str(self.user.id)


def install(app: Flask) -> None:
    """Open a unit of work per request and load the signed-in person through it."""
    login_manager.init_app(app)
    app.jinja_env.globals.update(
        is_administrator=accounts.is_administrator,
        is_system_admin=accounts.is_system_admin,
        shown_scan_state=gate.shown_scan_state,
        is_quarantined=gate.is_quarantined,
        scan_hold_bytes=lambda: verdicts.held_above(gshare().config),
        has_thumbnail=previews.has_thumbnail,
    )
    app.before_request(_open)
    app.after_request(_commit)
    app.teardown_request(_close)


def gshare():
    """Return the app's gshare runtime."""
    return current_app.extensions["gshare"]


def ctx():
    """Return this request's unit of work, opening it if needed."""
    if "uow" not in g:
        stack = contextlib.ExitStack()
        g.uow = stack.enter_context(gshare().unit_of_work(ip=request.remote_addr))
        g.uow_stack = stack
    return g.uow


def actor() -> User | None:
    """Return the person acting in this request (None when nobody is signed in)."""
    return current_user.user if current_user.is_authenticated else None


def require_actor() -> User:
    """Return the signed-in person, or answer 401 / send to the sign-in page."""
    user = actor()
    if user is None:
        abort(401)
    return user


def failed() -> None:
    """Mark this request's unit of work for rollback (an error page was rendered)."""
    g.uow_failed = True


@login_manager.user_loader
def _load_user(user_id: str):
    found = sessions.find_session(ctx(), session.get("sid", ""))
    if found is None or str(found.user_id) != user_id:
        return None
    return WebUser(ctx().db.get(User, found.user_id), session_id=found.id)


@login_manager.request_loader
def _load_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    user = api_tokens.authenticate_token(ctx(), header[7:].strip())
    return WebUser(user, by_token=True) if user else None


def _open() -> None:
    if request.endpoint not in (None, "static", "health.healthz", "health.readyz"):
        ctx()


def _commit(response):
    stack = g.pop("uow_stack", None)
    if stack is None:
        return response
    if g.get("uow_failed") or response.status_code >= 500:
        stack.__exit__(RuntimeError, RuntimeError("request failed"), None)
    else:
        stack.close()
    return response


def _close(exc) -> None:
    stack = g.pop("uow_stack", None)
    if stack is not None:
        stack.__exit__(type(exc or RuntimeError), exc or RuntimeError("no response"), None)
