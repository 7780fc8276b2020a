"""Multipart uploads: create, upload part, list parts, complete, abort, list uploads.

The S3 UploadId is the token of a gshare upload session (gshare/uploads.py), the same sessions
the web UI's chunked uploads use.
"""

from __future__ import annotations

import unicodedata

from werkzeug.wrappers import Response

from gshare import s3view, uploads
from gshare.errors import NotFound
from gshare.models import Node, UploadSession
from gshare.permissions import Action
from gshare.tree import get_node, node_path
from web.s3 import xml
from web.s3.buckets import empty_response, owner, xml_response
from web.s3.errors import S3Error
from web.s3.objects import malformed_xml, prepare_folder, read_xml, stored_metadata

MAX_PARTS_LISTED = 1000


def create_upload(request) -> Response:
    """CreateMultipartUpload: a session for a key, in the folder the key names."""
    s3view.check_key(request.key)
    if request.key.endswith("/"):
        raise S3Error("InvalidArgument", "A key ending in '/' names a folder.")
    metadata = stored_metadata(request.headers)
    folder_id = prepare_folder(request)
    with request.unit_of_work() as (ctx, actor):
        folder = get_node(ctx.db, actor, folder_id, Action.UPLOAD)
        session = uploads.start_upload(ctx, actor, folder, request.key.rpartition("/")[2],
                                       content_type=request.headers.get("Content-Type"),
                                       metadata=metadata or None)
        root = xml.document("InitiateMultipartUploadResult")
        xml.add_all(root, [("Bucket", request.bucket), ("Key", request.key),
                           ("UploadId", session.token)])
    return xml_response(root)


def upload_part(request) -> Response:
    """UploadPart: one part of a session (sent again, it replaces the earlier one)."""
    if "x-amz-copy-source" in request.headers:
        raise S3Error("NotImplemented", "gshare does not implement UploadPartCopy.", 501)
    number = _part_number(request.query.get("partNumber"))
    length = request.payload_length()
    if length is None:
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP "
                      "header.", 411)
    reader = request.body(compute=())
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        part = uploads.upload_part(ctx, actor, session.token, number, reader, length)
        etag = part.md5
    return empty_response(headers={"ETag": f'"{etag}"'})


def list_parts(request) -> Response:
    """ListParts: the parts stored so far, by number, a page at a time."""
    after = _part_number(request.query.get("part-number-marker", "0"), minimum=0)
    limit = min(int(request.query.get("max-parts", MAX_PARTS_LISTED) or 0), MAX_PARTS_LISTED)
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        parts = [p for p in uploads.list_parts(ctx, actor, session.token) if p.number > after]
        root = xml.document("ListPartsResult")
        xml.add_all(root, [("Bucket", request.bucket), ("Key", request.key),
                           ("UploadId", session.token), ("PartNumberMarker", after),
                           ("MaxParts", limit), ("IsTruncated", len(parts) > limit),
                           ("StorageClass", "STANDARD")])
        if len(parts) > limit:
            xml.add(root, "NextPartNumberMarker", parts[limit - 1].number if limit else after)
        owner(root, actor)
        for part in parts[:limit]:
            xml.add_all(xml.add(root, "Part"), [
                ("PartNumber", part.number), ("LastModified", part.created_at),
                ("ETag", f'"{part.md5}"'), ("Size", part.size)])
    return xml_response(root)


def complete_upload(request) -> Response:
    """CompleteMultipartUpload: the parts named, in order, become a new version."""
    root = read_xml(request)
    parts = [(_part_number(xml.child_text(p, "PartNumber")), xml.child_text(p, "ETag") or "")
             for p in root.findall("Part")]
    if not parts:
        raise malformed_xml()
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        version = uploads.complete_upload(ctx, actor, session.token, parts)
        result = xml.document("CompleteMultipartUploadResult")
        xml.add_all(result, [("Location", f"/{request.bucket}/{request.key}"),
                             ("Bucket", request.bucket), ("Key", request.key),
                             ("ETag", f'"{version.etag}"')])
        headers = {"x-amz-version-id": str(version.id)}
    return xml_response(result, headers=headers)


def abort_upload(request) -> Response:
    """AbortMultipartUpload: drop the session and its parts."""
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        uploads.abort_upload(ctx, actor, session.token)
    return empty_response(204)


def list_uploads(request) -> Response:
    """ListMultipartUploads: the key owner's unfinished uploads in the bucket, by key then by
    start time, a page at a time (key-marker, upload-id-marker, max-uploads)."""
    prefix = request.query.get("prefix", "")
    key_marker = request.query.get("key-marker", "")
    id_marker = request.query.get("upload-id-marker", "")
    limit = _max_uploads(request.query.get("max-uploads"))
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        sessions = uploads.list_uploads(ctx, actor, bucket.space.id)
        listed = sorted(((upload_key(ctx, s), s) for s in sessions),
                        key=lambda item: (item[0].encode(), item[1].created_at, item[1].id))
        listed = _after(listed, key_marker, id_marker)
        chosen = [(key, session) for key, session in listed if key.startswith(prefix)]
        page, truncated = chosen[:limit], len(chosen) > limit
        root = xml.document("ListMultipartUploadsResult")
        xml.add_all(root, [("Bucket", request.bucket), ("KeyMarker", key_marker),
                           ("UploadIdMarker", id_marker), ("Prefix", prefix),
                           ("MaxUploads", limit), ("IsTruncated", truncated)])
        if truncated and page:
            xml.add_all(root, [("NextKeyMarker", page[-1][0]),
                               ("NextUploadIdMarker", page[-1][1].token)])
        for key, session in page:
            _upload(root, key, session, actor)
    return xml_response(root)


def upload_key(ctx, session: UploadSession) -> str:
    """Return the S3 key a session will complete to."""
    folder = ctx.db.get(Node, session.folder_id)
    path = node_path(ctx.db, folder).partition("/")[2]
    return f"{path}/{session.name}" if path else session.name


def _upload(root, key: str, session: UploadSession, actor) -> None:
    element = xml.add(root, "Upload")
    xml.add_all(element, [("Key", key), ("UploadId", session.token)])
    owner(element, actor)
    initiator = xml.add(element, "Initiator")
    xml.add_all(initiator, [("ID", actor.username), ("DisplayName", actor.display_name)])
    xml.add_all(element, [("StorageClass", "STANDARD"), ("Initiated", session.created_at)])


def _session(ctx, actor, request) -> UploadSession:
    """Return the request's session, checked against its bucket and key."""
    bucket = request.open_bucket(ctx, actor)
    try:
        session = uploads.get_upload(ctx, actor, request.query.get("uploadId", ""))
    except NotFound:
        session = None
    if session is None or session.space_id != bucket.space.id or (
            upload_key(ctx, session) != unicodedata.normalize("NFC", request.key)):
        raise S3Error("NoSuchUpload", "The specified multipart upload does not exist. The "
                      "upload ID might be invalid, or the multipart upload might have been "
                      "aborted or completed.", 404)
    return session


def _after(listed: list, key_marker: str, id_marker: str) -> list:
    """Return the uploads after the markers: after that upload of the key, or after the key."""
    if not key_marker:
        return listed
    tokens = [(key, session.token) for key, session in listed]
    if id_marker and (key_marker, id_marker) in tokens:
        return listed[tokens.index((key_marker, id_marker)) + 1:]
    return [(key, session) for key, session in listed if key.encode() > key_marker.encode()]


def _max_uploads(value: str | None) -> int:
    if value is None or value == "":
        return MAX_PARTS_LISTED
    if not value.isdigit():
        raise S3Error("InvalidArgument", "max-uploads must be a non-negative integer.",
                      ArgumentName="max-uploads")
    return min(int(value), MAX_PARTS_LISTED)


def _part_number(value: str | None, minimum: int = 1) -> int:
    if value is None or not value.strip().isdigit() or int(value) < minimum:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, "
                      "inclusive", ArgumentName="partNumber")
    return int(value)
