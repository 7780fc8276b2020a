"""Streamed responses: a file (whole or a byte range) and a folder as a ZIP.

The view opens the download through the service; the unit of work commits before the first
byte goes out (after_request), and the generator below needs only the open store stream.
"""

from __future__ import annotations

from flask import Response, request
from werkzeug.http import parse_date

from gshare.files.previews import BROWSER_IMAGES
from web.ranges import requested_range
from web.security import PREVIEW_CSP, content_disposition


def open_ranged(open_download):
    """Open a download with the range asked for, honouring If-Range: when the client's partial
    copy is of other bytes (another ETag or date), open the whole file instead."""
    opened = open_download(requested_range(request.headers.get("Range")))
    if opened.partial and not _if_range_matches(opened.version):
        if opened.stream is not None:
            opened.stream.close()
        opened = open_download(None)
    return opened


def etag_of(version) -> str:
    """Return the strong ETag of a version (versions never change)."""
    return f'"{version.sha256 or version.etag}"'


def _if_range_matches(version) -> bool:
    condition = request.headers.get("If-Range", "").strip()
    if not condition:
        return True
    if condition.startswith('"'):
        return condition == etag_of(version)
    moment = parse_date(condition)
    return moment is not None and moment == version.uploaded_at.replace(microsecond=0)


def preview_kind(content_type: str) -> str | None:
    """Return how a type may be served inline, sandboxed: image, text, or None."""
    if content_type in BROWSER_IMAGES:
        return "image"
    if content_type.startswith("text/") or content_type in ("application/json", "application/xml"):
        return "text"
    return None


def file_response(download, inline: bool = False) -> Response:
    """Stream an open download with range, caching and safe-name headers."""
    version = download.version
    response = Response(
        _chunks(download.stream),
        status=206 if download.partial else 200,
        direct_passthrough=True,
        mimetype=_mimetype(version, inline),
    )
    headers = response.headers
    headers["Content-Length"] = str(download.length)
    headers["Accept-Ranges"] = "bytes"
    headers["ETag"] = etag_of(version)
    response.last_modified = version.uploaded_at
    headers["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", download.node.name
    )
    if download.partial:
        headers["Content-Range"] = f"bytes {download.start}-{download.end}/{version.size}"
    if inline:
        headers["Content-Security-Policy"] = PREVIEW_CSP
    headers["Cache-Control"] = "private, no-cache"
    return response


def zip_response(chunks, filename: str) -> Response:
    """Stream a ZIP being built."""
    response = Response(chunks, mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition("attachment", filename)
    return response


def _mimetype(version, inline: bool) -> str:
    if not inline:
        return "application/octet-stream"
    kind = preview_kind(version.content_type)
    if kind == "text":
        return "text/plain; charset=utf-8"
    return version.content_type if kind else "application/octet-stream"


def _chunks(stream):
    if stream is None:
        return
    try:
        yield from stream
    finally:
        stream.close()
