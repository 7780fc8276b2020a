"""Verify a request body as it streams: its hash, its aws-chunked signatures, its checksums.

`verified_body` wraps the raw body and yields the decoded payload. Every check is done by the
time the last byte is handed out (before the read that returns it), so a caller that stores
the stream and sees S3Error aborts the store, even one that stops after Content-Length
bytes. Chunk data is hashed as it passes and never buffered whole: memory stays at one read
plus one chunk header, whatever the chunk size.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from werkzeug.exceptions import ClientDisconnected

from web.s3.checksums import Checksum, algorithm_of, header_name, is_well_formed
from web.s3.errors import S3Error
from web.s3.sigv4 import EMPTY_SHA256, AuthContext, refuse, same_signature, sign

_LINE_LIMIT = 4096
_MAX_TRAILERS = 16
_SIGNED_CHUNK = re.compile(rb"([0-9a-fA-F]{1,16});chunk-signature=([0-9a-f]{64})\r\n")
_UNSIGNED_CHUNK = re.compile(rb"([0-9a-fA-F]{1,16})(?:;[^\r\n]*)?\r\n")
_TRAILER_SIGNATURE = "x-amz-trailer-signature"


def _incomplete() -> S3Error:
    return S3Error(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    )


def _malformed_chunks(what: str) -> S3Error:
    return S3Error("InvalidRequest", f"The aws-chunked request body is malformed: {what}.")


def _malformed_trailer() -> S3Error:
    return S3Error(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform "
        "to our published schema.",
    )


class _Source:
    """The raw body, never read past Content-Length, with a small buffer for framing lines."""

    def __init__(self, raw, length: int | None):
        self._raw, self._left, self._buffer = raw, length, b""

    def read(self, n: int) -> bytes:
        """Return 1..n bytes, or b"" at the end of the body."""
        if not self._buffer:
            return self._pull(n)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def exhausted(self) -> bool:
        """Tell whether all Content-Length bytes have been read and handed on."""
        return self._left == 0 and not self._buffer

    def readline(self) -> bytes:
        """Return one line with its end, or b"" at a clean end of the body."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > _LINE_LIMIT:
                raise _malformed_chunks("a line is too long")
            more = self._pull(256)
            if not more:
                if self._buffer:
                    raise _incomplete()
                return b""
            self._buffer += more
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    def read_exact(self, n: int) -> bytes:
        """Return exactly n bytes of framing, or raise IncompleteBody."""
        data = b""
        while len(data) < n:
            more = self.read(n - len(data))
            if not more:
                raise _incomplete()
            data += more
        return data

    def _pull(self, n: int) -> bytes:
        if self._left == 0:
            return b""
        try:
            data = self._raw.read(n if self._left is None else min(n, self._left))
        except ClientDisconnected:  # the client hung up before its declared length
            raise _incomplete() from None
        if self._left is not None:
            if not data:
                raise _incomplete()
            self._left -= len(data)
        return data


class _Plain:
    """A body sent as it is ("hex" or "unsigned")."""

    def __init__(self, source: _Source):
        self._source = source
        self.checksums: dict[str, str] = {}

    def read(self, n: int) -> tuple[bytes, bool]:
        data = self._source.read(n)
        return data, not data or self._source.exhausted()


class _Chunked:
    """An aws-chunked body, signed chunk by chunk or not, maybe followed by trailers."""

    def __init__(self, source: _Source, auth: AuthContext, trailers: frozenset[str]):
        self._source, self._auth, self._trailers = source, auth, trailers
        self._signed = auth.payload.startswith("streaming-signed")
        self._previous = auth.seed_signature
        self._left: int | None = None  # data left in the current chunk; None before the first
        self._chunk_sha = hashlib.sha256()
        self._chunk_signature = ""
        self.checksums: dict[str, str] = {}

    def read(self, n: int) -> tuple[bytes, bool]:
        if self._left is None and self._next_chunk():
            return b"", True
        data = self._source.read(min(n, self._left))
        if not data:
            raise _incomplete()
        self._left -= len(data)
        if self._signed:
            self._chunk_sha.update(data)
        return data, self._left == 0 and self._end_chunk()

    def _end_chunk(self) -> bool:
        """Close the chunk just read and open the next; tell whether the body ended."""
        if self._source.read_exact(2) != b"\r\n":
            raise _malformed_chunks("chunk data is not followed by CRLF")
        self._check_chunk_signature(self._chunk_sha.hexdigest())
        return self._next_chunk()

    def _next_chunk(self) -> bool:
        size, self._chunk_signature = self._chunk_header()
        self._chunk_sha = hashlib.sha256()
        self._left = size
        if size:
            return False
        self._check_chunk_signature(EMPTY_SHA256)
        self._read_trailers()
        if self._source.read(1):
            raise _malformed_chunks("data follows the final chunk")
        return True

    def _chunk_header(self) -> tuple[int, str]:
        line = self._source.readline()
        if not line:
            raise _incomplete()
        match = (_SIGNED_CHUNK if self._signed else _UNSIGNED_CHUNK).fullmatch(line)
        if not match:
            raise _malformed_chunks("a chunk header is not valid")
        signature = match.group(2).decode("ascii") if self._signed else ""
        return int(match.group(1), 16), signature

    def _check_chunk_signature(self, chunk_sha256: str) -> None:
        if not self._signed:
            return
        expected = self._sign("AWS4-HMAC-SHA256-PAYLOAD", EMPTY_SHA256, chunk_sha256)
        if not same_signature(expected, self._chunk_signature):
            raise refuse("mismatch")
        self._previous = expected

    def _sign(self, algorithm: str, *hashes: str) -> str:
        auth = self._auth
        parts = (algorithm, auth.amz_date, auth.scope, self._previous, *hashes)
        return sign(auth.signing_key, "\n".join(parts))

    def _read_trailers(self) -> None:
        fields = self._trailer_fields()
        signature = fields.pop(_TRAILER_SIGNATURE, None)
        if set(fields) != self._trailers:
            raise _malformed_trailer()
        if self._auth.payload == "streaming-signed-trailer" and fields:
            canonical = "".join(f"{name}:{fields[name]}\n" for name in sorted(fields))
            digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
            expected = self._sign("AWS4-HMAC-SHA256-TRAILER", digest)
            if signature is None or not same_signature(expected, signature):
                raise refuse("mismatch")
        self.checksums = _declared_values(fields, "trailer")

    def _trailer_fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        while (line := self._source.readline().rstrip(b"\r\n")) and len(fields) < _MAX_TRAILERS:
            name, colon, value = line.decode("utf-8", "replace").partition(":")
            if not colon or not name.strip():
                raise _malformed_trailer()
            fields[name.strip().lower()] = value.strip()
        if line:
            raise _malformed_trailer()
        if fields and not self._auth.payload.endswith("trailer"):
            raise _malformed_trailer()
        return fields


class _Check(NamedTuple):
    """A digest the client declared, and the refusal it gets if the body's differs."""

    algorithm: str
    expected: bytes
    refusal: Callable[[bytes], S3Error]


class Reader:
    """The decoded request body; reading it raises S3Error where the client's word fails."""

    def __init__(self, decoder, checks: list[_Check], compute: set[str], decoded: int | None):
        self._decoder, self._checks, self._declared_length = decoder, checks, decoded
        self._hashers = {alg: Checksum(alg) for alg in compute | {c.algorithm for c in checks}}
        self._error: S3Error | None = None
        self._done = False
        self.decoded_length = 0
        self.checksums: dict[str, str] = {}

    def read(self, n: int = -1) -> bytes:
        """Return up to n decoded bytes (all that is left if n < 0); b"" at the end."""
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        if self._error is not None:
            raise self._error
        if self._done or n == 0:
            return b""
        try:
            return self._read(n)
        except S3Error as error:
            self._error = error
            raise

    def _read(self, n: int) -> bytes:
        data, at_end = self._decoder.read(n)
        self.decoded_length += len(data)
        if self._declared_length is not None and self.decoded_length > self._declared_length:
            message = "The decoded body is longer than x-amz-decoded-content-length."
            raise S3Error("InvalidRequest", message)
        for hasher in self._hashers.values():
            hasher.update(data)
        if at_end:
            self._finish()
        return data

    def _finish(self) -> None:
        if self._declared_length not in (None, self.decoded_length):
            raise _incomplete()
        trailer_checks = [_checksum_check(*item) for item in self._decoder.checksums.items()]
        for check in (*self._checks, *trailer_checks):
            digest = self._hashers[check.algorithm].digest()
            if not hmac.compare_digest(digest, check.expected):
                raise check.refusal(digest)
        self.checksums = {alg: hasher.b64digest() for alg, hasher in self._hashers.items()}
        self._done = True


def verified_body(
    auth: AuthContext, raw, headers: Mapping[str, str], compute: Iterable[str] = ()
) -> Reader:
    """Wrap a raw request body so that reading it yields the payload and verifies it.

    `compute` names further checksums to work out (e.g. "md5" for an ETag); the reader's
    `checksums` holds every one computed, base64, once the end is read.
    """
    hdrs = {name.lower(): value for name, value in headers.items()}
    trailers = _declared_trailers(hdrs, auth.payload)
    checks = _declared_checks(hdrs, auth.declared_sha256, len(_trailer_algorithms(trailers)))
    compute = {*compute, *_trailer_algorithms(trailers), *_sdk_algorithm(hdrs)}
    source = _Source(raw, _int_header(hdrs, "content-length"))
    if auth.payload in ("hex", "unsigned"):
        return Reader(_Plain(source), checks, compute, None)
    decoded = _int_header(hdrs, "x-amz-decoded-content-length")
    return Reader(_Chunked(source, auth, trailers), checks, compute, decoded)


def _declared_checks(hdrs: Mapping[str, str], sha256_hex: str | None, trailed: int) -> list:
    checks = [_checksum_check(*item) for item in _declared_values(hdrs, "header").items()]
    if len(checks) + trailed > 1:
        message = (
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
        raise S3Error("InvalidRequest", message)
    if sha256_hex is not None:
        checks.append(_Check("sha256", bytes.fromhex(sha256_hex), _sha256_mismatch(sha256_hex)))
    if (md5 := _content_md5(hdrs)) is not None:
        checks.append(_Check("md5", base64.b64decode(md5), lambda _: _bad_md5()))
    return checks


def _checksum_check(algorithm: str, value: str) -> _Check:
    message = f"The {header_name(algorithm)} you specified did not match the calculated checksum."
    return _Check(algorithm, base64.b64decode(value), lambda _: S3Error("BadDigest", message))


def _sha256_mismatch(declared: str) -> Callable[[bytes], S3Error]:
    message = "The provided 'x-amz-content-sha256' header does not match what was computed."
    return lambda digest: S3Error(
        "XAmzContentSHA256Mismatch", message,
        ClientComputedContentSHA256=declared, S3ComputedContentSHA256=digest.hex(),
    )  # fmt: skip


def _bad_md5() -> S3Error:
    return S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")


def _int_header(hdrs: Mapping[str, str], name: str) -> int | None:
    value = hdrs.get(name, "").strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,19}", value):
        raise S3Error("InvalidArgument", f"{name} must be a non-negative integer.")
    return int(value)


def _declared_values(fields: Mapping[str, str], where: str) -> dict[str, str]:
    values = {}
    for name, value in fields.items():
        algorithm = algorithm_of(name)
        if algorithm is None:
            continue
        if not is_well_formed(algorithm, value):
            raise S3Error("InvalidRequest", f"Value for {name} {where} is invalid.")
        values[algorithm] = value.strip()
    return values


def _declared_trailers(hdrs: Mapping[str, str], payload: str) -> frozenset[str]:
    names = hdrs.get("x-amz-trailer", "").split(",")
    trailers = frozenset(name.strip().lower() for name in names if name.strip())
    if trailers and not payload.endswith("trailer"):
        raise S3Error("InvalidRequest", "x-amz-trailer needs a STREAMING-*-TRAILER payload.")
    return trailers


def _trailer_algorithms(trailers: frozenset[str]) -> set[str]:
    return {alg for alg in map(algorithm_of, trailers) if alg is not None}


def _sdk_algorithm(hdrs: Mapping[str, str]) -> set[str]:
    name = hdrs.get("x-amz-sdk-checksum-algorithm", "").strip().lower()
    if not name:
        return set()
    if algorithm_of(header_name(name)) is None:
        raise S3Error("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
    return {name}


def _content_md5(hdrs: Mapping[str, str]) -> str | None:
    value = hdrs.get("content-md5")
    if value is None:
        return None
    if not is_well_formed("md5", value):
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return value.strip()
