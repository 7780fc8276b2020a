"""Bucket operations: spaces as buckets, listed, checked, created and removed."""

from __future__ import annotations

import base64
import binascii

from werkzeug.wrappers import Response

from gshare.access import keys
from gshare.core.errors import Conflict, NotFound
from gshare.s3 import objects, view
from web.s3 import xml
from web.s3.errors import S3Error


def xml_response(root, status: int = 200, headers: dict | None = None) -> Response:
    """Reply with an XML document."""
    return Response(
        xml.serialize(root), status=status, content_type="application/xml", headers=headers or {}
    )


def empty_response(status: int = 200, headers: dict | None = None) -> Response:
    """Reply with no body."""
    response = Response(b"", status=status, headers=headers or {})
    response.headers["Content-Length"] = "0"
    return response


def owner(parent, user) -> None:
    """Add an <Owner> element for a person."""
    element = xml.add(parent, "Owner")
    xml.add_all(element, [("ID", user.username), ("DisplayName", user.display_name)])


def list_buckets(request) -> Response:
    """ListBuckets: the spaces the key's owner sees (only its space for a limited key), by name,
    a page at a time (max-buckets, continuation-token), those starting with prefix. Every space
    answers in the region the client signs for: bucket-region names that one or none."""
    limit, after = _buckets_page(request.query)
    prefix, region = request.query.get("prefix", ""), request.auth.region
    with request.unit_of_work() as (ctx, actor):
        buckets = [
            b
            for b in view.list_buckets(ctx, actor)
            if request.allowed_space(b.space)
            and b.space.slug.startswith(prefix)
            and b.space.slug > after
            and request.query.get("bucket-region", region) == region
        ]
        root = xml.document("ListAllMyBucketsResult")
        listed = xml.add(root, "Buckets")
        for bucket in buckets[:limit]:
            xml.add_all(
                xml.add(listed, "Bucket"),
                [
                    ("Name", bucket.space.slug),
                    ("CreationDate", bucket.space.created_at),
                    ("BucketRegion", region),
                ],
            )
        owner(root, actor)
        if len(buckets) > limit:
            xml.add(root, "ContinuationToken", _token(buckets[limit - 1].space.slug))
        xml.add_all(root, [("Prefix", request.query.get("prefix"))])
    return xml_response(root)


MAX_BUCKETS = 10000


def _buckets_page(query) -> tuple[int, str]:
    """Return (max-buckets, the name after which the page starts) from ListBuckets' query."""
    raw = query.get("max-buckets", str(MAX_BUCKETS))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_BUCKETS:
        raise S3Error(
            "InvalidArgument",
            f"max-buckets must be an integer from 1 to {MAX_BUCKETS}.",
            ArgumentName="max-buckets",
            ArgumentValue=raw,
        )
    token = query.get("continuation-token")
    if token is None:
        return int(raw), ""
    try:
        return int(raw), base64.b64decode(token, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise S3Error(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            ArgumentName="continuation-token",
        ) from None


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def head_bucket(request) -> Response:
    """HeadBucket: 200 when the bucket is there for this key, else 404 or 403."""
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
    return empty_response(headers={"x-amz-bucket-region": request.auth.region})


def get_location(request) -> Response:
    """GetBucketLocation: the region the client signs for (any region is accepted)."""
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
    root = xml.document("LocationConstraint")
    if request.auth.region != "us-east-1":
        root.text = request.auth.region
    return xml_response(root)


def get_versioning(request) -> Response:
    """GetBucketVersioning: always Enabled, every upload is a version."""
    with request.unit_of_work() as (ctx, actor):
        request.open_bucket(ctx, actor)
    root = xml.document("VersioningConfiguration")
    xml.add(root, "Status", "Enabled")
    return xml_response(root)


def create_bucket(request) -> Response:
    """CreateBucket: a new project space of the key's owner."""
    if not keys.key_may_create_spaces(request.holder.key):
        raise S3Error("AccessDenied", "This access key is limited to one space.", 403)
    request.body(compute=()).read()
    try:
        with request.unit_of_work() as (ctx, actor):
            objects.create_bucket(ctx, actor, request.bucket)
    except Conflict as taken:
        raise _taken(request, taken.detail.get("space_id")) from None
    return empty_response(headers={"Location": f"/{request.bucket}"})


def delete_bucket(request) -> Response:
    """DeleteBucket: remove an empty project space the key's owner manages."""
    with request.unit_of_work() as (ctx, actor):
        bucket = request.open_bucket(ctx, actor)
        objects.delete_bucket(ctx, actor, bucket)
    return empty_response(204)


def _taken(request, space_id) -> S3Error:
    with request.unit_of_work() as (ctx, actor):
        try:
            mine = view.get_bucket(ctx, actor, request.bucket).space.id == space_id
        except NotFound:
            mine = False
    if mine:
        return S3Error(
            "BucketAlreadyOwnedByYou",
            "You already have this bucket.",
            409,
            BucketName=request.bucket,
        )
    return S3Error(
        "BucketAlreadyExists",
        "The requested bucket name is not available.",
        409,
        BucketName=request.bucket,
    )
