"""Scan byte streams with clamd over its socket protocol: PING, VERSION, RELOAD and INSTREAM.

This is a small implementation on the standard library's ``socket`` module, not the ``clamd``
package (last released 2014) nor its maintained fork ``clamav-client``. Both offer only
``instream(fileobj)``, which connects, pulls the whole file and closes in one call, so neither
can scan an upload while it is being stored: push mode (``StreamScan.feed`` called from the
uploader's read loop) needs the connection to stay open between calls. Both also let a raw
``BrokenPipeError`` escape when clamd closes the stream at its size limit instead of reading
clamd's answer, send 1 KiB chunks, and connect before they set their timeout (so a connect to
a wedged clamd can block). The protocol is a few dozen lines, so we own it and need no
dependency at all.

The protocol (clamd(8)): a command goes as ``z<COMMAND>\\0`` and gets one NUL-terminated reply.
INSTREAM data goes as chunks, each a 4-byte big-endian length and that many bytes; a
zero-length chunk ends the stream and clamd answers ``stream: OK`` or
``stream: <signature> FOUND``. When a stream grows beyond clamd's StreamMaxLength, clamd
answers ``INSTREAM size limit exceeded. ERROR`` and closes the connection while we are still
sending, so a failed send is followed by reading that answer.

Every socket operation (connect, each send, the wait for the verdict) is bounded by
``timeout``. The wait for the verdict includes clamd's scanning time, so keep ``timeout``
above clamd's MaxScanTime.
"""

import socket
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from antivirus.errors import ScanLimitExceeded, ScannerError, ScannerUnavailable

_SIZE_LIMIT_REPLY = "INSTREAM size limit exceeded. ERROR"
# With AlertExceedsMax, clamd reports data it did not fully scan under this name.
_LIMIT_SIGNATURE_PREFIX = "Heuristics.Limits.Exceeded."
_END_OF_STREAM = struct.pack("!L", 0)
_MAX_REPLY_BYTES = 64 * 1024


@dataclass(frozen=True)
class ScanResult:
    """The verdict on one stream: the signature clamd found, or None when clean."""

    signature: str | None

    @property
    def clean(self) -> bool:
        """Tell whether clamd found nothing."""
        return self.signature is None


@dataclass(frozen=True)
class ScannerVersion:
    """The engine and signature database clamd is running, as VERSION reports them."""

    engine: str
    database: int | None
    database_date: str | None


class ClamdScanner:
    """Talk to one clamd; every call opens its own connection, so threads may share it."""

    def __init__(self, address: str, timeout: float = 60.0, chunk_size: int = 1024 * 1024):
        self._target = _parse_address(address)
        if timeout <= 0 or chunk_size <= 0:
            raise ValueError("timeout and chunk_size must be positive")
        self.address = address
        self.timeout = timeout
        self.chunk_size = chunk_size

    def ping(self) -> None:
        """Check that clamd answers PING with PONG."""
        reply = self._exchange("PING")
        if reply != "PONG":
            raise ScannerUnavailable(f"clamd at {self.address} answered PING with {reply!r}")

    def version(self) -> ScannerVersion:
        """Return the engine and signature database versions clamd reports."""
        return _parse_version(self._command("VERSION"), self.address)

    def reload(self) -> None:
        """Ask clamd to reload its signature database; it swaps it in when loaded."""
        reply = self._command("RELOAD")
        if reply != "RELOADING":
            raise ScannerError(f"clamd at {self.address} answered RELOAD with {reply!r}")

    def scan(self, chunks: Iterable[bytes]) -> ScanResult:
        """Stream chunks of any size to clamd and return its verdict."""
        with self.start_scan() as stream:
            for chunk in chunks:
                stream.feed(chunk)
            return stream.finish()

    def start_scan(self) -> "StreamScan":
        """Connect and open an INSTREAM scan that the caller feeds chunk by chunk."""
        return StreamScan(self._connect(), self.address, self.chunk_size)

    def _connect(self) -> socket.socket:
        """Open a connection to clamd with the timeout set on every operation."""
        kind, target = self._target
        try:
            if isinstance(target, tuple):  # ("tcp", (host, port))
                return socket.create_connection(target, timeout=self.timeout)
            return _connect_unix(target, self.timeout)
        except OSError as exc:
            raise ScannerUnavailable(f"cannot connect to clamd at {self.address}: {exc}") from exc

    def _exchange(self, command: str) -> str:
        """Send one command on a fresh connection and return the reply, whatever it is."""
        with self._connect() as sock, _talking_to(self.address):
            sock.sendall(b"z" + command.encode("ascii") + b"\0")
            reply = _read_reply(sock)
        if not reply:
            raise ScannerUnavailable(f"clamd at {self.address} hung up on {command}")
        return reply

    def _command(self, command: str) -> str:
        """Send one command and return the reply, raising if clamd reports an error."""
        reply = self._exchange(command)
        if reply.endswith("ERROR"):
            raise ScannerError(f"clamd at {self.address} answered {command} with {reply!r}")
        return reply


class StreamScan:
    """One INSTREAM scan fed chunk by chunk, e.g. from an uploader's read loop.

    Use it as a context manager: leaving the block closes the connection, so an exception in
    the caller's loop never leaves a socket open. Small feeds are gathered into chunks of up
    to chunk_size, so at most chunk_size bytes are buffered.
    """

    def __init__(self, sock: socket.socket, address: str, chunk_size: int):
        self._sock: socket.socket | None = sock
        self._address = address
        self._chunk_size = chunk_size
        self._pending = bytearray()
        self._send(b"zINSTREAM\0")

    def __enter__(self) -> "StreamScan":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()

    def feed(self, data: bytes) -> None:
        """Send bytes to clamd as INSTREAM chunks of at most chunk_size bytes."""
        self._open_socket()
        self._pending += data
        while len(self._pending) >= self._chunk_size:
            self._send_chunk(self._pending[: self._chunk_size])
            del self._pending[: self._chunk_size]

    def finish(self) -> ScanResult:
        """End the stream and return clamd's verdict."""
        if self._pending:
            self._send_chunk(self._pending)
            self._pending.clear()
        self._send(_END_OF_STREAM)
        try:
            with _talking_to(self._address):
                reply = _read_reply(self._open_socket())
        finally:
            self.abort()
        return _parse_verdict(reply, self._address)

    def abort(self) -> None:
        """Close the connection without waiting for a verdict."""
        self._pending.clear()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send_chunk(self, data: bytes | bytearray) -> None:
        """Send one length-prefixed INSTREAM chunk."""
        self._send(struct.pack("!L", len(data)) + data)

    def _send(self, payload: bytes) -> None:
        """Send bytes; if clamd stopped reading, raise the reason it gave."""
        sock = self._open_socket()
        try:
            sock.sendall(payload)
        except TimeoutError as exc:
            self.abort()
            raise ScannerUnavailable(f"clamd at {self._address} stopped reading") from exc
        except OSError as exc:
            reply = _read_reply_quietly(sock)
            self.abort()
            _raise_early_reply(reply, self._address, exc)

    def _open_socket(self) -> socket.socket:
        """Return the connection, refusing to reuse a finished or aborted scan."""
        if self._sock is None:
            raise ScannerError("this scan is already finished or aborted")
        return self._sock


def _parse_address(address: str) -> tuple[str, str | tuple[str, int]]:
    """Split a unix:///path or tcp://host:port address into its kind and connect target."""
    parts = urlsplit(address)
    target: str | tuple[str, int] | None = None
    if parts.scheme == "unix" and not parts.netloc and parts.path.startswith("/"):
        target = parts.path
    elif parts.scheme == "tcp" and parts.path in ("", "/"):
        target = _host_and_port(parts)
    if target is None or parts.query or parts.fragment:
        raise ValueError(f"clamd address must be unix:///path or tcp://host:port, not {address!r}")
    return parts.scheme, target


def _host_and_port(parts: SplitResult) -> tuple[str, int] | None:
    """Return the host and port of a tcp:// address, or None if either is missing or bad."""
    try:
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname and port else None


def _connect_unix(path: str, timeout: float) -> socket.socket:
    """Connect to a unix socket, closing it again if the connect fails."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except BaseException:
        sock.close()
        raise
    return sock


@contextmanager
def _talking_to(address: str) -> Iterator[None]:
    """Turn socket failures into ScannerUnavailable."""
    try:
        yield
    except OSError as exc:
        raise ScannerUnavailable(f"lost clamd at {address}: {exc or type(exc).__name__}") from exc


def _read_reply(sock: socket.socket) -> str:
    """Read one NUL-terminated reply; an empty one means clamd hung up without answering."""
    reply = bytearray()
    while b"\0" not in reply:
        data = sock.recv(4096)
        if not data:
            break
        reply += data
        if len(reply) > _MAX_REPLY_BYTES:
            raise ScannerError("clamd sent an oversized reply")
    first, _, _ = reply.partition(b"\0")
    return first.decode("utf-8", "replace").strip()


def _read_reply_quietly(sock: socket.socket) -> str:
    """Read whatever clamd said before it stopped reading; empty if it said nothing."""
    try:
        return _read_reply(sock)
    except OSError:
        return ""


def _raise_early_reply(reply: str, address: str, exc: OSError) -> None:
    """Raise the error explaining why clamd closed the stream before it ended."""
    if reply == _SIZE_LIMIT_REPLY:
        raise _stream_too_long(address) from exc
    # Anything else (clamd shutting down, its disk full) means it dropped us: try again later.
    raise ScannerUnavailable(f"clamd at {address} dropped the stream: {reply or exc}") from exc


def _parse_verdict(reply: str, address: str) -> ScanResult:
    """Turn an INSTREAM reply into a result, or raise what it reports."""
    if not reply:
        raise ScannerUnavailable(f"clamd at {address} hung up without a verdict")
    if reply == _SIZE_LIMIT_REPLY:
        raise _stream_too_long(address)
    if reply == "stream: OK":
        return ScanResult(signature=None)
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream: ").removesuffix(" FOUND")
        if signature.startswith(_LIMIT_SIGNATURE_PREFIX):
            raise ScanLimitExceeded(f"clamd at {address} could not scan it all: {signature}")
        return ScanResult(signature=signature)
    raise ScannerError(f"clamd at {address} answered the scan with {reply!r}")


def _stream_too_long(address: str) -> ScanLimitExceeded:
    """Return the error for a stream longer than clamd's StreamMaxLength."""
    return ScanLimitExceeded(f"the stream is longer than clamd at {address} accepts")


def _parse_version(reply: str, address: str) -> ScannerVersion:
    """Parse 'ClamAV 1.0.7/27480/Tue Dec 10 09:32:01 2024' or a bare 'ClamAV 1.0.7'."""
    engine, _, database = reply.partition("/")
    number, _, date = database.partition("/")
    if not engine.startswith("ClamAV ") or (number and not (number.isascii() and number.isdigit())):
        raise ScannerError(f"clamd at {address} answered VERSION with {reply!r}")
    return ScannerVersion(
        engine=engine, database=int(number) if number else None, database_date=date or None
    )
