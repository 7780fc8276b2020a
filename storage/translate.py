"""Turn minio, botocore, urllib3 and socket errors into storage errors, in this one place."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    UnseekableStreamError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
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
def translate_errors(endpoint: str, bucket: str = "", key: str = "") -> Iterator[None]:
    """Re-raise vendor and network errors from the block as storage errors; bucket and key
    name, in messages, what the block worked on when the error does not say."""
    try:
        yield
    except S3Error as exc:
        raise from_s3_error(exc, endpoint) from exc
    except ClientError as exc:
        raise from_client_error(exc, endpoint, bucket, key) from exc
    except (ServerError, InvalidResponseError) as exc:
        raise from_bad_response(exc, endpoint) from exc
    except MinioException as exc:
        raise StorageError(f"object store at {endpoint}: {exc}") from exc
    except UnseekableStreamError as exc:
        raise StorageError(f"upload of {key!r} was interrupted and cannot be resent") from exc
    except (BotoConnectionError, HTTPClientError, HTTPError, OSError) as exc:
        raise StorageUnavailable(f"object store at {endpoint} {describe(exc)}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"object store at {endpoint}: {exc}") from exc


def from_s3_error(exc: S3Error, endpoint: str) -> StorageError:
    """Build the storage error for an S3 error minio parsed."""
    status = getattr(exc.response, "status", 0)
    return from_code(exc.code, exc.message, status, endpoint, exc.bucket_name, exc.object_name)


def from_client_error(exc: ClientError, endpoint: str, bucket: str, key: str) -> StorageError:
    """Build the storage error for an S3 error botocore parsed (an HTTP status as its code
    when the answer was not S3's XML)."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code, message = error.get("Code", str(status)), error.get("Message", "")
    return from_code(code, message, status, endpoint, bucket, key)


def from_code(
    code: str | None,
    message: str | None,
    status: int,
    endpoint: str,
    bucket: str | None,
    key: str | None,
) -> StorageError:
    """Build the storage error matching an S3 error code, or else the HTTP status."""
    where = f"object store at {endpoint}"
    if code == "NoSuchUpload":
        return ObjectNotFound(f"no multipart upload with that id for {key!r}")
    if code in NOT_FOUND_CODES:
        return ObjectNotFound(f"no object {key!r} in bucket {bucket!r}")
    if code == "NoSuchBucket":
        return StorageUnavailable(f"{where} has no bucket {bucket!r}")
    if code in REFUSED_CODES:
        return StorageUnavailable(f"{where} refused our credentials ({code})")
    if code in FAILING_CODES or status >= 500:
        return StorageUnavailable(f"{where} is failing: {code} {message}")
    return StorageError(f"{where} refused the request: {code} {message}")


def from_bad_response(exc: MinioException, endpoint: str) -> StorageError:
    """Build the storage error for a non-S3 answer minio got (HTTP 5xx, proxy error page)."""
    status = getattr(exc, "status_code", None) or getattr(exc, "_code", 0)
    message = f"object store at {endpoint} answered HTTP {status}"
    return StorageUnavailable(message) if status >= 500 else StorageError(message)


def describe(exc: BaseException) -> str:
    """Say in a few words what went wrong on the wire."""
    exc = find_network_cause(exc)
    if isinstance(exc, (NewConnectionError, socket.gaierror)):
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


def find_network_cause(exc: BaseException) -> BaseException:
    """Find the network error that urllib3's retries or botocore wrapped, if any."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        return exc.reason
    cause = exc.kwargs.get("error") if isinstance(exc, BotoCoreError) else None
    return cause if isinstance(cause, BaseException) else exc
