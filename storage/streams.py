"""Read request bodies one part at a time and stream object bodies back out."""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from urllib3 import BaseHTTPResponse

from storage.errors import StorageError
from storage.translate import translate_errors

READ_CHUNK = 1024 * 1024
RESPONSE_CHUNK = 1024 * 1024  # 64 KiB chunks cost a Python round trip per 64 KiB


class Reader(Protocol):
    def read(self, n: int, /) -> bytes: ...


def read_up_to(reader: Reader, size: int) -> bytearray:
    """Read size bytes from reader, or fewer if the stream ends first."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = reader.read(min(size - len(buffer), READ_CHUNK))
        if not chunk:
            break
        buffer += chunk
    return buffer


def truncated(key: str, expected: int, received: int) -> StorageError:
    """Build the error for a body shorter than announced."""
    return StorageError(f"upload of {key!r} truncated: expected {expected} bytes, got {received}")


class PartReader:
    """Cut a stream into parts of part_size, checking it against an announced length."""

    def __init__(self, reader: Reader, key: str, part_size: int, length: int | None) -> None:
        self._reader, self._key = reader, key
        self.part_size, self.length = part_size, length
        self.sent = 0
        self._ended = False
        self._pending: bytearray | None = None

    @property
    def at_end(self) -> bool:
        """Tell whether every byte has been read (pending ones included)."""
        return self._ended or (self.length is not None and self.sent >= self.length)

    def fill(self) -> None:
        """Read the next part ahead, to decide between one PUT and a multipart upload."""
        self._pending = self._read_part()

    def take(self) -> bytearray:
        """Hand over the next part (empty at the end), releasing any reference to it."""
        part, self._pending = self._pending, None
        return part if part is not None else self._read_part()

    def _read_part(self) -> bytearray:
        if self.at_end:
            return bytearray()
        want = self.part_size
        if self.length is not None:
            want = min(want, self.length - self.sent)
        part = read_up_to(self._reader, want)
        self.sent += len(part)
        if len(part) < want:
            if self.length is not None:
                raise truncated(self._key, self.length, self.sent)
            self._ended = True
        return part


class StreamedBody:
    """A request body of a known length, read from a stream as it is sent, so a part goes to the
    store while it arrives, never held whole. It is read once (it cannot be rewound once read
    from), and the caller sees the stream's own error (or the truncation), not what the SDK
    made of it."""

    def __init__(self, reader: Reader, length: int, key: str) -> None:
        self._reader, self._key, self.length = reader, key, length
        self.position = 0  # bytes read from the stream
        self.failure: BaseException | None = None
        self._chunk = memoryview(b"")  # read from the stream, not handed out yet

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> memoryview:
        """Hand out up to size bytes (the rest of a chunk if size is negative), empty at the
        end. The stream is read READ_CHUNK at a time whatever size the SDK asks for (urllib3
        asks for 128 KiB), so a part costs the stream's reader no more calls than before."""
        if not self._chunk:
            self._chunk = memoryview(self._read_chunk())
        end = len(self._chunk) if size < 0 else size
        handed, self._chunk = self._chunk[:end], self._chunk[end:]
        return handed

    def _read_chunk(self) -> bytes:
        want = min(self.length - self.position, READ_CHUNK)
        if want <= 0:
            return b""
        try:
            chunk = self._reader.read(want)
        except BaseException as exc:
            self.failure = exc
            raise
        if not chunk:
            self.failure = truncated(self._key, self.length, self.position)
            raise self.failure
        self.position += len(chunk)
        return bytes(chunk)  # a copy only of a bytearray, which its reader might reuse

    def tell(self) -> int:
        return self.position - len(self._chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Rewind to the start, which only a body not read from yet can do."""
        if (offset, whence) == (0, io.SEEK_SET) and self.position == 0 and self.failure is None:
            return 0
        raise StorageError(f"upload of {self._key!r} was interrupted and cannot be resent")

    @contextmanager
    def own_errors(self) -> Iterator[None]:
        """Raise the stream's own error, if it failed, instead of what the SDK made of it."""
        try:
            yield
        except Exception:
            if self.failure is None:
                raise
            raise self.failure from None


class BufferBody:
    """A buffer as a request body an SDK reads, rewinds and sends again without copying it (it
    would copy a bytearray given as is: botocore's CRT signer wraps it in a BytesIO)."""

    def __init__(self, data: bytearray) -> None:
        self._view = memoryview(data)
        self._position = 0

    def __len__(self) -> int:
        return len(self._view)

    def read(self, size: int = -1) -> memoryview:
        """Hand out up to size bytes (all that is left if size is negative), empty at the end."""
        end = len(self._view) if size < 0 else min(len(self._view), self._position + size)
        handed, self._position = self._view[self._position : end], end
        return handed

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: len(self._view)}
        self._position = start[whence] + offset
        return self._position


class ObjectStream:
    """Iterate over an object's bytes in 1 MiB chunks; close to release the connection."""

    def __init__(self, response: BaseHTTPResponse, endpoint: str) -> None:
        self._response = response
        self._endpoint = endpoint
        self.size = int(response.headers.get("Content-Length", 0))
        self.content_type = response.headers.get("Content-Type", "application/octet-stream")
        self.etag = response.headers.get("ETag", "").strip('"')

    def __iter__(self) -> Iterator[bytes]:
        with translate_errors(self._endpoint):
            yield from self._response.stream(RESPONSE_CHUNK, decode_content=False)

    def close(self) -> None:
        """Release the connection, dropping it if the body was not read to the end."""
        self._response.close()
        self._response.release_conn()

    def __enter__(self) -> "ObjectStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
