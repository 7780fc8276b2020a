"""Every request, on both listeners, counted and logged once: a request id (the proxy's
X-Request-ID when it sends a plain one, or a new one, returned in the answer), then one log
line and the Prometheus samples when the answer's last byte has gone, with the route, the
actor, the status and the duration. The route is the Flask endpoint or the S3 operation, never
the path, which may hold a public link's token."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, request
from flask_login import current_user

from gshare.ops import logs, metrics

log = logging.getLogger("gshare.request")

REQUEST_ID = "gshare.request_id"  # environ keys the apps fill in
ROUTE = "gshare.route"
ACTOR = "gshare.actor"
# Probes a load balancer sends every few seconds: counted, but logged only at DEBUG.
HEALTH_ROUTES = frozenset({"health", "health.healthz", "health.readyz", "health.metrics"})
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class Observed:
    """WSGI middleware around one listener's app ("web" or "s3")."""

    def __init__(self, app, listener: str):
        self.app, self.listener = app, listener

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _PLAIN_ID.fullmatch(incoming) else uuid.uuid4().hex[:16].upper()
        environ[REQUEST_ID] = request_id
        answered: list[int] = []

        def start(status: str, headers: list, exc_info=None):
            answered[:] = [int(status[:3])]
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        with logs.serving(request_id):
            try:
                body = self.app(environ, start)
            except BaseException:
                self._done(environ, 500, started)
                raise
        return _Body(body, lambda: self._done(environ, answered[0] if answered else 500, started))

    def _done(self, environ, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        route, method = environ.get(ROUTE, "unmatched"), environ["REQUEST_METHOD"]
        metrics.observe_request(self.listener, route, method, status, seconds)
        log.log(
            logging.DEBUG if route in HEALTH_ROUTES else logging.INFO,
            "%s %s %s %d %.1f ms",
            self.listener,
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "request_id": environ[REQUEST_ID],
                "route": route,
                "actor": environ.get(ACTOR),
                "listener": self.listener,
                "method": method,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )


class _Body:
    """The answer's body, passed through; `done` runs once, when the server closes it."""

    def __init__(self, body, done):
        self.body, self.done = body, done

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done()


def install(app: Flask) -> None:
    """Count and log every request of the web app, naming its endpoint and signed-in person."""
    app.after_request(_name_request)
    app.wsgi_app = Observed(app.wsgi_app, "web")  # type: ignore[method-assign]


def _name_request(response):
    endpoint = request.endpoint or "unmatched"
    request.environ[ROUTE] = endpoint
    if endpoint not in _NOBODY and current_user.is_authenticated:
        request.environ[ACTOR] = current_user.user.username
    return response


# Endpoints that never load the signed-in person (no database session for a health check).
_NOBODY = frozenset({"unmatched", "static", "health.healthz", "health.readyz", "health.metrics"})
