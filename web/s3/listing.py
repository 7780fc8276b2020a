"""Listing operations: ListObjects (V1 and V2) and ListObjectVersions, with S3's paging."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from gshare import s3view
from web.s3 import xml
from web.s3.buckets import owner, xml_response
from web.s3.errors import S3Error

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
        raise S3Error("InvalidArgument", "max-keys must be a non-negative integer.",
                      ArgumentName="max-keys")
    encoding = request.query.get("encoding-type")
    if encoding not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request")
    return Params(request.query.get("prefix", ""), request.query.get("delimiter", ""),
                  min(int(raw), MAX_KEYS), encoding == "url")


def paginate(entries, key_of, p: Params, marker: str = "") -> Page:
    """Cut sorted entries into a page after marker, rolling keys up at the delimiter."""
    page, count, after = Page(), 0, marker.encode("utf-8")
    for entry in entries:
        key = key_of(entry)
        rolled = _rolled(key, p.prefix, p.delimiter)
        if key.encode("utf-8") <= after or (rolled and marker.startswith(rolled)) or (
                rolled and page.prefixes and page.prefixes[-1] == rolled):
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
        objects = s3view.list_objects(ctx, actor, bucket, p.prefix, p.delimiter)
        page = paginate(objects, lambda o: o.key, p, marker)
        root = xml.document("ListBucketResult")
        _head(root, request, p, v2, page)
        with_owner = not v2 or request.query.get("fetch-owner") == "true"
        for obj in page.items:
            _content(xml.add(root, "Contents"), obj, p, actor if with_owner else None)
        _prefixes(root, page, p)
    return xml_response(root)


def list_object_versions(request):
    """ListObjectVersions: every version the person may see of every key, newest first."""
    p = params(request)
    key_marker = request.query.get("key-marker", "")
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        objects = s3view.list_objects(ctx, actor, bucket, p.prefix, p.delimiter)
        files = [o.node for o in objects if not o.is_folder]
        history = s3view.list_versions(ctx, actor, files)
        flat = [(o, v, i == 0) for o in objects
                for i, v in enumerate(history.get(o.node.id, [None]) or [None])]
        flat = _after_version(flat, key_marker, request.query.get("version-id-marker", ""))
        page = paginate(flat, lambda e: e[0].key, p, "")
        root = xml.document("ListVersionsResult")
        _versions_head(root, request, p, page, key_marker)
        for obj, version, latest in page.items:
            _version(xml.add(root, "Version"), obj, version, latest, p, actor)
        _prefixes(root, page, p)
    return xml_response(root)


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
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                      ArgumentName="continuation-token") from None


def _head(root, request, p: Params, v2: bool, page: Page) -> None:
    xml.add_all(root, [("Name", request.bucket), ("Prefix", encoded(p.prefix, p)),
                       ("Delimiter", encoded(p.delimiter, p) if p.delimiter else None),
                       ("MaxKeys", p.max_keys),
                       ("EncodingType", "url" if p.encode else None),
                       ("IsTruncated", page.truncated)])
    if v2:
        count = len(page.items) + len(page.prefixes)
        token = request.query.get("continuation-token")
        after = request.query.get("start-after")
        xml.add_all(root, [("KeyCount", count), ("ContinuationToken", token),
                           ("StartAfter", encoded(after, p) if after else None)])
        if page.truncated:
            next_token = base64.urlsafe_b64encode(page.next_marker.encode()).decode()
            xml.add(root, "NextContinuationToken", next_token)
        return
    xml.add(root, "Marker", encoded(request.query.get("marker", ""), p))
    if page.truncated:
        xml.add(root, "NextMarker", encoded(page.next_marker, p))


def _content(element, obj: s3view.S3Object, p: Params, person) -> None:
    xml.add(element, "Key", encoded(obj.key, p))
    _details(element, obj, person)


def _details(element, obj: s3view.S3Object, person) -> None:
    version = obj.version
    xml.add_all(element, [
        ("LastModified", version.uploaded_at if version else obj.node.updated_at),
        ("ETag", f'"{version.etag if version else EMPTY_MD5}"'),
        ("Size", version.size if version else 0),
        ("StorageClass", "STANDARD")])
    if person is not None:
        owner(element, person)


def _prefixes(root, page: Page, p: Params) -> None:
    for prefix in page.prefixes:
        xml.add(xml.add(root, "CommonPrefixes"), "Prefix", encoded(prefix, p))


def _after_version(flat, key_marker: str, version_marker: str):
    if not key_marker:
        return flat
    result, passed = [], not version_marker
    for obj, version, latest in flat:
        if obj.key.encode() < key_marker.encode():
            continue
        if obj.key == key_marker and not passed:
            passed = version is not None and str(version.id) == version_marker
            continue
        if obj.key == key_marker and not version_marker:
            continue
        result.append((obj, version, latest))
    return result


def _versions_head(root, request, p: Params, page: Page, key_marker: str) -> None:
    xml.add_all(root, [("Name", request.bucket), ("Prefix", encoded(p.prefix, p)),
                       ("KeyMarker", encoded(key_marker, p)),
                       ("VersionIdMarker", request.query.get("version-id-marker", "")),
                       ("Delimiter", encoded(p.delimiter, p) if p.delimiter else None),
                       ("MaxKeys", p.max_keys),
                       ("EncodingType", "url" if p.encode else None),
                       ("IsTruncated", page.truncated)])
    if page.truncated and page.items:
        obj, version, _ = page.items[-1]
        xml.add(root, "NextKeyMarker", encoded(obj.key, p))
        xml.add(root, "NextVersionIdMarker", str(version.id) if version else "null")


def _version(element, obj, version, latest: bool, p: Params, person) -> None:
    xml.add_all(element, [("Key", encoded(obj.key, p)),
                          ("VersionId", str(version.id) if version else "null"),
                          ("IsLatest", latest)])
    _details(element, s3view.S3Object(obj.key, obj.node, version), person)
