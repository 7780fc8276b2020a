"""Response headers every page gets (CSP, nosniff, framing) and safe download headers."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
# Previews of user content: no scripts, no forms, no plugins, a unique origin.
PREVIEW_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


def install(app: Flask) -> None:
    """Protect forms against CSRF and add security headers to every response."""
    csrf.init_app(app)
    app.after_request(_headers)


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    policy = headers["Content-Security-Policy"]
    if "frame-ancestors" not in policy or policy.endswith("frame-ancestors 'self'"):
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # else the page names its framers
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def content_disposition(kind: str, filename: str) -> str:
    """Return a Content-Disposition header whose filename survives any script (RFC 6266/5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename)}"
