"""Blobs: the bytes of versions in the object store, under opaque keys, and the store's errors
said once in gshare's words (storage/ raises its own types; services raise gshare's)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import storage
from gshare.core.errors import NotFound, StorageDown, UploadIncomplete

BYTES_MISSING = (
    "The stored bytes of this file are missing from the file store. "
    "Ask an administrator: `gshare fsck` lists the versions this happened to."
)
UPLOAD_MISSING = "This upload is no longer in the file store; start it again."


BLOB_PREFIX = "v/"
THUMBNAIL_PREFIX = "t/"
THUMBNAIL_SUFFIX = ".webp"


def new_blob_key() -> str:
    """Return a fresh opaque key for a version's bytes (never the user's path)."""
    return f"{BLOB_PREFIX}{uuid.uuid4().hex}"


def thumbnail_key(blob_key: str) -> str:
    """Return the key of a version's thumbnail: its blob's key under t/ (`v/ab12` ->
    `t/ab12.webp`), so a purge, fsck and gc find it from the version row alone."""
    return f"{THUMBNAIL_PREFIX}{blob_key.removeprefix(BLOB_PREFIX)}{THUMBNAIL_SUFFIX}"


def blob_key_of_thumbnail(key: str) -> str:
    """Return the blob key of the version a thumbnail key belongs to."""
    stem = key.removeprefix(THUMBNAIL_PREFIX).removesuffix(THUMBNAIL_SUFFIX)
    return f"{BLOB_PREFIX}{stem}"


@contextlib.contextmanager
def store_errors(upload: bool = False) -> Iterator[None]:
    """Raise the object store's errors in the block as gshare's.

    A store that does not answer is StorageDown. A missing object is NotFound: the upload's, or
    a version's bytes. A request the store refuses is UploadIncomplete when the block sends an
    upload's bytes (upload=True: the sender's stream fell short, or the parts did not fit), and
    StorageDown otherwise.
    """
    try:
        yield
    except storage.ObjectNotFound as exc:
        raise NotFound(UPLOAD_MISSING if upload else BYTES_MISSING) from exc
    except storage.StorageUnavailable as exc:
        raise StorageDown(
            f"The file store did not answer, so nothing was done; try again in a moment ({exc})."
        ) from exc
    except storage.StorageError as exc:
        if upload:
            raise UploadIncomplete(
                f"The upload did not complete; nothing was saved. Send it again ({exc})."
            ) from exc
        raise StorageDown(
            f"The file store failed the request; try again in a moment ({exc})."
        ) from exc
