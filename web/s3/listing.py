"""Listing operations: ListObjects (V1 and V2) and ListObjectVersions, with S3's paging."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from werkzeug.wrappers import Response

from gshare.s3 import markers, view
from web.s3 import xml
from web.s3.buckets import owner, xml_response
from web.s3.errors import S3Error, error_response

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
MAX_KEYS = 1000


@dataclass
class Page:
    """One page of a listing: objects, common prefixes, and where the next page starts."""

    items: list = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_marker: str | None = None


@dataclass(frozen=True)
class Params:
    prefix: str
    delimiter: str
    max_keys: int
    encode: bool


def params(request) -> Params:
    """Read prefix, delimiter, max-keys and encoding-type from the query."""
    raw = request.query.get("max-keys", str(MAX_KEYS))
    if not raw.isdigit():
        raise S3Error(
            "InvalidArgument", "max-keys must be a non-negative integer.", ArgumentName="max-keys"
        )
    encoding = request.query.get("encoding-type")
    if encoding not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    return Params(
        request.query.get("prefix", ""),
        request.query.get("delimiter", ""),
        min(int(raw), MAX_KEYS),
        encoding == "url",
    )


def paginate(entries, key_of, p: Params, marker: str = "") -> Page:
    """Cut sorted entries into a page after marker, rolling keys up at the delimiter."""
    page, count, after = Page(), 0, marker.encode("utf-8")
    if p.max_keys == 0:  # S3 answers an empty page that is not truncated
        return page
    for entry in entries:
        key = key_of(entry)
        rolled = _rolled(key, p.prefix, p.delimiter)
        if (
            key.encode("utf-8") <= after
            or (rolled and marker.startswith(rolled))
            or (rolled and page.prefixes and page.prefixes[-1] == rolled)
        ):
            continue
        if count == p.max_keys:
            page.truncated = True
            break
        count += 1
        page.next_marker = rolled or key
        if rolled:
            page.prefixes.append(rolled)
        else:
            page.items.append(entry)
    return page


def list_objects(request):
    """ListObjectsV2 (list-type=2) or ListObjects (V1)."""
    p = params(request)
    v2 = request.query.get("list-type") == "2"
    marker = _start(request) if v2 else request.query.get("marker", "")
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        objects = view.list_objects(ctx, actor, bucket, p.prefix, p.delimiter)
        page = paginate(objects, lambda o: o.key, p, marker)
        root = xml.document("ListBucketResult")
        _head(root, request, p, v2, page)
        with_owner = not v2 or request.query.get("fetch-owner") == "true"
        owners = _owners(ctx, actor, page.items) if with_owner else {}
        for obj in page.items:
            person = owners.get(view.owner_id(obj.node, obj.version), actor) if with_owner else None
            _content(xml.add(root, "Contents"), obj, p, person)
        _prefixes(root, page, p)
    return xml_response(root)


def list_object_versions(request):
    """ListObjectVersions: every version and delete marker the person may see, newest first."""
    p = params(request)
    key_marker = request.query.get("key-marker", "")
    version_marker = request.query.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise S3Error(
            "InvalidArgument",
            "A version-id marker cannot be specified without a key marker.",
            ArgumentName="version-id-marker",
        )
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        entries = view.list_object_versions(ctx, actor, bucket, p.prefix, p.delimiter)
        entries = _after_version(entries, key_marker, version_marker, p)
        page = paginate(entries, lambda e: e.key, p, "")
        root = xml.document("ListVersionsResult")
        _versions_head(root, request, p, page, key_marker)
        owners = _owners(ctx, actor, page.items)
        for entry in page.items:
            owner_id = view.owner_id(entry.node, entry.version, entry.marker)
            _version(root, entry, p, owners.get(owner_id, actor))
        _prefixes(root, page, p)
    return xml_response(root)


def _owners(ctx, actor, entries) -> dict:
    """Return the people S3 shows as the owners of a page's entries (the requester stands in
    for an entry whose person is unknown)."""
    markers_of = (getattr(e, "marker", None) for e in entries)
    ids = [view.owner_id(e.node, e.version, m) for e, m in zip(entries, markers_of, strict=True)]
    return view.people(ctx, ids)


def delete_marker_response(request, hit: markers.DeleteMarkerHit) -> Response:
    """Answer a GET or HEAD that met a delete marker: 404 NoSuchKey for the key, 405
    MethodNotAllowed when versionId named the marker; both say x-amz-delete-marker."""
    if hit.named:
        error = S3Error(
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
            405,
            Method=request.method,
            ResourceType="DeleteMarker",
        )
    else:
        error = S3Error("NoSuchKey", "The specified key does not exist.", 404, Key=request.key)
    response = error_response(
        error, request.method, f"/{request.bucket}/{request.key}", request.request_id
    )
    response.headers.update(marker_headers(hit.marker))
    response.headers["Last-Modified"] = xml.http_date(hit.marker.deleted_at)
    if hit.named:
        response.headers["Allow"] = "DELETE"
    return response


def marker_headers(marker: markers.DeleteMarker | None) -> dict:
    """Return the headers of a reply about a delete marker (none when there is none)."""
    if marker is None:
        return {}
    return {"x-amz-delete-marker": "true", "x-amz-version-id": marker.id}


def marker_fields(marker: markers.DeleteMarker | None) -> list[tuple[str, object]]:
    """Return the <Deleted> fields of DeleteObjects about a delete marker."""
    if marker is None:
        return []
    return [("DeleteMarker", True), ("DeleteMarkerVersionId", marker.id)]


def encoded(text: str, p: Params) -> str:
    """Return a key as the listing shows it: url-encoded when the client asked."""
    return quote_plus(text, safe="/") if p.encode else text


def _rolled(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return key[: cut + len(delimiter)] if cut >= 0 else None


def _start(request) -> str:
    token = request.query.get("continuation-token")
    if token is None:
        return request.query.get("start-after", "")
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
        ) from None


def _head(root, request, p: Params, v2: bool, page: Page) -> None:
    xml.add_all(
        root,
        [
            ("Name", request.bucket),
            ("Prefix", encoded(p.prefix, p)),
            ("Delimiter", encoded(p.delimiter, p) if p.delimiter else None),
            ("MaxKeys", p.max_keys),
            ("EncodingType", "url" if p.encode else None),
            ("IsTruncated", page.truncated),
        ],
    )
    if v2:
        count = len(page.items) + len(page.prefixes)
        token = request.query.get("continuation-token")
        after = request.query.get("start-after")
        xml.add_all(
            root,
            [
                ("KeyCount", count),
                ("ContinuationToken", token),
                ("StartAfter", encoded(after, p) if after else None),
            ],
        )
        if page.truncated:
            next_token = base64.urlsafe_b64encode(page.next_marker.encode()).decode()
            xml.add(root, "NextContinuationToken", next_token)
        return
    xml.add(root, "Marker", encoded(request.query.get("marker", ""), p))
    if page.truncated:
        xml.add(root, "NextMarker", encoded(page.next_marker, p))


def _content(element, obj: view.S3Object, p: Params, person) -> None:
    xml.add(element, "Key", encoded(obj.key, p))
    _details(element, obj, person)


def _details(element, obj: view.S3Object, person) -> None:
    version = obj.version
    xml.add_all(
        element,
        [
            ("LastModified", version.uploaded_at if version else obj.node.updated_at),
            ("ETag", f'"{version.etag if version else EMPTY_MD5}"'),
            ("Size", version.size if version else 0),
            ("StorageClass", "STANDARD"),
        ],
    )
    if person is not None:
        owner(element, person)


def _prefixes(root, page: Page, p: Params) -> None:
    for prefix in page.prefixes:
        xml.add(xml.add(root, "CommonPrefixes"), "Prefix", encoded(prefix, p))


def _after_version(entries, key_marker: str, version_marker: str, p: Params):
    """Drop the entries up to key-marker (and version-id-marker within that key)."""
    if not key_marker:
        return entries
    result, passed, after = [], not version_marker, key_marker.encode()
    for entry in entries:
        key = entry.key
        rolled = _rolled(key, p.prefix, p.delimiter)
        if key.encode() < after or (rolled and key_marker.startswith(rolled)):
            continue
        if key == key_marker:
            if not passed:
                passed = entry.version_id == version_marker
            if not version_marker or entry.version_id == version_marker or not passed:
                continue
        result.append(entry)
    return result


def _versions_head(root, request, p: Params, page: Page, key_marker: str) -> None:
    xml.add_all(
        root,
        [
            ("Name", request.bucket),
            ("Prefix", encoded(p.prefix, p)),
            ("KeyMarker", encoded(key_marker, p)),
            ("VersionIdMarker", request.query.get("version-id-marker", "")),
            ("Delimiter", encoded(p.delimiter, p) if p.delimiter else None),
            ("MaxKeys", p.max_keys),
            ("EncodingType", "url" if p.encode else None),
            ("IsTruncated", page.truncated),
        ],
    )
    if not page.truncated:
        return
    xml.add(root, "NextKeyMarker", encoded(page.next_marker, p))
    if not (page.prefixes and page.prefixes[-1] == page.next_marker):  # ended on a version
        xml.add(root, "NextVersionIdMarker", page.items[-1].version_id)


def _version(root, entry: view.VersionEntry, p: Params, person) -> None:
    element = xml.add(root, "DeleteMarker" if entry.marker else "Version")
    xml.add_all(
        element,
        [
            ("Key", encoded(entry.key, p)),
            ("VersionId", entry.version_id),
            ("IsLatest", entry.latest),
        ],
    )
    if entry.marker is None:
        _details(element, view.S3Object(entry.key, entry.node, entry.version), person)
        return
    xml.add(element, "LastModified", entry.marker.deleted_at)
    owner(element, person)
