"""Chunked, resumable uploads for the JSON API (gshare.uploads does the work).

start -> PUT each part (any order, again after a dropped connection) -> complete; the parts
already stored are listed so a reloaded page resumes where it stopped.
"""

from __future__ import annotations

from flask import abort, jsonify, request

import web.api.payloads as p
from gshare.files import uploads
from web.api.blueprint import bp, node_json, target_folder
from web.api.validation import takes
from web.context import ctx, require_actor


@bp.post("/uploads")
@takes(body=p.UploadIn, answer=p.UploadStarted, status=201)
def start_upload(body: p.UploadIn):
    """Begin an upload: folder, name, size, and path for files inside a dropped folder."""
    user = require_actor()
    folder = target_folder(user, body.folder, body.path)
    session = uploads.start_upload(
        ctx(), user, folder, body.name, size=body.size, content_type=body.content_type
    )
    return jsonify(token=session.token, folder=folder.id), 201


@bp.get("/uploads/<token>/parts")
@takes(answer=p.Parts)
def list_parts(token: str):
    """List the parts already stored (to resume)."""
    parts = uploads.list_parts(ctx(), require_actor(), token)
    return jsonify(items=[{"number": p.number, "size": p.size} for p in parts])


@bp.put("/uploads/<token>/parts/<int:number>")
@takes(raw_body=True, answer=p.Part)
def upload_part(token: str, number: int):
    """Store one part (the request body)."""
    if request.content_length is None:
        abort(411)
    part = uploads.upload_part(
        ctx(), require_actor(), token, number, request.stream, request.content_length
    )
    return jsonify(number=part.number, size=part.size)


@bp.post("/uploads/<token>/complete")
@takes(answer=p.Node, status=201)
def complete_upload(token: str):
    """Join the parts into a new file version."""
    user = require_actor()
    version = uploads.complete_upload(ctx(), user, token)
    return jsonify(node_json(version.node, version, user)), 201


@bp.delete("/uploads/<token>")
@takes(status=204)
def abort_upload(token: str):
    """Cancel an upload and drop its parts."""
    uploads.abort_upload(ctx(), require_actor(), token)
    return "", 204
