"""gshare's HTTP front ends: the Flask app factory (UI, JSON API, health)."""

from __future__ import annotations

from flask import Flask

from gshare.config import Config


def create_app(config: Config, gshare=None) -> Flask:
    """Build the Flask app for a config; `gshare` is the runtime (built from config if None)."""
    from gshare import local
    from gshare.runtime import Gshare

    app = Flask(__name__)
    app.config["SECRET_KEY"] = local.secret_key(config)
    app.extensions["gshare"] = gshare or Gshare.from_config(config)
    from web import health

    app.register_blueprint(health.bp)
    return app
