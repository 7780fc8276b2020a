"""Build the two SDK clients behind S3Store alike: same timeouts, retries, pool size, CA bundle.

minio serves what its public API offers (buckets, get, stat, delete, list, server-side copy);
botocore serves the single requests minio keeps private (see storage/s3requests.py). Neither
reads proxy settings from the environment: the store is reached directly.
"""

import functools
import os
import threading

import boto3
import certifi
import urllib3
from botocore.client import BaseClient
from botocore.config import Config
from minio import Minio

RETRIES = 2  # after the first attempt
POOL_SIZE = 10  # connections kept per client
MAX_CONNECT_TIMEOUT = 5.0  # a dead server is reported within seconds

SESSION_LOCK = threading.Lock()  # a boto3 session is not thread-safe; its clients are


def find_ca_bundle() -> str:
    """Return the CA bundle to verify the store's certificate with."""
    return os.environ.get("SSL_CERT_FILE") or certifi.where()


def build_http(timeout: float) -> urllib3.PoolManager:
    """Build minio's connection pool: it gives up on a dead server within seconds."""
    retries = urllib3.Retry(
        total=RETRIES,
        connect=RETRIES,
        read=1,
        redirect=0,
        status=RETRIES,
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504),
        raise_on_status=False,
    )
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=min(timeout, MAX_CONNECT_TIMEOUT), read=timeout),
        retries=retries,
        maxsize=POOL_SIZE,
        cert_reqs="CERT_REQUIRED",
        ca_certs=find_ca_bundle(),
    )


def build_minio(
    netloc: str, secure: bool, access_key: str, secret_key: str, region: str, timeout: float
) -> Minio:
    """Build the minio client for the store at netloc (host[:port])."""
    return Minio(
        netloc,
        access_key,
        secret_key,
        region=region,
        secure=secure,
        http_client=build_http(timeout),
    )


def build_boto(
    endpoint: str, access_key: str, secret_key: str, region: str, timeout: float
) -> tuple[BaseClient, BaseClient]:
    """Build two botocore S3 clients for the store at endpoint (scheme://host[:port]): one that
    retries, and one that never does, for bodies read as they are sent (they cannot be sent
    again: botocore would wait out its backoff, then fail to rewind one).

    Request bodies go out as they are: UNSIGNED-PAYLOAD (no SHA-256 pass, even over http) and no
    CRC added unless an operation requires one (none that S3Store uses does), so a part streams
    to the store as it arrives. Responses are not checked against CRCs either: downloads go
    through minio.
    """

    def build(attempts: int) -> BaseClient:
        return get_shared_session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            verify=find_ca_bundle(),
            config=build_boto_config(endpoint, timeout, attempts),
        )

    with SESSION_LOCK:
        return build(RETRIES + 1), build(1)


@functools.cache
def get_shared_session() -> boto3.session.Session:
    """Give the session every store builds its clients from: it loads S3's model once (a
    client then takes milliseconds, not a tenth of a second). Not boto3's default session,
    which other code in the process may configure."""
    return boto3.session.Session()


def build_boto_config(endpoint: str, timeout: float, attempts: int) -> Config:
    """Configure a botocore client as minio's pool is, making attempts at most per request."""
    return Config(
        signature_version="s3v4",
        connect_timeout=min(timeout, MAX_CONNECT_TIMEOUT),
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": attempts},
        max_pool_connections=POOL_SIZE,
        proxies={},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={
            "addressing_style": choose_addressing_style(endpoint),
            "payload_signing_enabled": False,
        },
    )


def choose_addressing_style(endpoint: str) -> str:
    """Name buckets in the host on AWS, as minio does, and in the path elsewhere."""
    host = urllib3.util.parse_url(endpoint).host or ""
    return "virtual" if host.endswith(".amazonaws.com") else "path"
