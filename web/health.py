"""Health endpoints for load balancers and operators: /healthz (alive), /readyz (can serve),
/metrics (Prometheus text format)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

import antivirus
import storage
from gshare.scan_queue import queue_stats

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    gs = current_app.extensions["gshare"]
    checks = {"database": _database(gs), "object_store": _object_store(gs),
              "scanner": scanner_status(gs)}
    ready = all(check["up"] for check in checks.values())
    body = dict(status="ready" if ready else "not ready", **checks)
    if checks["database"]["up"]:
        body["scan_queue"] = _queue(gs)
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    gs = current_app.extensions["gshare"]
    up = {"database": _database(gs), "object_store": _object_store(gs),
          "scanner": scanner_status(gs)}
    lines = ["# TYPE gshare_up gauge"]
    lines += [f'gshare_up{{component="{name}"}} {int(c["up"])}' for name, c in up.items()]
    if up["database"]["up"]:
        for name, value in _queue(gs).items():
            lines += [f"# TYPE gshare_scan_{name} gauge", f"gshare_scan_{name} {value or 0}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def _queue(gs) -> dict:
    with gs.sessions() as db:
        stats = queue_stats(db)
    return {"pending": stats.pending, "errors": stats.errors, "quarantined": stats.quarantined,
            "oldest_pending_seconds": stats.oldest_pending_seconds}


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


def scanner_status(gs) -> dict:
    """Say whether clamd answers, with its engine and signature versions, or why not."""
    try:
        version = gs.scanner.version()
    except antivirus.ScannerError as exc:
        return {"up": False, "reason": str(exc) or type(exc).__name__}
    return {"up": True, "engine": version.engine, "signatures": version.database,
            "signatures_date": version.database_date}
