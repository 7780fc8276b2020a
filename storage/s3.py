"""Object-store adapter: one bucket, streamed puts and gets, multipart.

Through the public APIs of two SDKs: minio for whole-object calls, botocore for the single
requests minio keeps private (storage/s3requests.py). Their errors become storage's own in
storage/translate.py, so callers never see either SDK.
"""

from __future__ import annotations  # S3Store.list shadows the builtin in annotations

import builtins
import hashlib
import io
import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from minio.commonconfig import CopySource

from storage.clients import build_boto, build_minio
from storage.errors import ObjectNotFound, StorageError, StorageUnavailable
from storage.s3requests import S3Requests, clean_etag
from storage.streams import ObjectStream, PartReader, Reader, StreamedBody
from storage.translate import translate_errors

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
SENDING = 2  # parts uploaded at once while the next one is read
DEFAULT_TYPE = "application/octet-stream"
PROBE_PREFIX = "gshare-probe/"  # the multipart upload asking how the store makes part ETags
PROBE_BYTES = b"gshare: does this store answer a part with its MD5?"
PROBE_RETRY = 600.0  # seconds before a store that failed the probe is asked again

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime | None


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: datetime | None


def _result(sent: tuple[int, Future]) -> tuple[int, str]:
    number, future = sent
    return number, future.result()


class S3Store:
    """Store blobs in one bucket of an S3-compatible server."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str = "us-east-1",
        part_size: int = 16 * 1024 * 1024,
        timeout: float = 30.0,
    ) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
            raise ValueError(f"object store endpoint must be http(s)://host[:port]: {endpoint!r}")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (the S3 minimum)")
        self.endpoint = f"{url.scheme}://{url.netloc}"
        self.bucket = bucket
        self.part_size = part_size
        secure = url.scheme == "https"
        self._client = build_minio(url.netloc, secure, access_key, secret_key, region, timeout)
        self._requests = S3Requests(
            build_boto(self.endpoint, access_key, secret_key, region, timeout), bucket
        )
        self._part_etags_are_md5: bool | None = None  # probed on first use
        self._probe_after = 0.0  # time.monotonic() before which the probe is not tried again

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, bucket={self.bucket!r})"

    def _errors(self, key: str = "") -> AbstractContextManager[None]:
        """Translate SDK errors; key names the object in messages when the SDK's error does not
        (botocore's do not)."""
        return translate_errors(self.endpoint, self.bucket, key)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet."""
        with self._errors():
            if self._client.bucket_exists(self.bucket):
                return
        try:
            with self._errors():
                self._client.make_bucket(self.bucket)
        except StorageError:
            with self._errors():
                if not self._client.bucket_exists(self.bucket):  # else created meanwhile
                    raise

    def ping(self) -> None:
        """Raise StorageUnavailable unless the bucket answers."""
        try:
            with self._errors():
                exists = self._client.bucket_exists(self.bucket)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            raise StorageUnavailable(str(exc)) from exc
        if not exists:
            where = f"object store at {self.endpoint}"
            raise StorageUnavailable(f"{where} has no bucket {self.bucket!r}")

    def put(
        self, key: str, reader: Reader, length: int | None = None, content_type: str = DEFAULT_TYPE
    ) -> StoredObject:
        """Store the stream under key: one PUT if it fits in one part, multipart otherwise.

        Up to 5 MiB the PUT goes through minio, whose requests cost a third of botocore's CPU
        (0.5 ms against 1.4: most uploads are small); minio would cut a bigger buffer into
        parts of its own, so a part of up to part_size goes through botocore."""
        parts = PartReader(reader, key, self.part_size, length)
        parts.fill()
        if not parts.at_end:
            return self._put_multipart(key, parts, content_type)
        data = parts.take()
        with self._errors(key):
            if len(data) <= MIN_PART_SIZE:
                etag = self._client.put_object(
                    self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
                ).etag
            else:
                etag = self._requests.put_buffer(key, data, content_type)
        return StoredObject(key, parts.sent, etag)

    def _put_multipart(self, key: str, parts: PartReader, content_type: str) -> StoredObject:
        upload_id = self.create_multipart(key, content_type)
        try:
            etags = self._send_parts(key, upload_id, parts)
            with self._errors(key):
                etag = self._requests.complete_multipart_upload(key, upload_id, etags)
        except BaseException:
            self._abort_quietly(key, upload_id)
            raise
        return StoredObject(key, parts.sent, etag)

    def _send_parts(self, key: str, upload_id: str, parts: PartReader) -> list[tuple[int, str]]:
        """Send parts while the next one is read: at most SENDING parts in flight, so memory
        stays at (SENDING + 1) part buffers whatever the object's size."""
        in_flight: list[tuple[int, Future]] = []
        etags: list[tuple[int, str]] = []
        with ThreadPoolExecutor(SENDING, thread_name_prefix="s3-part") as pool:
            try:
                number = 0
                while part := parts.take():
                    number += 1
                    if number > MAX_PARTS:
                        raise StorageError(
                            f"{key!r} exceeds {MAX_PARTS} parts of {self.part_size} bytes"
                        )
                    if len(in_flight) == SENDING:
                        etags.append(_result(in_flight.pop(0)))
                    in_flight.append(
                        (number, pool.submit(self._send_part, key, upload_id, number, part))
                    )
                    del part
                etags.extend(_result(sent) for sent in in_flight)
            except BaseException:
                for _, future in in_flight:
                    future.cancel()
                raise
        return etags

    def _send_part(self, key: str, upload_id: str, number: int, data: bytearray) -> str:
        with self._errors(key):
            return self._requests.upload_part(key, upload_id, number, data)

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        with suppress(StorageError):  # the upload failed already; that error is the one to report
            self.abort_multipart(key, upload_id)

    def get(self, key: str, start: int | None = None, end: int | None = None) -> ObjectStream:
        """Open the object, or its bytes start..end (end inclusive), for streaming."""
        offset = start or 0
        length = 0 if end is None else end - offset + 1
        if offset < 0 or length < 0 or (end is not None and length == 0):
            raise ValueError(f"invalid byte range {start}-{end}")
        with self._errors():
            response = self._client.get_object(self.bucket, key, offset=offset, length=length)
        return ObjectStream(response, self.endpoint)

    def head(self, key: str) -> ObjectInfo:
        """Describe the object under key."""
        with self._errors():
            stat = self._client.stat_object(self.bucket, key)
        return ObjectInfo(key, stat.size or 0, clean_etag(stat.etag), stat.last_modified)

    def delete(self, key: str) -> None:
        """Delete the object under key; deleting a missing object is not an error."""
        try:
            with self._errors():
                self._client.remove_object(self.bucket, key)
        except ObjectNotFound:
            pass

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """List every object whose key starts with prefix, fetching pages as needed."""
        with self._errors():
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if not obj.is_dir:
                    yield ObjectInfo(
                        obj.object_name or "",
                        obj.size or 0,
                        clean_etag(obj.etag),
                        obj.last_modified,
                    )

    def copy(self, src_key: str, dst_key: str) -> StoredObject:
        """Copy an object server-side (minio switches to a multipart copy above 5 GiB)."""
        with self._errors():
            self._client.copy_object(self.bucket, dst_key, CopySource(self.bucket, src_key))
        info = self.head(dst_key)
        return StoredObject(dst_key, info.size, info.etag)

    def create_multipart(self, key: str, content_type: str = DEFAULT_TYPE) -> str:
        """Start a multipart upload and return its id."""
        with self._errors(key):
            return self._requests.create_multipart_upload(key, content_type)

    def upload_part(
        self, key: str, upload_id: str, part_number: int, reader: Reader, length: int
    ) -> str:
        """Upload part_number of length bytes from reader, streamed as it is read (one chunk
        in memory, whatever the part size), and return its ETag."""
        body = StreamedBody(reader, length, key)
        with body.own_errors(), self._errors(key):
            return self._requests.upload_part(key, upload_id, part_number, body)

    @property
    def part_etags_are_md5(self) -> bool:
        """Tell whether the store answers an uploaded part with the MD5 of its bytes as the
        ETag, as S3 does unless the bucket encrypts with KMS (SeaweedFS and MinIO do, unless they
        encrypt). Asked once per process with a part of known bytes; an answer the store gives
        later that is not an MD5 turns this off again (see distrust_part_etags). A store that
        fails the question is not trusted, and asked again PROBE_RETRY seconds later: parts are
        hashed here meanwhile, and uploads go on."""
        if self._part_etags_are_md5 is None and time.monotonic() >= self._probe_after:
            try:
                self._part_etags_are_md5 = self._probe_part_etag()
            except StorageError as exc:
                self._probe_after = time.monotonic() + PROBE_RETRY
                log.warning("%r did not answer how it makes part ETags: %s", self, exc)
        return bool(self._part_etags_are_md5)

    def distrust_part_etags(self) -> None:
        """Stop taking part ETags for MD5s: the store answered one that is not."""
        self._part_etags_are_md5 = False

    def _probe_part_etag(self) -> bool:
        key = f"{PROBE_PREFIX}{uuid.uuid4().hex}"
        upload_id = self.create_multipart(key)
        try:
            etag = self._send_part(key, upload_id, 1, bytearray(PROBE_BYTES))
        finally:
            self._abort_quietly(key, upload_id)
        return etag.lower() == hashlib.md5(PROBE_BYTES, usedforsecurity=False).hexdigest()

    def upload_part_copy(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        src_key: str,
        byte_range: tuple[int, int] | None = None,
    ) -> str:
        """Fill part_number server-side with the object src_key, or its bytes first..last
        (inclusive), and return the part's ETag for complete_multipart. The ETag is the
        store's own: SeaweedFS's is not the MD5 of the part's bytes."""
        with self._errors(key):
            return self._requests.upload_part_copy(key, upload_id, part_number, src_key, byte_range)

    def complete_multipart(
        self, key: str, upload_id: str, parts: builtins.list[tuple[int, str]]
    ) -> StoredObject:
        """Assemble the uploaded parts, in part-number order, into the object under key."""
        with self._errors(key):
            etag = self._requests.complete_multipart_upload(key, upload_id, parts)
        return StoredObject(key, self.head(key).size, etag)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload and drop its parts."""
        with self._errors(key):
            self._requests.abort_multipart_upload(key, upload_id)

    def list_multipart_uploads(self, prefix: str = "") -> Iterator[MultipartUpload]:
        """List the multipart uploads in progress under prefix, fetching pages as needed."""
        markers: dict[str, str] | None = {}
        while markers is not None:
            with self._errors():
                uploads, markers = self._requests.list_multipart_uploads_page(prefix, markers)
            for key, upload_id, initiated in uploads:
                yield MultipartUpload(key, upload_id, initiated)
