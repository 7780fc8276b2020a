"""Object operations: head, get (ranges, conditions, overrides), put, copy, delete."""

from __future__ import annotations

import threading
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from gshare.access import gate
from gshare.access.permissions import Action
from gshare.core.errors import GshareError, NameTaken, NotFound
from gshare.core.models import Version
from gshare.core.paths import key_path
from gshare.files import content
from gshare.files.conditions import WriteCondition
from gshare.s3 import markers as s3markers
from gshare.s3 import metadata as s3metadata
from gshare.s3 import objects, view
from gshare.s3.metadata import ObjectMetadata
from web.ranges import requested_range
from web.s3 import xml
from web.s3.buckets import empty_response, xml_response
from web.s3.checksum_headers import (
    checksum_elements,
    checksum_headers,
    declared_checksum,
    echoed_checksums,
    wants_checksum,
)
from web.s3.checksums import algorithm_of
from web.s3.errors import (
    S3Error,
    from_gshare,
    invalid_part_number,
    malformed_xml,
    not_implemented,
)
from web.s3.listing import EMPTY_MD5, delete_marker_response, marker_fields, marker_headers

STORED_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)
OVERRIDES = {f"response-{name}": name for name in (*STORED_HEADERS, "content-type")}
MAX_DELETE = 1000
COPY_SOURCE = "x-amz-copy-source-"  # prefix of CopyObject's and UploadPartCopy's conditions


def head_object(request) -> Response:
    """HeadObject: what GetObject would send, without the bytes."""
    return _read(request, head=True)


def get_object(request) -> Response:
    """GetObject: the newest version the person may read (or versionId), whole or a range."""
    return _read(request, head=False)


def put_or_copy_object(request) -> Response:
    """PutObject, or CopyObject when x-amz-copy-source is given."""
    if "x-amz-copy-source" in request.headers:
        return copy_object(request)
    return put_object(request)


def put_object(request) -> Response:
    """PutObject: a new file or a new version of one; a key ending in '/' makes a folder."""
    encryption = asked_encryption(request)
    metadata = object_metadata(request)
    condition = write_condition(request.headers)
    reader = request.body(compute=["md5"])
    if request.key.endswith("/"):
        view.check_key(request.key)
        if reader.read(65536) or reader.read(65536):  # refused before the folder is made
            raise S3Error(
                "InvalidArgument", "A key ending in '/' names a folder; it takes no content."
            )
        prepare_folder(request)
        return empty_response(headers={"ETag": f'"{EMPTY_MD5}"'})

    def put(ctx, actor):
        return objects.put_object(
            ctx,
            actor,
            request.open_space(ctx),
            request.key,
            reader,
            request.payload_length(),
            metadata,
            checksum=declared_checksum(request, reader),
            condition=condition,
        )

    etag, version_id = in_its_folder(request, put, lambda v: (v.etag, v.id))
    headers = {"ETag": f'"{etag}"', "x-amz-version-id": str(version_id)}
    headers.update(encryption_headers(encryption))
    headers.update(echoed_checksums(request, reader.checksums))
    return empty_response(headers=headers)


def copy_object(request) -> Response:
    """CopyObject: the source read as the person, onto a key (the same key too); the copy
    keeps the source's checksum."""
    copy_source(request.headers)
    encryption = asked_encryption(request)
    directive = request.headers.get("x-amz-metadata-directive", "COPY").upper()
    metadata = object_metadata(request) if directive == "REPLACE" else None
    condition = write_condition(request.headers)
    request.body(compute=()).read()

    def copy(ctx, actor):
        source = open_copy_source(request, ctx, actor)
        space = request.open_space(ctx)
        copied = objects.copy_object(ctx, actor, source, space, request.key, metadata, condition)
        return source, copied, encryption

    return in_its_folder(request, copy, _copy_result)


def _copy_result(copied: tuple[Version, Version, str | None]) -> Response:
    """Render CopyObject's answer (inside the unit of work: the versions are still attached)."""
    source, version, encryption = copied
    root = xml.document("CopyObjectResult")
    xml.add_all(
        root,
        [
            ("LastModified", version.uploaded_at),
            ("ETag", f'"{version.etag}"'),
            *checksum_elements(version.checksum),
        ],
    )
    headers = {
        "x-amz-version-id": str(version.id),
        "x-amz-copy-source-version-id": str(source.id),
        **encryption_headers(encryption),
    }
    return xml_response(root, headers=headers)


def open_copy_source(request, ctx, actor) -> Version:
    """Return the version x-amz-copy-source names, read as the person (a key limited to one
    space reads only there), once its x-amz-copy-source-if-* conditions hold."""
    bucket_name, key, version_id = copy_source(request.headers)
    bucket = request.open_bucket(ctx, actor, bucket_name)
    node = view.find_node(ctx, actor, bucket, key, Action.READ)
    source = gate.readable_version(ctx.db, actor, node, version_id)
    check_copy_conditions(request.headers, source)
    return source


def delete_object(request) -> Response:
    """DeleteObject: to the trash (a delete marker), one version for good, or a delete marker's
    versionId: the file back from the trash; 204 when it is not there."""
    version_id = _version_id(request.query.get("versionId"), markers=True)
    condition = delete_condition(request.headers, version_id)
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        marker = _delete(ctx, actor, bucket, request.key, version_id, condition)
    return empty_response(204, headers=marker_headers(marker))


def delete_objects(request) -> Response:
    """DeleteObjects: up to 1000 keys, each deleted on its own; Quiet lists only errors."""
    if not any(
        n.lower() == "content-md5"
        or algorithm_of(n)
        or n.lower() in ("x-amz-sdk-checksum-algorithm", "x-amz-trailer")
        for n, _ in request.headers.items()
    ):
        raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5")
    root = read_xml(request)
    quiet = (xml.child_text(root, "Quiet") or "").strip().lower() == "true"
    wanted = [
        (xml.child_text(o, "Key"), xml.child_text(o, "VersionId"), xml.child_text(o, "ETag"))
        for o in root.findall("Object")
    ]
    if not wanted or len(wanted) > MAX_DELETE or any(key is None for key, _, _ in wanted):
        raise malformed_xml()
    result = xml.document("DeleteResult")
    for key, version, etag in wanted:
        _delete_one(request, result, key, version, etag, quiet)
    return xml_response(result)


def write_condition(headers) -> WriteCondition | None:
    """Return the condition If-Match and If-None-Match put on a write (None: none). S3 takes
    only '*' for If-None-Match on writes."""
    if_match, if_none = headers.get("If-Match"), headers.get("If-None-Match")
    if if_match is None and if_none is None:
        return None
    if if_none is not None and if_none.strip() != "*":
        raise not_implemented("If-None-Match other than '*' on a write")
    tags = None if if_match is None else tuple(_etags(if_match))
    return WriteCondition(if_match=tags, if_none_match=if_none is not None)


def delete_condition(headers, version_id) -> WriteCondition | None:
    """Return DeleteObject's If-Match as a condition; the conditions S3 keeps for directory
    buckets, and If-Match with a versionId, answer NotImplemented rather than be ignored."""
    for name in ("x-amz-if-match-last-modified-time", "x-amz-if-match-size"):
        if name in headers:
            raise not_implemented(f"{name} on DeleteObject")
    if_match = headers.get("If-Match")
    if if_match is None:
        return None
    if version_id is not None:
        raise not_implemented("If-Match with a versionId on DeleteObject")
    return WriteCondition(if_match=tuple(_etags(if_match)))


def object_metadata(request) -> ObjectMetadata:
    """Return the Content-Type and stored headers a write gives its object, checked."""
    return s3metadata.object_metadata(
        request.headers.get("Content-Type"), stored_metadata(request.headers)
    )


def asked_encryption(request) -> str | None:
    """Return the server-side encryption a write asks for and gets (see
    s3metadata.requested_encryption): SSE-C keys, for the object or a copy's source, and KMS
    are refused before anything is read or stored."""
    names = [name.lower() for name, _ in request.headers.items()]
    customer_key = any(
        name.startswith(
            (
                "x-amz-server-side-encryption-customer-",
                "x-amz-copy-source-server-side-encryption-customer-",
            )
        )
        for name in names
    )
    asked = request.headers.get("x-amz-server-side-encryption")
    if asked is None and "x-amz-server-side-encryption-aws-kms-key-id" in names:
        asked = "aws:kms"
    return s3metadata.requested_encryption(request.gshare.config, asked, customer_key)


def encryption_headers(encryption: str | None) -> dict:
    """Return the header that tells a client how its object is encrypted at rest, if it is."""
    return {"x-amz-server-side-encryption": encryption} if encryption else {}


def stored_metadata(headers) -> dict:
    """Return the headers S3 keeps with an object: x-amz-meta-* and a few standard ones."""
    metadata = {}
    for name, value in headers.items():
        name = name.lower()
        if name.startswith("x-amz-meta-") or name in STORED_HEADERS:
            metadata[name] = value
    encodings = [
        e
        for e in metadata.pop("content-encoding", "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    if encodings:
        metadata["content-encoding"] = ",".join(e.strip() for e in encodings)
    return metadata


def copy_source(headers) -> tuple[str, str, int | None]:
    """Return (bucket, key, version id) from x-amz-copy-source."""
    path, _, query = headers["x-amz-copy-source"].partition("?")
    try:
        bucket, _, key = unquote(path, errors="strict").lstrip("/").partition("/")
    except UnicodeDecodeError:
        raise S3Error("InvalidArgument", "Invalid copy source encoding.") from None
    if not bucket or not key:
        raise S3Error(
            "InvalidArgument",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    version = query.partition("versionId=")[2] if "versionId=" in query else None
    if version and s3markers.is_marker_id(version):
        raise S3Error(
            "InvalidRequest",
            "The source of a copy request may not specifically "
            "refer to a delete marker by version id.",
        )
    return bucket, key, _version_id(version)


def read_xml(request):
    """Read and parse a small XML request body."""
    body = request.body(compute=()).read(xml.MAX_BODY + 1)
    if len(body) > xml.MAX_BODY:
        raise S3Error("MaxMessageLengthExceeded", "Your request was too big.")
    try:
        return xml.parse(body)
    except xml.MalformedXML:
        raise malformed_xml() from None


def object_headers(version, node, encryption: str | None = None) -> dict:
    """Return the headers that describe a version: length, type (its client's, else the one
    detected), ETag, time, metadata, encryption at rest."""
    headers = {
        "Content-Type": version.client_content_type or version.content_type,
        "ETag": f'"{version.etag}"',
        "Last-Modified": xml.http_date(version.uploaded_at),
        "Accept-Ranges": "bytes",
        "x-amz-version-id": str(version.id),
    }
    headers.update(version.user_metadata or {})
    headers.update(encryption_headers(encryption))
    if not gate.readable_by_others(version):
        headers["x-gshare-scan-state"] = version.scan_state
    return headers


def _read(request, head: bool) -> Response:
    version_id = _version_id(request.query.get("versionId"), markers=True)
    byte_range = None if head else requested_range(request.headers.get("Range"))
    part_number = _check_part_number(request.query.get("partNumber"))
    with request.unit_of_work() as (ctx, actor):
        try:
            bucket = request.open_space(ctx)
            found = view.find_object(ctx, actor, bucket, request.key, version_id)
        except s3markers.DeleteMarkerHit as hit:  # the key is in the trash, or versionId names it
            return delete_marker_response(request, hit)
        node, version = found.node, found.version
        if found.is_folder:
            return _folder(node)
        at_rest = s3metadata.encryption_at_rest(ctx.config)
        headers = _with_overrides(request, object_headers(version, node, at_rest))
        headers.update(part_number)
        if wants_checksum(request):
            headers.update(checksum_headers(version.checksum))
        unchanged = _preconditions(request.headers, version, headers)
        if unchanged is not None or head:
            return unchanged or _head_response(headers, version.size)
        path = key_path(bucket.space.slug, request.key)  # the path found: no query for it
        download = content.read_version(ctx, actor, node, version, byte_range, path)
    return _body_response(download, headers)


def _check_part_number(value: str | None) -> dict:
    """gshare keeps no part boundaries once an upload is complete: every object is one part.
    Part 1 is the whole object, answered with x-amz-mp-parts-count: 1, so a client that
    downloads by parts stops there; any other part does not exist, as S3 answers for a
    one-part object. Return the headers a request for a part adds."""
    if value is None:
        return {}
    if value.strip() == "1":
        return {"x-amz-mp-parts-count": "1"}
    if not value.strip().isdigit():
        raise invalid_part_number(value)
    raise S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)


def _head_response(headers: dict, size: int) -> Response:
    response = empty_response(headers=headers)
    response.headers["Content-Length"] = str(size)
    return response


def _body_response(download, headers: dict) -> Response:
    status = 206 if download.partial else 200
    if download.partial:
        headers["Content-Range"] = f"bytes {download.start}-{download.end}/{download.version.size}"
    body = _Stream(download.stream) if download.stream is not None else [b""]
    response = Response(body, status=status, headers=headers, direct_passthrough=True)
    response.headers["Content-Length"] = str(download.length)
    return response


class _Stream:
    """The store's byte stream as a WSGI body that releases its connection when done."""

    def __init__(self, stream):
        self.stream = stream

    def __iter__(self):
        return iter(self.stream)

    def close(self) -> None:
        self.stream.close()


def _folder(node) -> Response:
    headers = {
        "ETag": f'"{EMPTY_MD5}"',
        "Last-Modified": xml.http_date(node.updated_at),
        "Content-Type": "application/x-directory",
    }
    return empty_response(headers=headers)


def _with_overrides(request, headers: dict) -> dict:
    """Apply the response-* parameters (each replaces its header, whatever its case), refusing
    a value that would split the header; keep browsers from running what is served."""
    for param, name in OVERRIDES.items():
        if param not in request.query:
            continue
        value = request.query[param]
        if any(ch in value for ch in "\r\n\0"):
            raise S3Error(
                "InvalidArgument",
                f"{param} may not contain line breaks.",
                ArgumentName=param,
            )
        for existing in [k for k in headers if k.lower() == name]:
            del headers[existing]
        headers[name.title()] = value
    headers["X-Content-Type-Options"] = "nosniff"
    served = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if served.split(";")[0].strip().lower() in ACTIVE_TYPES:
        headers["Content-Security-Policy"] = "sandbox"
    return headers


# Types a browser would run as a page of the S3 endpoint's origin if opened from a presigned
# URL: served sandboxed (no scripts, a unique origin), as the web front end serves them.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
    }
)


def _preconditions(request_headers, version, headers: dict) -> Response | None:
    if not _unchanged(request_headers, version):
        return None
    keep = {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
    return Response(status=304, headers=keep)


def check_copy_conditions(request_headers, version) -> None:
    """Hold a copy's source to x-amz-copy-source-if-*, by GetObject's rules, except that a
    source found unchanged (If-None-Match, If-Modified-Since) fails as well: 412, never 304."""
    if _unchanged(request_headers, version, COPY_SOURCE):
        given = request_headers.get(COPY_SOURCE + "If-None-Match") is not None
        raise _precondition_failed(
            COPY_SOURCE + ("If-None-Match" if given else "If-Modified-Since")
        )


def _unchanged(request_headers, version, prefix: str = "") -> bool:
    """Raise PreconditionFailed where If-Match (or, without it, If-Unmodified-Since) fails;
    tell whether If-None-Match (or, without it, If-Modified-Since) finds the version unchanged.
    So If-Match true with If-Unmodified-Since false passes, and If-None-Match false with
    If-Modified-Since true is unchanged, as S3 documents."""
    etag = version.etag
    modified = version.uploaded_at.replace(microsecond=0)
    if_match = request_headers.get(prefix + "If-Match")
    if if_match is not None and not _etag_in(etag, if_match):
        raise _precondition_failed(prefix + "If-Match")
    since = _http_time(request_headers.get(prefix + "If-Unmodified-Since"))
    if if_match is None and since is not None and modified > since:
        raise _precondition_failed(prefix + "If-Unmodified-Since")
    if_none = request_headers.get(prefix + "If-None-Match")
    if if_none is not None:
        return _etag_in(etag, if_none)
    since = _http_time(request_headers.get(prefix + "If-Modified-Since"))
    return since is not None and modified <= since


def _precondition_failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )


def _etag_in(etag: str, header: str) -> bool:
    tags = _etags(header)
    return "*" in tags or etag in tags


def _etags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]


def _http_time(value: str | None):
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _version_id(value: str | None, markers: bool = False) -> int | str | None:
    if value in (None, "", "null"):
        return None
    if markers and s3markers.is_marker_id(value):
        return value  # a delete marker's id, see s3markers.DeleteMarker
    if not value.isdigit():
        raise S3Error(
            "InvalidArgument",
            "Invalid version id specified",
            ArgumentName="versionId",
            ArgumentValue=value,
        )
    return int(value)


def in_its_folder(request, write, render):
    """Run write(ctx, actor) in one unit of work and render its result there; when the key's
    folder is still to be made, make it first in a transaction of its own (see
    prepare_folder) and write again."""
    for attempt in range(2):
        try:
            with request.unit_of_work() as (ctx, actor):
                return render(write(ctx, actor))
        except objects.FolderMissing:
            if attempt:
                raise NotFound("The folder was removed meanwhile.") from None
            prepare_folder(request)
    raise AssertionError("unreachable")


def prepare_folder(request, attempts: int = 3) -> int:
    """Return the id of the folder the request's key goes into, made in its own transaction.

    Parallel uploads into a new folder (a sync sends ten at a time) wait for the first of this
    process to make it, then find it; with other processes they race, and the loser tries
    again and finds it.
    """
    folder = (request.bucket, request.key.rpartition("/")[0])
    with _FOLDER_LOCKS[hash(folder) % len(_FOLDER_LOCKS)]:
        for attempt in range(attempts):
            try:
                with request.unit_of_work() as (ctx, actor):
                    bucket = request.open_bucket(ctx, actor)
                    return objects.prepare_folder(ctx, actor, bucket, request.key).id
            except (IntegrityError, NameTaken):
                if attempt == attempts - 1:
                    raise
    raise AssertionError("unreachable")


# Striped: two folders sharing a lock only take turns at being made.
_FOLDER_LOCKS = tuple(threading.Lock() for _ in range(64))


def _delete(ctx, actor, bucket, key: str, version_id: int | str | None, condition=None):
    """Return the delete marker this made (or, given its id, removed), if any."""
    if isinstance(version_id, str):
        return s3markers.undelete_object(ctx, actor, bucket, key, version_id)
    if version_id is not None:
        objects.delete_version(ctx, actor, bucket, key, version_id)
        return None
    if objects.delete_object(ctx, actor, bucket, key, condition):
        return s3markers.latest_delete_marker(ctx, actor, bucket, key)
    return None


def _delete_one(
    request, result, key: str, version: str | None, etag: str | None, quiet: bool
) -> None:
    try:
        version_id = _version_id(version, markers=True)
        condition = delete_condition({} if etag is None else {"If-Match": etag}, version_id)
        with request.unit_of_work() as (ctx, actor):
            bucket = request.open_bucket(ctx, actor)
            marker = _delete(ctx, actor, bucket, key, version_id, condition)
    except (GshareError, S3Error) as error:
        error = from_gshare(error, request.bucket, key) if isinstance(error, GshareError) else error
        xml.add_all(
            xml.add(result, "Error"),
            [
                ("Key", key),
                ("VersionId", version),
                ("Code", error.code),
                ("Message", error.message),
            ],
        )
        return
    if not quiet:
        xml.add_all(
            xml.add(result, "Deleted"),
            [("Key", key), ("VersionId", version), *marker_fields(marker)],
        )
