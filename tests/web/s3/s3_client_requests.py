"""Capture the requests real S3 clients (boto3, minio-py) would send, and build chunked bodies."""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import boto3
import urllib3
from botocore.config import Config
from minio import Minio

from web.s3.sigv4 import authenticate

ACCESS_KEY = "GSHAREKEY0000000001"
SECRET = "s3cr3t/with+odd=chars"
REGION = "gshare-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def secret_for(access_key):
    """Look up the one test key's secret."""
    return SECRET if access_key == ACCESS_KEY else None


@dataclass
class WireRequest:
    """One HTTP request as a client puts it on the wire (HTTP chunking already undone)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    extra: dict = field(default_factory=dict)

    def authenticate(self, **kwargs):
        """Verify the request with the endpoint's authenticate()."""
        kwargs.setdefault("region", REGION)
        return authenticate(self.method, self.path, self.query, self.headers, secret_for, **kwargs)

    def body_stream(self):
        """Return the body as the raw stream a WSGI server hands on."""
        return io.BytesIO(self.body)


def _wire(method, url, headers, body) -> WireRequest:
    parts = urlsplit(url)
    headers = {_text(k): _text(v) for k, v in headers.items()}
    if not any(name.lower() == "host" for name in headers):
        headers["Host"] = parts.netloc
    return WireRequest(method, parts.path, parts.query, headers, _read_all(body))


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _read_all(body) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    return b"".join(iter(lambda: body.read(65536), b""))


class _Captured(Exception):
    def __init__(self, wire: WireRequest):
        super().__init__("captured")
        self.wire = wire


def boto3_client(endpoint="https://s3.gshare.test", secret=SECRET, **s3_config):
    """Return a boto3 S3 client whose requests are captured instead of sent."""
    config = Config(
        s3={"addressing_style": "path", **s3_config},
        retries={"total_max_attempts": 1},
        signature_version="s3v4",
    )
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=secret, config=config,
    )  # fmt: skip

    def capture(request, **_):
        raise _Captured(_wire(request.method, request.url, request.headers, request.body))

    client.meta.events.register("before-send.s3", capture)
    return client


def boto3_request(client, operation: str, **params) -> WireRequest:
    """Return the request boto3 sends for one S3 operation."""
    try:
        getattr(client, operation)(**params)
    except _Captured as captured:
        return captured.wire
    raise AssertionError("boto3 sent nothing")


def presigned_request(url: str, method: str = "GET", headers=None) -> WireRequest:
    """Return the request a browser or curl sends for a presigned URL."""
    return _wire(method, url, dict(headers or {}), b"")


class _CapturingPool(urllib3.PoolManager):
    def urlopen(self, method, url, body=None, headers=None, **_):
        raise _Captured(_wire(method, url, dict(headers or {}), body))


def minio_client(secret=SECRET, secure=False) -> Minio:
    """Return a minio-py client whose requests are captured instead of sent."""
    return Minio(
        "s3.gshare.test:9000", access_key=ACCESS_KEY, secret_key=secret, secure=secure,
        region=REGION, http_client=_CapturingPool(),
    )  # fmt: skip


def minio_request(call) -> WireRequest:
    """Return the request minio-py sends for one call."""
    try:
        call()
    except _Captured as captured:
        return captured.wire
    raise AssertionError("minio-py sent nothing")


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed_chunks(
    parts: list[bytes], key: bytes, amz_date: str, scope: str, seed: str, trailers=None
) -> bytes:
    """Encode parts as aws-chunked with chained chunk signatures (and a signed trailer)."""
    body, previous = [], seed
    for part in [*parts, b""]:
        sha = hashlib.sha256(part).hexdigest()
        text = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{sha}"
        previous = _hmac_hex(key, text)
        body.append(b"%x;chunk-signature=%s\r\n%s" % (len(part), previous.encode(), part))
        body.append(b"\r\n" if part or trailers is None else b"")
    if trailers is not None:
        canonical = "".join(f"{name}:{value}\n" for name, value in sorted(trailers.items()))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        text = f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{digest}"
        body.append(canonical.replace("\n", "\r\n").encode())
        body.append(b"x-amz-trailer-signature:%s\r\n\r\n" % _hmac_hex(key, text).encode())
    return b"".join(body)


def unsigned_chunks(parts: list[bytes], trailers: dict[str, str]) -> bytes:
    """Encode parts as aws-chunked without signatures, then the trailers."""
    body = [b"%x\r\n%s\r\n" % (len(part), part) for part in parts]
    body.append(b"0\r\n")
    body.extend(f"{name}:{value}\r\n".encode() for name, value in trailers.items())
    return b"".join(body) + b"\r\n"
