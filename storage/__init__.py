"""Object-store adapter: streamed blobs in one S3 bucket, and an embedded local S3 server."""

from storage.embedded import EmbeddedS3Server
from storage.errors import ObjectNotFound, StorageError, StorageUnavailable
from storage.s3 import MultipartUpload, ObjectInfo, S3Store, StoredObject
from storage.streams import ObjectStream

__all__ = [
    "EmbeddedS3Server",
    "MultipartUpload",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStream",
    "S3Store",
    "StorageError",
    "StorageUnavailable",
    "StoredObject",
]
