"""Turn minio, urllib3 and socket errors into storage errors, in this one place."""

from collections.abc import Iterator
from contextlib import contextmanager

from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from storage.errors import ObjectNotFound, StorageError, StorageUnavailable

NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})
REFUSED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "RequestTimeTooSkewed"}
)
FAILING_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "XMinioServerNotInitialized",
    }
)


@contextmanager
def translate_errors(endpoint: str) -> Iterator[None]:
    """Re-raise vendor and network errors from the block as storage errors."""
    try:
        yield
    except S3Error as exc:
        raise from_s3_error(exc, endpoint) from exc
    except (ServerError, InvalidResponseError) as exc:
        raise from_bad_response(exc, endpoint) from exc
    except MinioException as exc:
        raise StorageError(f"object store at {endpoint}: {exc}") from exc
    except (HTTPError, OSError) as exc:
        raise StorageUnavailable(f"object store at {endpoint} {describe(exc)}") from exc


def from_s3_error(exc: S3Error, endpoint: str) -> StorageError:
    """Build the storage error matching an S3 error code."""
    where = f"object store at {endpoint}"
    if exc.code == "NoSuchUpload":
        return ObjectNotFound(f"no multipart upload with that id for {exc.object_name!r}")
    if exc.code in NOT_FOUND_CODES:
        return ObjectNotFound(f"no object {exc.object_name!r} in bucket {exc.bucket_name!r}")
    if exc.code == "NoSuchBucket":
        return StorageUnavailable(f"{where} has no bucket {exc.bucket_name!r}")
    if exc.code in REFUSED_CODES:
        return StorageUnavailable(f"{where} refused our credentials ({exc.code})")
    if exc.code in FAILING_CODES or getattr(exc.response, "status", 0) >= 500:
        return StorageUnavailable(f"{where} is failing: {exc.code} {exc.message}")
    return StorageError(f"{where} refused the request: {exc.code} {exc.message}")


def from_bad_response(exc: MinioException, endpoint: str) -> StorageError:
    """Build the storage error for a non-S3 answer (HTTP 5xx, proxy error page)."""
    status = getattr(exc, "status_code", None) or getattr(exc, "_code", 0)
    message = f"object store at {endpoint} answered HTTP {status}"
    return StorageUnavailable(message) if status >= 500 else StorageError(message)


def describe(exc: BaseException) -> str:
    """Say in a few words what went wrong on the wire."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, NewConnectionError):
        return f"could not be reached: {str(exc).rsplit(': ', 1)[-1]}"
    if isinstance(exc, ConnectTimeoutError):
        return "did not accept a connection in time"
    if isinstance(exc, ReadTimeoutError):
        return "did not answer in time"
    if isinstance(exc, SSLError):
        return f"failed the TLS handshake: {exc}"
    if isinstance(exc, (ProtocolError, ConnectionError)):
        return "dropped the connection"
    return f"failed: {exc}"
