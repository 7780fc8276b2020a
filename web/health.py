"""Health endpoints for load balancers and operators: /healthz (alive), /readyz (can serve),
/metrics (Prometheus text format). The checks are gshare.ops.health's."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from gshare.ops import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    gs = current_app.extensions["gshare"]
    checks = health.components(gs)
    ready = all(check["up"] for check in checks.values())
    body = dict(status="ready" if ready else "not ready", **checks)
    if checks["database"]["up"]:
        body["scan_queue"] = health.scan_queue(gs)
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    gs = current_app.extensions["gshare"]
    up = health.components(gs)
    lines = ["# TYPE gshare_up gauge"]
    lines += [f'gshare_up{{component="{name}"}} {int(c["up"])}' for name, c in up.items()]
    if up["database"]["up"]:
        for name, value in health.scan_queue(gs).items():
            lines += [f"# TYPE gshare_scan_{name} gauge", f"gshare_scan_{name} {value or 0}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
