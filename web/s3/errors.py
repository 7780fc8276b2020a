"""S3 errors: one exception type for the endpoint, gshare's errors mapped once, the XML reply."""

from __future__ import annotations

from email.utils import formatdate

from werkzeug.wrappers import Response

from gshare.core import errors
from web.s3 import xml

# gshare error -> (S3 code, HTTP status); clients retry 5xx and stop on 4xx.
_MAPPED = {
    errors.NotFound: ("NoSuchKey", 404),
    errors.PermissionDenied: ("AccessDenied", 403),
    errors.Quarantined: ("AccessDenied", 403),
    errors.QuotaExceeded: ("QuotaExceeded", 403),
    errors.NameInvalid: ("InvalidArgument", 400),
    errors.NameTaken: ("InvalidArgument", 400),
    errors.InvalidMove: ("InvalidArgument", 400),
    errors.InvalidInput: ("InvalidArgument", 400),
    errors.Conflict: ("OperationAborted", 409),
    errors.UploadIncomplete: ("IncompleteBody", 400),
    errors.StorageDown: ("ServiceUnavailable", 503),
    errors.RangeNotSatisfiable: ("InvalidRange", 416),
    errors.PreconditionFailed: ("PreconditionFailed", 412),
    errors.NotSupported: ("NotImplemented", 501),
}
_REASONS = {
    "invalid_part": ("InvalidPart", 400),
    "invalid_part_order": ("InvalidPartOrder", 400),
    "part_too_small": ("EntityTooSmall", 400),
    "not_empty": ("BucketNotEmpty", 409),
    "metadata_too_large": ("MetadataTooLarge", 400),
    "copy_to_itself": ("InvalidRequest", 400),
    "space_name": ("InvalidBucketName", 400),
}


class S3Error(Exception):
    """An S3 error reply: code, message, status and further <Error> elements."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.extra = code, message, status, extra


def not_implemented(what: str = "") -> S3Error:
    """Return the error for an operation gshare does not offer."""
    return S3Error("NotImplemented", f"gshare does not implement {what or 'this operation'}.", 501)


def no_such_bucket(name: str) -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist.", 404, BucketName=name)


def malformed_xml() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not "
        "validate against our published schema.",
    )


def invalid_part_number(value: str | None) -> S3Error:
    return S3Error(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
        ArgumentName="partNumber",
        **({} if value is None else {"ArgumentValue": value}),
    )


def from_gshare(
    error: errors.GshareError, bucket: str | None = None, key: str | None = None
) -> S3Error:
    """Map a gshare error to the S3 error a client expects."""
    code, status = _REASONS.get(error.detail.get("reason")) or next(
        (pair for kind, pair in _MAPPED.items() if isinstance(error, kind)), ("InternalError", 500)
    )
    if code == "NoSuchKey" and not key:
        return no_such_bucket(bucket or "")
    extra = {"Key": key} if key and code == "NoSuchKey" else {}
    if "condition" in error.detail:
        extra["Condition"] = error.detail["condition"]
    return S3Error(code, str(error), status, **extra)


def error_response(error, method: str, resource: str, request_id: str) -> Response:
    """Build the XML reply for an S3Error."""
    root = xml.document("Error", namespace=False)
    xml.add_all(
        root,
        [
            ("Code", error.code),
            ("Message", error.message),
            *error.extra.items(),
            ("Resource", resource),
            ("RequestId", request_id),
        ],
    )
    body = b"" if method == "HEAD" else xml.serialize(root)
    response = Response(body, status=error.status, content_type="application/xml")
    response.headers["Date"] = formatdate(usegmt=True)
    response.headers["x-amz-request-id"] = request_id
    if method == "HEAD":
        response.headers["Content-Length"] = "0"
    if error.status == 503:  # the store behind gshare is away: SDKs back off and retry
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


RETRY_AFTER_SECONDS = 5
