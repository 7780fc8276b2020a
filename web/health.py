"""Health endpoints for load balancers and operators: /healthz (alive), /readyz (can serve)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

import antivirus
import storage

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    gs = current_app.extensions["gshare"]
    checks = {"database": _database(gs), "object_store": _object_store(gs),
              "scanner": _scanner(gs)}
    ready = all(check["up"] for check in checks.values())
    return jsonify(status="ready" if ready else "not ready", **checks), 200 if ready else 503


def _database(gs) -> dict:
    try:
        with gs.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"; say which
        return {"up": False, "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return {"up": True, "backend": gs.engine.dialect.name}


def _object_store(gs) -> dict:
    try:
        gs.store.ping()
    except storage.StorageError as exc:
        return {"up": False, "reason": str(exc)}
    return {"up": True, "bucket": gs.store.bucket}


def _scanner(gs) -> dict:
    try:
        version = gs.scanner.version()
    except antivirus.ScannerError as exc:
        return {"up": False, "reason": str(exc) or type(exc).__name__}
    return {"up": True, "engine": version.engine, "signatures": version.database,
            "signatures_date": version.database_date}
