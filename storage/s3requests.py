"""The single S3 requests that minio's public API lacks, made one at a time through botocore.

minio's public API chains these (put_object, compose_object) but never offers them alone, and
gshare needs exactly that: a multipart upload driven across requests by the S3 endpoint, a part
streamed to the store as it arrives, parts copied server-side, one PUT from a buffer already
read. botocore's client calls are public API, one request each.
"""

import base64
import hashlib
from datetime import UTC, datetime

from botocore.client import BaseClient

from storage.streams import BufferBody, StreamedBody

SMALL_BODY = 1024 * 1024  # buffers up to this size are copied to bytes to be sent
UPLOADS_PAGE = 1000  # uploads asked for per ListMultipartUploads request (the S3 maximum)

Body = bytearray | StreamedBody
Upload = tuple[str, str, datetime | None]  # key, upload id, when it was started
Markers = dict[str, str]  # where a page of uploads starts: KeyMarker, UploadIdMarker


def clean_etag(etag: str | None) -> str:
    """Strip the quotes S3 puts around ETags."""
    return (etag or "").strip('"')


def wrap_body(body: Body) -> bytes | BufferBody | StreamedBody:
    """Give botocore a body it sends without copying a whole part: small buffers as bytes (one
    send, no Expect: 100-continue), larger ones wrapped."""
    if isinstance(body, StreamedBody):
        return body
    return bytes(body) if len(body) <= SMALL_BODY else BufferBody(body)


def build_content_md5(body: Body) -> dict[str, str]:
    """Give a buffer's Content-MD5, so the store checks the bytes it got; a streamed body has
    none: its hash is not known before it is sent."""
    if isinstance(body, StreamedBody):
        return {}
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    return {"ContentMD5": base64.b64encode(digest).decode()}


class S3Requests:
    """Single PUT and multipart requests on one bucket; they return ETags without quotes."""

    def __init__(self, clients: tuple[BaseClient, BaseClient], bucket: str) -> None:
        """Make requests with the first client, which retries; streamed bodies with the second,
        which does not."""
        (self._client, self._once), self.bucket = clients, bucket

    def put_buffer(self, key: str, data: bytearray, content_type: str) -> str:
        """PUT one buffer as a whole object and return its ETag."""
        answer = self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=wrap_body(data),
            ContentType=content_type,
            **build_content_md5(data),
        )
        return clean_etag(answer["ETag"])

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """Start a multipart upload and return its id."""
        answer = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return answer["UploadId"]

    def upload_part(self, key: str, upload_id: str, number: int, body: Body) -> str:
        """Upload one part, from a buffer or streamed as it arrives, and return its ETag."""
        client = self._once if isinstance(body, StreamedBody) else self._client
        answer = client.upload_part(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=wrap_body(body),
            ContentLength=len(body),
            **build_content_md5(body),
        )
        return clean_etag(answer["ETag"])

    def upload_part_copy(
        self,
        key: str,
        upload_id: str,
        number: int,
        src_key: str,
        byte_range: tuple[int, int] | None = None,
    ) -> str:
        """Fill one part with a copy of another object in the bucket, or of its bytes
        first..last (inclusive), and return the part's ETag."""
        extra = {} if byte_range is None else {"CopySourceRange": "bytes={}-{}".format(*byte_range)}
        answer = self._client.upload_part_copy(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.bucket, "Key": src_key},
            **extra,
        )
        return clean_etag(answer["CopyPartResult"]["ETag"])

    def complete_multipart_upload(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> str:
        """Assemble the parts into the object and return its ETag."""
        listed = [{"PartNumber": number, "ETag": clean_etag(etag)} for number, etag in parts]
        answer = self._client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )
        return clean_etag(answer["ETag"])

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload."""
        self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def list_multipart_uploads_page(
        self, prefix: str, markers: Markers
    ) -> tuple[list[Upload], Markers | None]:
        """List one page of uploads in progress from markers (empty for the first page);
        return them and the markers of the next page, or None at the end."""
        answer = self._client.list_multipart_uploads(
            Bucket=self.bucket, Prefix=prefix, MaxUploads=UPLOADS_PAGE, **markers
        )
        uploads = [read_upload(upload) for upload in answer.get("Uploads", [])]
        if not answer.get("IsTruncated") or not uploads:
            return uploads, None
        following = find_next_markers(answer, uploads[-1])
        return uploads, following if following != markers else None


def read_upload(listed: dict) -> Upload:
    """Turn one listed upload into (key, upload id, start time in UTC)."""
    initiated = listed.get("Initiated")
    when = initiated.astimezone(UTC) if initiated else None
    return listed["Key"], listed["UploadId"], when


def find_next_markers(answer: dict, last: Upload) -> Markers:
    """Give the markers of the next page: those the store sent (SeaweedFS sends only an upload
    id, as it orders uploads by id), else the last upload's."""
    markers = {name: answer.get(f"Next{name}") for name in ("KeyMarker", "UploadIdMarker")}
    given = {name: value for name, value in markers.items() if value}
    return given or {"KeyMarker": last[0], "UploadIdMarker": last[1]}
