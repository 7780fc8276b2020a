"""Small helpers the S3 tests share: what a refused call answered, and repeatable bytes."""

from __future__ import annotations

import random


def error_code(raised) -> str:
    """Return the S3 error code of a botocore ClientError caught by pytest.raises."""
    return raised.value.response["Error"]["Code"]


def some_bytes(size: int, seed: int) -> bytes:
    """Return the same random-looking bytes for a seed on every run."""
    return random.Random(seed).randbytes(size)


def history(client, bucket: str, key: str) -> list[str]:
    """Return the version ids of a key, newest first."""
    listed = client.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    return [v["VersionId"] for v in listed if v["Key"] == key]


def blob_count(site) -> int:
    """Return how many version blobs the site's store holds."""
    return sum(1 for _ in site.gs.store.list("v/"))
