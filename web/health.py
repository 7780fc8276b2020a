"""Health endpoints for load balancers and operators: /healthz (alive), /readyz (can serve:
every part this node runs answers), /metrics (Prometheus). The checks are gshare.ops.health's;
each is bounded, whatever the site's size."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from gshare.ops import health, metrics

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    gs = current_app.extensions["gshare"]
    checks = health.components(gs, current_app.extensions["gshare_parts"])
    ready = all(check["up"] for check in checks.values())
    body = dict(status="ready" if ready else "not ready", **checks)
    if checks["database"]["up"]:
        body["scan_queue"] = health.scan_queue(gs)
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics", endpoint="metrics")
def metrics_page():
    gs = current_app.extensions["gshare"]
    checks = health.components(gs, current_app.extensions["gshare_parts"])
    gauges = [
        metrics.Gauge(
            "gshare_up",
            "Whether a part this node depends on answers (1) or not (0).",
            ("component",),
            tuple(((name,), float(check["up"])) for name, check in checks.items()),
        )
    ]
    if checks["database"]["up"]:
        for name, value in health.scan_queue(gs).items():
            gauges.append(
                metrics.Gauge(f"gshare_scan_{name}", QUEUE_HELP[name], (), (((), value or 0),))
            )
    body, content_type = metrics.exposition(gauges)
    return Response(body, content_type=content_type)


QUEUE_HELP = {
    "pending": "Versions waiting for their first scan.",
    "errors": "Versions whose scan failed, waiting for a retry.",
    "quarantined": "Versions held back as infected or blocked, not released.",
    "oldest_pending_seconds": "How long the oldest version waiting for a scan has waited.",
}
