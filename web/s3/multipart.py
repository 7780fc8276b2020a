"""Multipart uploads: create, upload part, list parts, complete, abort, list uploads.

The S3 UploadId is the token of a gshare upload session (gshare/uploads.py), the same sessions
the web UI's chunked uploads use.
"""

from __future__ import annotations

import dataclasses
import unicodedata

from werkzeug.wrappers import Response

from gshare.access.permissions import Action
from gshare.core.errors import NotFound
from gshare.core.models import CompletedUpload, Node, UploadPart, UploadSession
from gshare.core.paths import node_path
from gshare.files import uploads
from gshare.files.content import ByteRange
from gshare.files.lookup import get_node
from gshare.s3 import view
from web.ranges import requested_range
from web.s3 import xml
from web.s3.buckets import empty_response, owner, xml_response
from web.s3.checksum_headers import (
    checksum_elements,
    declared_algorithms,
    declared_checksum,
    echoed_checksums,
)
from web.s3.checksums import (
    ALGORITHMS,
    COMPOSITE,
    FULL_OBJECT,
    FULL_OBJECT_ALGORITHMS,
    Checksum,
    algorithm_of,
    element_name,
    header_name,
    multipart_checksum,
)
from web.s3.errors import S3Error, invalid_part_number, malformed_xml
from web.s3.objects import (
    asked_encryption,
    encryption_headers,
    object_metadata,
    open_copy_source,
    prepare_folder,
    read_xml,
    write_condition,
)

MAX_PARTS_LISTED = 1000
_PART_CHECKSUMS = {element_name(alg): alg for alg in ALGORITHMS}  # ChecksumCRC32 -> crc32


def create_upload(request) -> Response:
    """CreateMultipartUpload: a session for a key, in the folder the key names."""
    view.check_key(request.key)
    if request.key.endswith("/"):
        raise S3Error("InvalidArgument", "A key ending in '/' names a folder.")
    encryption = asked_encryption(request)
    metadata = object_metadata(request)
    algorithm, kind = _asked_checksum(request.headers)
    folder_id = prepare_folder(request)
    with request.unit_of_work() as (ctx, actor):
        folder = get_node(ctx, actor, folder_id, Action.UPLOAD)
        session = uploads.start_upload(
            ctx,
            actor,
            folder,
            request.key.rpartition("/")[2],
            content_type=metadata.content_type,
            metadata=metadata.headers or None,
            checksum_algorithm=algorithm,
            checksum_type=kind,
        )
        root = xml.document("InitiateMultipartUploadResult")
        xml.add_all(
            root, [("Bucket", request.bucket), ("Key", request.key), ("UploadId", session.token)]
        )
    headers = (
        {"x-amz-checksum-algorithm": algorithm.upper(), "x-amz-checksum-type": kind}
        if algorithm
        else {}
    )
    headers.update(encryption_headers(encryption))
    return xml_response(root, headers=headers)


def upload_part(request) -> Response:
    """UploadPart: one part of a session (sent again, it replaces the earlier one); the
    checksum its client declared is kept for the object's (see complete_upload). In an
    upload created with a checksum algorithm, a part declaring another is refused, as S3
    does, and a part declaring none gets that algorithm's, worked out here."""
    asked_encryption(request)  # a part with a customer key (SSE-C) is refused
    if "x-amz-copy-source" in request.headers:
        return copy_part(request)
    number = _part_number(request.query.get("partNumber"))
    length = request.payload_length()
    if length is None:
        raise S3Error(
            "MissingContentLength", "You must provide the Content-Length HTTP header.", 411
        )
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        algorithm = _part_algorithm(request, session.checksum_algorithm)
        reader = request.body(compute=(algorithm,) if algorithm else ())
        part = uploads.upload_part(
            ctx,
            actor,
            session.token,
            number,
            reader,
            length,
            checksum=_part_checksum(request, reader, algorithm),
        )
        etag = part.md5
    headers = {"ETag": f'"{etag}"', **echoed_checksums(request, reader.checksums)}
    if algorithm:
        headers[header_name(algorithm)] = reader.checksums[algorithm]
    return empty_response(headers=headers)


def copy_part(request) -> Response:
    """UploadPartCopy: a part filled in the store with an object the person may read, or with
    the bytes x-amz-copy-source-range names; the source is checked as CopyObject's is."""
    number = _part_number(request.query.get("partNumber"))
    byte_range = _copy_range(request.headers.get("x-amz-copy-source-range"))
    request.body(compute=()).read()
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        source = open_copy_source(request, ctx, actor)
        algorithm = session.checksum_algorithm
        part = uploads.copy_part(
            ctx,
            actor,
            session.token,
            number,
            source,
            byte_range,
            checksum=Checksum(algorithm) if algorithm else None,
        )
        root = xml.document("CopyPartResult")
        xml.add_all(
            root,
            [("LastModified", part.created_at), ("ETag", f'"{part.md5}"'), *_part_checksums(part)],
        )
        headers = {"x-amz-copy-source-version-id": str(source.id)}
    return xml_response(root, headers=headers)


def list_parts(request) -> Response:
    """ListParts: the parts stored so far, by number, a page at a time."""
    after = _part_number(request.query.get("part-number-marker", "0"), minimum=0)
    limit = min(int(request.query.get("max-parts", MAX_PARTS_LISTED) or 0), MAX_PARTS_LISTED)
    with request.unit_of_work() as (ctx, actor):
        session = _session(ctx, actor, request)
        parts = [p for p in uploads.list_parts(ctx, actor, session.token) if p.number > after]
        root = xml.document("ListPartsResult")
        xml.add_all(
            root,
            [
                ("Bucket", request.bucket),
                ("Key", request.key),
                ("UploadId", session.token),
                ("PartNumberMarker", after),
                ("MaxParts", limit),
                ("IsTruncated", len(parts) > limit),
                ("StorageClass", "STANDARD"),
                *_upload_checksum(session),
            ],
        )
        if len(parts) > limit:
            xml.add(root, "NextPartNumberMarker", parts[limit - 1].number if limit else after)
        owner(root, actor)
        for part in parts[:limit]:
            xml.add_all(
                xml.add(root, "Part"),
                [
                    ("PartNumber", part.number),
                    ("LastModified", part.created_at),
                    ("ETag", f'"{part.md5}"'),
                    ("Size", part.size),
                    *_part_checksums(part),
                ],
            )
    return xml_response(root)


def complete_upload(request) -> Response:
    """CompleteMultipartUpload: the parts named, in order, become a new version. Sent again
    after it succeeded (a client that lost the answer), it answers the same for a day."""
    encryption = asked_encryption(request)
    condition = write_condition(request.headers)
    root = _completion_xml(request)
    parts = [
        (
            _part_number(xml.child_text(p, "PartNumber")),
            xml.child_text(p, "ETag") or "",
            _listed_checksums(p),
        )
        for p in root.findall("Part")
    ]
    if not parts:
        raise malformed_xml()
    with request.unit_of_work() as (ctx, actor):
        version = _completed(ctx, actor, request)
        if version is None:
            session = _session(ctx, actor, request)
            version = uploads.complete_upload(
                ctx,
                actor,
                session.token,
                parts,
                combine=_object_checksum(request, session),
                condition=condition,
            )
        result = xml.document("CompleteMultipartUploadResult")
        xml.add_all(
            result,
            [
                ("Location", f"/{request.bucket}/{request.key}"),
                ("Bucket", request.bucket),
                ("Key", request.key),
                ("ETag", f'"{version.etag}"'),
                *checksum_elements(version.checksum),
            ],
        )
        headers = {"x-amz-version-id": str(version.id), **encryption_headers(encryption)}
    return xml_response(result, headers=headers)


def _completed(ctx, actor, request):
    """Return the version the request's upload made, if it was completed within a day, at
    this bucket and key, by this person."""
    found = uploads.completed_upload(ctx, actor, request.query.get("uploadId", ""))
    if found is None:
        return None
    done, version = found
    bucket = request.open_bucket(ctx, actor)
    folder = ctx.db.get(Node, done.folder_id)
    if folder is None or folder.space_id != bucket.space.id:
        return None
    if upload_key(ctx, done) != unicodedata.normalize("NFC", request.key):
        return None
    return version


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
        listed = sorted(
            ((upload_key(ctx, s), s) for s in sessions),
            key=lambda item: (item[0].encode(), item[1].created_at, item[1].id),
        )
        listed = _after(listed, key_marker, id_marker)
        chosen = [(key, session) for key, session in listed if key.startswith(prefix)]
        page, truncated = chosen[:limit], len(chosen) > limit
        root = xml.document("ListMultipartUploadsResult")
        xml.add_all(
            root,
            [
                ("Bucket", request.bucket),
                ("KeyMarker", key_marker),
                ("UploadIdMarker", id_marker),
                ("Prefix", prefix),
                ("MaxUploads", limit),
                ("IsTruncated", truncated),
            ],
        )
        if truncated and page:
            xml.add_all(
                root, [("NextKeyMarker", page[-1][0]), ("NextUploadIdMarker", page[-1][1].token)]
            )
        for key, session in page:
            _upload(root, key, session, actor)
    return xml_response(root)


def upload_key(ctx, session: UploadSession | CompletedUpload) -> str:
    """Return the S3 key a session will complete (or completed) to."""
    folder = ctx.db.get(Node, session.folder_id)
    path = node_path(ctx.db, folder).partition("/")[2]
    return f"{path}/{session.name}" if path else session.name


def _upload(root, key: str, session: UploadSession, actor) -> None:
    element = xml.add(root, "Upload")
    xml.add_all(element, [("Key", key), ("UploadId", session.token)])
    owner(element, actor)
    initiator = xml.add(element, "Initiator")
    xml.add_all(initiator, [("ID", actor.username), ("DisplayName", actor.display_name)])
    xml.add_all(
        element,
        [
            ("StorageClass", "STANDARD"),
            ("Initiated", session.created_at),
            *_upload_checksum(session),
        ],
    )


def _upload_checksum(session: UploadSession) -> list[tuple[str, str]]:
    """Return the elements that show the checksum an upload was created with, if any."""
    if not session.checksum_algorithm:
        return []
    return [
        ("ChecksumAlgorithm", session.checksum_algorithm.upper()),
        ("ChecksumType", session.checksum_type),
    ]


def _part_checksums(part: UploadPart) -> list[tuple[str, str]]:
    """Return the elements that show the checksums a part keeps: ChecksumCRC32..."""
    return [(element_name(alg), value) for alg, value in (part.checksums or {}).items()]


def _asked_checksum(headers) -> tuple[str | None, str | None]:
    """Return the checksum algorithm and type CreateMultipartUpload asks for. S3's default
    type is FULL_OBJECT for CRC64NVME (it has no other), COMPOSITE for the rest; FULL_OBJECT
    is for CRCs only."""
    algorithm = headers.get("x-amz-checksum-algorithm", "").strip().lower()
    kind = headers.get("x-amz-checksum-type", "").strip().upper()
    if not algorithm:
        if kind:
            raise S3Error(
                "InvalidRequest",
                "The x-amz-checksum-type header can only be used "
                "with the x-amz-checksum-algorithm header.",
            )
        return None, None
    if algorithm not in ALGORITHMS:
        raise S3Error("InvalidRequest", "Value for x-amz-checksum-algorithm header is invalid.")
    if kind not in ("", COMPOSITE, FULL_OBJECT):
        raise S3Error("InvalidRequest", "Value for x-amz-checksum-type header is invalid.")
    kind = kind or (FULL_OBJECT if algorithm == "crc64nvme" else COMPOSITE)
    if (kind == FULL_OBJECT and algorithm not in FULL_OBJECT_ALGORITHMS) or (
        kind == COMPOSITE and algorithm == "crc64nvme"
    ):
        raise S3Error(
            "InvalidRequest",
            f"The {kind} checksum type cannot be used with the {algorithm} checksum algorithm.",
        )
    return algorithm, kind


def _part_algorithm(request, expected: str | None) -> str | None:
    """Return the algorithm a part's checksum must be of (the upload's), having refused a part
    that declares another (in a header, a trailer or x-amz-sdk-checksum-algorithm)."""
    if expected is None:
        return None
    other = next(
        (alg for alg in sorted(set(declared_algorithms(request))) if alg != expected), None
    )
    if other is not None:
        raise S3Error(
            "InvalidRequest",
            "Checksum Type mismatch occurred, expected checksum "
            f"Type: {expected}, actual checksum Type: {other}",
        )
    return expected


def _part_checksum(request, reader, algorithm: str | None):
    """Return what gives, once the part is read, the checksum it keeps: the upload's
    algorithm's (checked against the client's value if it sent one), else the client's."""
    if algorithm is None:
        return declared_checksum(request, reader)
    return lambda: (algorithm, reader.checksums[algorithm])


def _listed_checksums(part) -> dict[str, str]:
    """Return the checksums a <Part> of CompleteMultipartUpload lists: {algorithm: base64}."""
    return {
        _PART_CHECKSUMS[child.tag]: (child.text or "").strip()
        for child in part
        if child.tag in _PART_CHECKSUMS
    }


def _session(ctx, actor, request) -> UploadSession:
    """Return the request's session, checked against its bucket and key."""
    bucket = request.open_bucket(ctx, actor)
    try:
        session = uploads.get_upload(ctx, actor, request.query.get("uploadId", ""))
    except NotFound:
        session = None
    if (
        session is None
        or session.space_id != bucket.space.id
        or (upload_key(ctx, session) != unicodedata.normalize("NFC", request.key))
    ):
        raise S3Error(
            "NoSuchUpload",
            "The specified multipart upload does not exist. The "
            "upload ID might be invalid, or the multipart upload might have been "
            "aborted or completed.",
            404,
        )
    return session


def _after(listed: list, key_marker: str, id_marker: str) -> list:
    """Return the uploads after the markers: after that upload of the key, or after the key."""
    if not key_marker:
        return listed
    tokens = [(key, session.token) for key, session in listed]
    if id_marker and (key_marker, id_marker) in tokens:
        return listed[tokens.index((key_marker, id_marker)) + 1 :]
    return [(key, session) for key, session in listed if key.encode() > key_marker.encode()]


def _max_uploads(value: str | None) -> int:
    if value is None or value == "":
        return MAX_PARTS_LISTED
    if not value.isdigit():
        raise S3Error(
            "InvalidArgument",
            "max-uploads must be a non-negative integer.",
            ArgumentName="max-uploads",
        )
    return min(int(value), MAX_PARTS_LISTED)


def _completion_xml(request):
    """Read CompleteMultipartUpload's body. Its x-amz-checksum-* headers are the whole object's
    (see _object_checksum), not the body's: the body is not checked against them."""
    body_headers = {
        name: value for name, value in request.headers.items() if algorithm_of(name) is None
    }
    return read_xml(dataclasses.replace(request, headers=body_headers))


def _object_checksum(request, session: UploadSession):
    """Return how CompleteMultipartUpload makes the object's checksum from its parts': of the
    type the upload was created with; else S3's COMPOSITE, or FULL_OBJECT when
    x-amz-checksum-type asks for it or the client sends the whole object's value
    (x-amz-checksum-<crc>), which must then match."""
    sent = {
        alg: value.strip()
        for name, value in request.headers.items()
        if (alg := algorithm_of(name)) is not None
    }
    asked = request.headers.get("x-amz-checksum-type", "").strip().upper()
    if session.checksum_type and asked and asked != session.checksum_type:
        raise S3Error(
            "InvalidRequest",
            f"The upload was created using the "
            f"{session.checksum_type} checksum type. The complete request must use "
            "the same checksum type.",
        )
    kind = session.checksum_type or (FULL_OBJECT if asked == FULL_OBJECT or sent else COMPOSITE)

    def combine(parts) -> dict | None:
        checksum = multipart_checksum([(p.checksums, p.size) for p in parts], kind)
        expected = checksum and sent.get(checksum["algorithm"])
        if expected and expected != checksum["value"]:
            raise S3Error(
                "BadDigest",
                f"The {header_name(checksum['algorithm'])} you "
                "specified did not match the checksum of the parts.",
            )
        return checksum

    return combine


def _copy_range(value: str | None) -> ByteRange | None:
    """Return the bytes x-amz-copy-source-range names, first and last both given (None: the
    whole source)."""
    if value is None:
        return None
    byte_range = requested_range(value)
    if byte_range is None or byte_range[0] < 0 or byte_range[1] is None:
        raise S3Error(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the "
            "form bytes=first-last where first and last are the zero-based offsets "
            "of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=value,
        )
    return byte_range


def _part_number(value: str | None, minimum: int = 1) -> int:
    if value is None or not value.strip().isdigit() or int(value) < minimum:
        raise invalid_part_number(value)
    return int(value)
