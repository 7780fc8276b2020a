"""Which S3 operation a request is: by method, bucket, key and sub-resource."""

from __future__ import annotations

from gshare.access import keys
from web.observe import ROUTE
from web.s3 import attributes, buckets, listing, multipart, objects, settings
from web.s3.errors import S3Error, not_implemented

READS = frozenset({"GET", "HEAD"})

# Query parameters that never name an operation (presigned URLs, response overrides...).
_PLAIN = frozenset(
    {
        "versionId",
        "partNumber",
        "x-id",
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "encoding-type",
        "start-after",
        "continuation-token",
        "fetch-owner",
        "list-type",
        "key-marker",
        "version-id-marker",
        "upload-id-marker",
        "max-uploads",
        "max-parts",
        "part-number-marker",
        "allow-unordered",  # accepted: listings come in order all the same
        "max-buckets",
        "bucket-region",
    }
)

SUBRESOURCES = (
    "uploads",
    "uploadId",
    "delete",
    "location",
    "versioning",
    "versions",
    "acl",
    "attributes",
)

SERVICE = {("GET", None): buckets.list_buckets}

BUCKET = {
    ("GET", "location"): buckets.get_location,
    ("GET", "versioning"): buckets.get_versioning,
    ("PUT", "versioning"): settings.put_versioning,
    ("GET", "acl"): settings.get_bucket_acl,
    ("PUT", "acl"): settings.put_bucket_acl,
    ("GET", "versions"): listing.list_object_versions,
    ("GET", "uploads"): multipart.list_uploads,
    ("GET", None): listing.list_objects,
    ("HEAD", None): buckets.head_bucket,
    ("PUT", None): buckets.create_bucket,
    ("DELETE", None): buckets.delete_bucket,
    ("POST", "delete"): objects.delete_objects,
}

OBJECT = {
    ("HEAD", None): objects.head_object,
    ("GET", None): objects.get_object,
    ("GET", "uploadId"): multipart.list_parts,
    ("GET", "attributes"): attributes.get_object_attributes,
    ("GET", "acl"): settings.get_object_acl,
    ("PUT", "acl"): settings.put_object_acl,
    ("PUT", None): objects.put_or_copy_object,
    ("PUT", "uploadId"): multipart.upload_part,
    ("POST", "uploads"): multipart.create_upload,
    ("POST", "uploadId"): multipart.complete_upload,
    ("DELETE", "uploadId"): multipart.abort_upload,
    ("DELETE", None): objects.delete_object,
}


def dispatch(request):
    """Run the operation a request names, holding read-only keys to reads."""
    table = SERVICE if request.bucket is None else BUCKET if request.key is None else OBJECT
    names = [n for n in request.query if n not in _PLAIN and not _overrides(n)]
    subresource = next(
        (n for n in SUBRESOURCES if n in names),
        None,
    )
    if subresource is None and names:
        raise not_implemented(f"'{names[0]}' on {request.method}")
    handler = table.get((request.method, subresource))
    if handler is None:
        raise not_implemented(f"{request.method} {subresource or ''}".strip())
    request.environ[ROUTE] = handler.__name__
    if not keys.key_allows_writes(request.holder.key) and not _is_read(request.method, handler):
        raise S3Error("AccessDenied", "This access key is read-only.", 403)
    return handler(request)


def _overrides(name: str) -> bool:
    return name.startswith(("response-", "X-Amz-", "x-amz-"))


def _is_read(method: str, handler) -> bool:
    return method in READS
