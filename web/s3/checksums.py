"""Compute the checksums S3 clients declare, in the base64 form S3 shows them; combine the
checksums of a multipart upload's parts into the object's, as S3 does."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib

from awscrt import checksums as crt

DIGEST_SIZES = {
    "crc32": 4,
    "crc32c": 4,
    "crc64nvme": 8,
    "sha1": 20,
    "sha256": 32,
    "sha512": 64,
    "md5": 16,
    "xxhash64": 8,
    "xxhash3": 8,
    "xxhash128": 16,
}
ALGORITHMS = tuple(DIGEST_SIZES)
HEADER_PREFIX = "x-amz-checksum-"
COMPOSITE, FULL_OBJECT = "COMPOSITE", "FULL_OBJECT"
# CRC(a + b) from CRC(a), CRC(b) and len(b): the CRCs S3 gives multipart objects whole.
_COMBINE = {
    "crc32": crt.combine_crc32,
    "crc32c": crt.combine_crc32c,
    "crc64nvme": crt.combine_crc64nvme,
}
FULL_OBJECT_ALGORITHMS = tuple(_COMBINE)  # a multipart object's whole checksum: CRCs only


class _Crc:
    """A CRC kept as an integer and updated by a C function."""

    def __init__(self, update, size: int):
        self._update, self._size, self._value = update, size, 0

    def update(self, data: bytes) -> None:
        self._value = self._update(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


class _XXHash:
    """An xxHash from awscrt, whose digest can be asked for more than once."""

    def __init__(self, factory):
        self._hash, self._digest = factory(), None

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self._digest = None

    def digest(self) -> bytes:
        if self._digest is None:
            self._digest = self._hash.finalize()
        return self._digest


def _hashlib(name: str):
    return lambda: hashlib.new(name, usedforsecurity=False)


_ENGINES = {
    "crc32": lambda: _Crc(zlib.crc32, 4),
    "crc32c": lambda: _Crc(crt.crc32c, 4),
    "crc64nvme": lambda: _Crc(crt.crc64nvme, 8),
    "sha1": _hashlib("sha1"),
    "sha256": _hashlib("sha256"),
    "sha512": _hashlib("sha512"),
    "md5": _hashlib("md5"),
    "xxhash64": lambda: _XXHash(crt.XXHash.new_xxhash64),
    "xxhash3": lambda: _XXHash(crt.XXHash.new_xxhash3_64),
    "xxhash128": lambda: _XXHash(crt.XXHash.new_xxhash3_128),
}


class Checksum:
    """Accumulate one S3 checksum (crc32, crc32c, crc64nvme, sha1, ...) over a stream."""

    def __init__(self, algorithm: str):
        if algorithm not in _ENGINES:
            raise ValueError(f"unknown checksum algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._engine = _ENGINES[algorithm]()

    def update(self, data: bytes) -> None:
        """Add bytes to the checksum."""
        self._engine.update(data)

    def digest(self) -> bytes:
        """Return the checksum of everything added so far as raw bytes."""
        return self._engine.digest()

    def b64digest(self) -> str:
        """Return the checksum as S3 shows it in x-amz-checksum-* headers."""
        return base64.b64encode(self.digest()).decode("ascii")


def checksum_of(algorithm: str, data: bytes) -> str:
    """Return the base64 checksum of a whole byte string."""
    checksum = Checksum(algorithm)
    checksum.update(data)
    return checksum.b64digest()


def header_name(algorithm: str) -> str:
    """Return the header (or trailer) that carries an algorithm's value."""
    return HEADER_PREFIX + algorithm


def element_name(algorithm: str) -> str:
    """Return the XML element that carries an algorithm's value: ChecksumCRC32..."""
    return "Checksum" + algorithm.upper()


def algorithm_of(header: str) -> str | None:
    """Return the algorithm an x-amz-checksum-* header names, or None for any other header."""
    name = header.lower()
    if not name.startswith(HEADER_PREFIX):
        return None
    algorithm = name[len(HEADER_PREFIX) :]
    return algorithm if algorithm in DIGEST_SIZES else None


def is_well_formed(algorithm: str, value: str) -> bool:
    """Tell whether a declared value is base64 of the algorithm's digest size."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == DIGEST_SIZES[algorithm]


def multipart_checksum(parts: list[tuple[dict | None, int]], kind: str = COMPOSITE) -> dict | None:
    """Return the checksum of an object assembled from parts, given each part's checksums
    ({algorithm: base64}) and size, or None unless every part carries the same algorithm.

    COMPOSITE is S3's checksum of the parts' binary checksums joined, suffixed "-<parts>";
    FULL_OBJECT is the checksum of the whole object, which only CRCs can be combined into.
    CRC64NVME is full-object only, as in S3.
    """
    algorithms = [set(checksums or ()) for checksums, _ in parts]
    common = set.intersection(*algorithms) if algorithms else set()
    if len(common) != 1:
        return None
    algorithm = common.pop()
    digests = [base64.b64decode(checksums[algorithm]) for checksums, _ in parts]
    if kind == FULL_OBJECT or algorithm == "crc64nvme":
        if algorithm not in FULL_OBJECT_ALGORITHMS:
            return None
        value = int.from_bytes(digests[0], "big")
        for digest, (_, size) in zip(digests[1:], parts[1:], strict=True):
            value = _COMBINE[algorithm](value, int.from_bytes(digest, "big"), size)
        whole = value.to_bytes(DIGEST_SIZES[algorithm], "big")
        return {
            "algorithm": algorithm,
            "type": FULL_OBJECT,
            "value": base64.b64encode(whole).decode("ascii"),
        }
    value = f"{checksum_of(algorithm, b''.join(digests))}-{len(parts)}"
    return {"algorithm": algorithm, "type": COMPOSITE, "value": value}
