"""Small helpers the S3 tests share: what a refused call answered, and repeatable bytes."""

from __future__ import annotations

import random


def error_code(raised) -> str:
    """Return the S3 error code of a botocore ClientError caught by pytest.raises."""
    return raised.value.response["Error"]["Code"]


def some_bytes(size: int, seed: int) -> bytes:
    """Return the same random-looking bytes for a seed on every run."""
    return random.Random(seed).randbytes(size)
