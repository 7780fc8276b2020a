"""The single-request S3 calls that minio keeps private, wrapped in this one place.

minio's public API chains these (put_object, compose_object) but never exposes them one at a
time, and gshare needs exactly that: a multipart upload driven across requests by the S3
endpoint, one buffer per part, parts copied server-side. Written against minio 7.2; check these
signatures when upgrading minio.
"""

from datetime import datetime
from urllib.parse import quote

from minio import Minio
from minio.datatypes import ListMultipartUploadsResult, Part

from storage.streams import StreamedBody


def clean_etag(etag: str | None) -> str:
    """Strip the quotes S3 puts around ETags."""
    return (etag or "").strip('"')


class LowLevelClient(Minio):
    """A minio client that also exposes single multipart and PUT requests."""

    def put_buffer(self, bucket: str, key: str, data: bytearray, content_type: str) -> str:
        """PUT one buffer as a whole object and return its ETag (no copy of the buffer)."""
        result = self._put_object(bucket, key, data, {"Content-Type": content_type})
        return clean_etag(result.etag)

    def create_multipart_upload(self, bucket: str, key: str, content_type: str) -> str:
        """Start a multipart upload and return its id."""
        return self._create_multipart_upload(bucket, key, {"Content-Type": content_type})

    def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, data: bytearray
    ) -> str:
        """Upload one part from a buffer and return its ETag."""
        return clean_etag(self._upload_part(bucket, key, data, None, upload_id, number))

    def upload_part_stream(
        self, bucket: str, key: str, upload_id: str, number: int, body: StreamedBody
    ) -> str:
        """Upload one part streamed from its body as it arrives and return its ETag."""
        return clean_etag(self._upload_part(bucket, key, body, None, upload_id, number))

    def _build_headers(self, host, headers=None, body=None, creds=None):
        """Sign a streamed body as UNSIGNED-PAYLOAD (its hash is not known before it is sent);
        other bodies as minio does."""
        if not isinstance(body, StreamedBody):
            return super()._build_headers(host, headers, body, creds)
        headers, date = super()._build_headers(host, headers, None, creds)
        headers["Content-Length"] = str(len(body))
        headers.pop("Content-MD5", None)
        if creds:
            headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        return headers, date

    def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        src_key: str,
        byte_range: tuple[int, int] | None = None,
    ) -> str:
        """Fill one part with a copy of another object in the bucket, or of its bytes
        first..last (inclusive), and return the part's ETag."""
        source = {"x-amz-copy-source": quote(f"/{bucket}/{src_key}")}
        if byte_range is not None:
            source["x-amz-copy-source-range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        etag, _ = self._upload_part_copy(bucket, key, upload_id, number, source)
        return clean_etag(etag)

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        """Assemble the parts into the object and return its ETag."""
        etags = [Part(number, clean_etag(etag)) for number, etag in parts]
        return clean_etag(self._complete_multipart_upload(bucket, key, upload_id, etags).etag)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Abort a multipart upload."""
        self._abort_multipart_upload(bucket, key, upload_id)

    def list_multipart_uploads_page(
        self, bucket: str, prefix: str, after: tuple[str, str] | None
    ) -> tuple[list[tuple[str, str, datetime | None]], bool]:
        """List one page of uploads in progress after (key, upload_id); tell if more follow."""
        key_marker, upload_id_marker = after or (None, None)
        page: ListMultipartUploadsResult = self._list_multipart_uploads(
            bucket, prefix=prefix, key_marker=key_marker, upload_id_marker=upload_id_marker
        )
        uploads = [(u.object_name, u.upload_id or "", u.initiated_time) for u in page.uploads]
        # minio 7.2 loses NextUploadIdMarker (typo in its parser), so callers resume after
        # the last upload of the page instead.
        return uploads, page.is_truncated and bool(uploads)
