"""Verify AWS Signature Version 4 on requests to the S3 endpoint (no web framework here).

The canonical URI and query are the raw ones percent-decoded and re-encoded the S3 way (all but
A-Z a-z 0-9 - _ . ~ encoded once, upper-case hex), as AWS S3, MinIO and Ceph RGW do. If that does
not verify, the path and query exactly as sent are tried, for clients that sign what they send
without encoding every reserved character; both spellings decode to the same request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from itertools import product
from urllib.parse import quote, unquote_to_bytes

from web.s3.errors import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
TERMINAL = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 604800
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

PAYLOAD_MODES = {
    "UNSIGNED-PAYLOAD": "unsigned",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": "streaming-signed",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": "streaming-signed-trailer",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER": "streaming-unsigned-trailer",
}
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_INTEGER = re.compile(r"-?[0-9]{1,12}")
_PRESIGN_PARAMS = ["Algorithm", "Credential", "Signature", "Date", "SignedHeaders", "Expires"]
_ISO = "%Y-%m-%dT%H:%M:%SZ"

_MISMATCH = "The request signature we calculated does not match the signature you provided."
_PAYLOADS = ", ".join(PAYLOAD_MODES)
# reason -> (S3 error code, HTTP status, message), worded as AWS S3 words them
REFUSALS = {
    "anonymous": ("AccessDenied", 403, "Access Denied"),
    "two_auths": ("InvalidArgument", 400, "Only one auth mechanism allowed; only the"
        " X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization"
        " header should be specified"),
    "not_v4": ("InvalidRequest", 400, "The authorization mechanism you have provided is not"
        " supported. Please use AWS4-HMAC-SHA256."),
    "unknown_scheme": ("InvalidArgument", 400, "Unsupported Authorization Type"),
    "unknown_key": ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist"
        " in our records."),
    "no_date": ("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date"
        " header"),
    "no_sha256": ("InvalidRequest", 400, "Missing required header for this request:"
        " x-amz-content-sha256"),
    "bad_sha256": ("InvalidArgument", 400, f"x-amz-content-sha256 must be {_PAYLOADS} or a valid"
        " sha256 value."),
    "skewed": ("RequestTimeTooSkewed", 403, "The difference between the request time and the"
        " current time is too large."),
    "not_yet_valid": ("AccessDenied", 403, "Request is not valid yet"),
    "expired": ("AccessDenied", 403, "Request has expired"),
    "unsigned_headers": ("AccessDenied", 403, "There were headers present in the request which"
        " were not signed"),
    "mismatch": ("SignatureDoesNotMatch", 403, f"{_MISMATCH} Check your key and signing method."),
}  # fmt: skip


def refuse(reason: str, extra: Mapping[str, str] | None = None) -> S3Error:
    """Build the S3Error for one of the REFUSALS (extra: further <Error> elements, e.g. Region,
    HeadersNotSigned)."""
    code, status, message = REFUSALS[reason]
    return S3Error(code, message, status, **(extra or {}))


@dataclass(frozen=True)
class AuthContext:
    access_key: str
    auth_type: str  # "header" | "presigned"
    payload: str  # "hex" | "unsigned" | "streaming-signed" | "streaming-signed-trailer" | ...
    declared_sha256: str | None  # lower-case hex, for "hex"
    signing_key: bytes
    seed_signature: str
    amz_date: str  # yyyymmddThhmmssZ
    scope: str  # date/region/s3/aws4_request
    region: str


@dataclass(frozen=True)
class _Claim:  # what a request says about who signed it, when, and over what
    auth_type: str
    access_key: str
    date: str
    region: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    timestamp: datetime
    payload_hash: str
    expires: int | None = None


def authenticate(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    now: datetime | None = None,
    region: str | None = None,
) -> AuthContext:
    """Verify a request's SigV4 signature and return who signed it and how its body is sent."""
    hdrs = _lower_headers(headers)
    pairs = _split_query(raw_query)
    claim = _read_claim(hdrs, pairs)
    _check_region(claim, region)
    _check_time(claim, now or datetime.now(UTC))
    _check_all_amz_headers_signed(hdrs, claim.signed_headers)
    secret = secret_for(claim.access_key)
    if secret is None:
        raise refuse("unknown_key", {"AWSAccessKeyId": claim.access_key})
    key = signing_key(secret, claim.date, claim.region)
    _verify_signature(method, raw_path, pairs, hdrs, claim, key)
    return _context(claim, key)


@lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """Derive the SigV4 signing key for a secret, a yyyymmdd day and a region."""
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, TERMINAL):
        key = _hmac(key, part)
    return key


def sign(key: bytes, string_to_sign: str) -> str:
    """Return the lower-case hex HMAC-SHA256 of a string to sign."""
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def same_signature(expected: str, provided: str) -> bool:
    """Compare two signatures in constant time."""
    return hmac.compare_digest(expected.encode("utf-8"), provided.encode("utf-8"))


def canonical_uri(raw_path: str) -> str:
    """Return the canonical URI S3 computes: the decoded path, each byte encoded once."""
    return quote(unquote_to_bytes(raw_path or "/"), safe="/")


def canonical_query(pairs: list[tuple[str, str]], exclude: str = "") -> str:
    """Return the canonical query: decoded pairs re-encoded, sorted, X-Amz-Signature left out."""
    encoded = [(quote(_unquote_query(k), ""), quote(_unquote_query(v), "")) for k, v in pairs]
    return "&".join(f"{k}={v}" for k, v in sorted(encoded) if exclude == "" or k != exclude)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _unquote_query(text: str) -> bytes:
    return unquote_to_bytes(text.replace("+", " "))


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower().strip()
        result[key] = f"{result[key]},{value}" if key in result else str(value)
    return result


def _split_query(raw_query: str) -> list[tuple[str, str]]:
    return [tuple(p.partition("=")[::2]) for p in (raw_query or "").split("&") if p]


def _decoded_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    text = [tuple(_unquote_query(x).decode("utf-8", "replace") for x in pair) for pair in pairs]
    return dict(reversed(text))  # the first of repeated parameters wins


def _read_claim(hdrs: dict[str, str], pairs: list[tuple[str, str]]) -> _Claim:
    params = _decoded_params(pairs)
    in_query = "X-Amz-Algorithm" in params or "X-Amz-Credential" in params
    v2_query = "AWSAccessKeyId" in params and "Signature" in params
    authorization = hdrs.get("authorization")
    if authorization is not None and (in_query or v2_query):
        raise refuse("two_auths")
    if authorization is not None:
        return _header_claim(authorization, hdrs)
    if in_query:
        return _presigned_claim(params, hdrs)
    raise refuse("not_v4" if v2_query else "anonymous")


def _malformed(auth_type: str, message: str) -> S3Error:
    if auth_type == "header":
        message = f"The authorization header is malformed; {message}"
        return S3Error("AuthorizationHeaderMalformed", message)
    return S3Error("AuthorizationQueryParametersError", message)


def _header_claim(authorization: str, hdrs: dict[str, str]) -> _Claim:
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme != ALGORITHM:
        raise refuse("not_v4" if scheme == "AWS" else "unknown_scheme")
    fields = dict(p.strip().partition("=")[::2] for p in rest.split(",") if p.strip())
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        raise _malformed("header", "it must contain Credential, SignedHeaders and Signature.")
    amz_date, timestamp = _header_time(hdrs)
    return _claim(
        "header", fields["Credential"], fields["SignedHeaders"], fields["Signature"],
        amz_date, timestamp, _check_payload_hash(hdrs.get("x-amz-content-sha256")),
    )  # fmt: skip


def _presigned_claim(params: dict[str, str], hdrs: dict[str, str]) -> _Claim:
    if any(f"X-Amz-{name}" not in params for name in _PRESIGN_PARAMS):
        names = ", ".join(f"X-Amz-{name}" for name in _PRESIGN_PARAMS)
        raise _malformed("presigned", f"Query-string authentication version 4 requires {names}.")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _malformed("presigned", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    amz_date = params["X-Amz-Date"]
    timestamp = _parse_amz_date(amz_date, "presigned")
    payload = params.get("X-Amz-Content-Sha256") or hdrs.get("x-amz-content-sha256")
    return _claim(
        "presigned", params["X-Amz-Credential"], params["X-Amz-SignedHeaders"],
        params["X-Amz-Signature"], amz_date, timestamp,
        _check_payload_hash(payload) if payload else "UNSIGNED-PAYLOAD",
        _expires(params["X-Amz-Expires"]),
    )  # fmt: skip


def _claim(auth_type, credential, signed, signature, amz_date, timestamp, payload, expires=None):
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or not all(parts):
        expected = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
        raise _malformed(auth_type, f"the Credential is mal-formed; expecting {expected}.")
    access_key, date, region, service, terminal = parts
    for name, given, ours in (("service", service, SERVICE), ("terminal", terminal, TERMINAL)):
        if given != ours:
            raise _malformed(auth_type, f'incorrect {name} "{given}". This endpoint uses "{ours}".')
    names = tuple(name.strip().lower() for name in signed.split(";") if name.strip())
    if "host" not in names:
        raise _malformed(auth_type, "the signed headers must include host.")
    if date != amz_date[:8]:
        raise _malformed(auth_type, "Invalid credential date. Date is not the same as X-Amz-Date.")
    return _Claim(
        auth_type, access_key, date, region, names, signature, amz_date, timestamp, payload, expires
    )


def _header_time(hdrs: dict[str, str]) -> tuple[str, datetime]:
    if "x-amz-date" in hdrs:
        amz_date = hdrs["x-amz-date"].strip()
        return amz_date, _parse_amz_date(amz_date, "header")
    try:
        timestamp = parsedate_to_datetime(hdrs["date"])
    except (KeyError, TypeError, ValueError):
        raise refuse("no_date") from None
    timestamp = timestamp.replace(tzinfo=timestamp.tzinfo or UTC).astimezone(UTC)
    return timestamp.strftime(AMZ_DATE_FORMAT), timestamp


def _parse_amz_date(text: str, auth_type: str) -> datetime:
    try:
        if not _AMZ_DATE.fullmatch(text):
            raise ValueError(text)
        return datetime.strptime(text, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        if auth_type == "header":
            raise refuse("no_date") from None
        raise _malformed("presigned", "X-Amz-Date must be in the ISO8601 Long Format") from None


def _check_payload_hash(value: str | None) -> str:
    if value is None:
        raise refuse("no_sha256")
    value = value.strip()
    if value in PAYLOAD_MODES or _HEX64.fullmatch(value):
        return value
    raise refuse("bad_sha256")


def _expires(text: str) -> int:
    if not _INTEGER.fullmatch(text.strip()):
        raise _malformed("presigned", "X-Amz-Expires should be a number")
    seconds = int(text)
    if seconds < 1:
        raise _malformed("presigned", "X-Amz-Expires must be non-negative and at least 1")
    if seconds > MAX_EXPIRES:
        week = f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_EXPIRES} seconds"
        raise _malformed("presigned", week)
    return seconds


def _check_region(claim: _Claim, region: str | None) -> None:
    if region is None or claim.region == region:
        return
    message = f"the region '{claim.region}' is wrong; expecting '{region}'"
    prefix = "Error parsing the X-Amz-Credential parameter; " if claim.auth_type != "header" else ""
    error = _malformed(claim.auth_type, prefix + message)
    error.extra["Region"] = region
    raise error


def _check_time(claim: _Claim, now: datetime) -> None:
    if claim.auth_type == "presigned":
        return _check_presigned_time(claim, now)
    if abs(now - claim.timestamp) > MAX_SKEW:
        skew = str(int(MAX_SKEW.total_seconds() * 1000))
        raise refuse(
            "skewed",
            {"RequestTime": claim.amz_date, "ServerTime": now.strftime(_ISO),
             "MaxAllowedSkewMilliseconds": skew},
        )  # fmt: skip


def _check_presigned_time(claim: _Claim, now: datetime) -> None:
    if claim.timestamp - now > MAX_SKEW:
        raise refuse("not_yet_valid")
    expires_at = claim.timestamp + timedelta(seconds=claim.expires or 0)
    if now > expires_at:
        raise refuse(
            "expired",
            {"X-Amz-Expires": str(claim.expires), "Expires": expires_at.strftime(_ISO),
             "ServerTime": now.strftime(_ISO)},
        )  # fmt: skip


def _check_all_amz_headers_signed(hdrs: dict[str, str], signed: tuple[str, ...]) -> None:
    unsigned = sorted(n for n in hdrs if n.startswith("x-amz-") and n not in signed)
    if unsigned:
        raise refuse("unsigned_headers", {"HeadersNotSigned": ", ".join(unsigned)})


def _canonical_headers(hdrs: dict[str, str], signed: tuple[str, ...]) -> str:
    lines = []
    for name in signed:
        value = hdrs.get(name)
        if value is None and name == "expect":
            value = "100-continue"  # some servers consume Expect before the app sees it
        lines.append(f"{name}:{' '.join((value or '').split())}\n")
    return "".join(lines)


def _candidate_requests(method, raw_path, pairs, hdrs, claim) -> list[str]:
    """Return the canonical requests to try: the S3 re-encoding first, then as sent."""
    exclude = "X-Amz-Signature" if claim.auth_type == "presigned" else ""
    uris = dict.fromkeys([canonical_uri(raw_path), raw_path or "/"])
    raw = sorted(p for p in pairs if not exclude or _unquote_query(p[0]) != exclude.encode())
    queries = dict.fromkeys([canonical_query(pairs, exclude), "&".join(f"{k}={v}" for k, v in raw)])
    head = _canonical_headers(hdrs, claim.signed_headers)
    tail = f"{';'.join(claim.signed_headers)}\n{claim.payload_hash}"
    return [f"{method.upper()}\n{u}\n{q}\n{head}\n{tail}" for u, q in product(uris, queries)]


def _string_to_sign(claim: _Claim, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{claim.amz_date}\n{_scope(claim)}\n{digest}"


def _scope(claim: _Claim) -> str:
    return f"{claim.date}/{claim.region}/{SERVICE}/{TERMINAL}"


def _verify_signature(method, raw_path, pairs, hdrs, claim: _Claim, key: bytes) -> None:
    candidates = _candidate_requests(method, raw_path, pairs, hdrs, claim)
    for canonical_request in candidates:
        if same_signature(sign(key, _string_to_sign(claim, canonical_request)), claim.signature):
            return
    raise refuse(
        "mismatch",
        {"AWSAccessKeyId": claim.access_key, "SignatureProvided": claim.signature,
         "StringToSign": _string_to_sign(claim, candidates[0]), "CanonicalRequest": candidates[0]},
    )  # fmt: skip


def _context(claim: _Claim, key: bytes) -> AuthContext:
    payload = PAYLOAD_MODES.get(claim.payload_hash, "hex")
    declared = claim.payload_hash.lower() if payload == "hex" else None
    return AuthContext(
        claim.access_key, claim.auth_type, payload, declared, key, claim.signature,
        claim.amz_date, _scope(claim), claim.region,
    )  # fmt: skip
