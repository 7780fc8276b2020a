"""Errors raised by the object-store adapter; vendor and socket errors never leave storage/."""


class StorageError(Exception):
    """The object store refused or failed an operation."""


class ObjectNotFound(StorageError):
    """The object (or multipart upload) does not exist."""


class StorageUnavailable(StorageError):
    """The object store cannot be used: unreachable, failing, refusing our keys, or bucketless."""
