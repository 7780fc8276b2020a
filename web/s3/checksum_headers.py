"""Checksums in requests and responses: which ones a client declares for its body (headers,
trailers, x-amz-sdk-checksum-algorithm), and how a stored one is shown (headers, XML)."""

from __future__ import annotations

from collections.abc import Callable

from web.s3.checksums import algorithm_of, element_name, header_name


def declared_checksum(request, body) -> Callable[[], tuple[str, str] | None]:
    """Return what tells, once the body is read, the checksum its client declared (in a header,
    a trailer or x-amz-sdk-checksum-algorithm): (algorithm, base64 value), verified."""
    algorithms = declared_algorithms(request)
    return lambda: next(
        ((alg, body.checksums[alg]) for alg in algorithms if alg in body.checksums), None
    )


def checksum_headers(checksum: dict | None) -> dict:
    """Return the headers that show a stored checksum (see Version.checksum)."""
    if not checksum:
        return {}
    return {
        header_name(checksum["algorithm"]): checksum["value"],
        "x-amz-checksum-type": checksum["type"],
    }


def checksum_elements(checksum: dict | None) -> list[tuple[str, str]]:
    """Return the XML elements that show a stored checksum: ChecksumCRC32..., ChecksumType."""
    if not checksum:
        return []
    return [
        (element_name(checksum["algorithm"]), checksum["value"]),
        ("ChecksumType", checksum["type"]),
    ]


def echoed_checksums(request, checksums: dict) -> dict:
    """Return the headers that send back the checksums the client declared for its body."""
    return {
        header_name(alg): checksums[alg] for alg in declared_algorithms(request) if alg in checksums
    }


def declared_algorithms(request) -> list[str]:
    names = [n.lower() for n, _ in request.headers.items()]
    names += [n.strip().lower() for n in request.headers.get("x-amz-trailer", "").split(",")]
    algorithms = [alg for alg in map(algorithm_of, names) if alg is not None]
    sdk = request.headers.get("x-amz-sdk-checksum-algorithm", "").strip().lower()
    return [*algorithms, sdk] if sdk else algorithms


def wants_checksum(request) -> bool:
    """Tell whether GetObject or HeadObject shows the stored checksum: asked for, whole object."""
    mode = request.headers.get("x-amz-checksum-mode", "").strip().upper()
    return mode == "ENABLED" and "Range" not in request.headers
