"""gshare's HTTP front ends: the Flask app factory (UI, JSON API, public links, health)."""

from __future__ import annotations

import importlib
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from gshare.core import crypto
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.ops.health import WEB_ALONE, NodeParts
from web import context, errors, i18n, observe, security

BLUEPRINTS = (
    "health",
    "auth",
    "browse",
    "files",
    "sharing",
    "links",
    "admin",
    "api",
    "notices",
    "access_keys",
    "oidc",
    "preferences",
    "factors",
)


def create_app(config: Config, gshare=None, parts: NodeParts = WEB_ALONE) -> Flask:
    """Build the Flask app for a config; `gshare` is the runtime (built from config if None);
    `parts` are what this node runs beside it, for /readyz (gshare serve's S3 and workers)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = RowId
    app.config.update(_settings(config, crypto.secret_key(config)))
    app.config["SECRET_KEY_FALLBACKS"] = list(config.server.old_secret_keys)
    app.extensions["gshare"] = gshare or Gshare.from_config(config)
    app.extensions["gshare_parts"] = parts
    _install(app)
    _trust_proxies(app, config.server.trusted_proxies)
    return app


class RowId(IntegerConverter):
    """`<int:...>` in every route: an id fits SQL's INTEGER, so a larger one matches no route
    (404) instead of reaching the database (PostgreSQL: "integer out of range", a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


MAX_ROW_ID = 2**31 - 1


def _trust_proxies(app: Flask, count: int) -> None:
    """Take the client's address, scheme and host from the X-Forwarded-* headers that the
    `count` reverse proxies in front set; without proxies those headers are ignored."""
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _settings(config: Config, secret_key: str) -> dict:
    secure = config.server.public_url.startswith("https://")
    return {
        "SECRET_KEY": secret_key,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_NAME": "gshare_session",
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # the cookie lives as long as its session may; the database decides when it ends
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=config.sessions.lifetime_hours),
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "SEND_FILE_MAX_AGE_DEFAULT": timedelta(days=365),
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    }


def _install(app: Flask) -> None:
    context.install(app)
    security.install(app)
    i18n.install(app)
    errors.install(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"web.{name}").bp)
    observe.install(app)
