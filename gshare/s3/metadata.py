"""What an S3 client says about an object: its Content-Type and user metadata (x-amz-meta-*),
kept per version and returned as given; and the encryption it asks for.

The type gshare detects from the bytes stays beside the client's (Version.content_type): it
alone decides the content policy and what the web UI serves. S3 clients get theirs back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gshare.core.config import Config
from gshare.core.errors import InvalidInput, NotSupported

USER_METADATA_LIMIT = 2048  # bytes of x-amz-meta-* names (without the prefix) and values, as AWS
USER_PREFIX = "x-amz-meta-"
SSE_S3 = "AES256"
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(
    rf'{_TOKEN}/{_TOKEN}(\s*;\s*{_TOKEN}=({_TOKEN}|"([^"\\\r\n]|\\.)*"))*\s*', re.ASCII
)


@dataclass(frozen=True)
class ObjectMetadata:
    """A version's Content-Type as its client gave it (None: none given) and its stored
    headers (x-amz-meta-*, Cache-Control...)."""

    content_type: str | None
    headers: dict


def object_metadata(content_type: str | None, headers: dict) -> ObjectMetadata:
    """Return what a client gave for an object, checked: a Content-Type that is not a media
    type is InvalidInput, user metadata over AWS's 2 KB too (MetadataTooLarge)."""
    if content_type is not None and (
        len(content_type) > 255 or not _MEDIA_TYPE.fullmatch(content_type)
    ):
        raise InvalidInput(f"'{content_type[:100]}' is not a media type such as text/plain.")
    size = sum(
        len(name.removeprefix(USER_PREFIX).encode()) + len(value.encode())
        for name, value in headers.items()
        if name.startswith(USER_PREFIX)
    )
    if size > USER_METADATA_LIMIT:
        raise InvalidInput(
            f"Your metadata headers exceed the maximum allowed metadata size "
            f"({size:,} bytes; at most {USER_METADATA_LIMIT:,}).",
            reason="metadata_too_large",
        )
    return ObjectMetadata(content_type, headers)


def requested_encryption(config: Config, asked: str | None, customer_key: bool) -> str | None:
    """Return the server-side encryption to answer a write with (None: none asked for), or
    raise NotSupported for what gshare does not do: gshare encrypts nothing itself, so only
    SSE-S3 (AES256), and only where the object store encrypts at rest
    (`[storage] encrypted_at_rest`); never customer keys (SSE-C) or KMS."""
    if customer_key:
        raise NotSupported(
            "gshare does not implement server-side encryption with customer-provided keys "
            "(SSE-C); nothing was stored."
        )
    if asked is None:
        return None
    if asked not in (SSE_S3, "aws:kms", "aws:kms:dsse"):
        raise InvalidInput(f"'{asked}' is not a server-side encryption.")
    if asked != SSE_S3 or not config.storage.encrypted_at_rest:
        raise NotSupported(
            f"gshare does not implement server-side encryption {asked} here; nothing was "
            "stored. See docs/s3.md: how files are protected at rest."
        )
    return SSE_S3


def encryption_at_rest(config: Config) -> str | None:
    """Return the encryption to report on every object (SSE-S3 where the store encrypts)."""
    return SSE_S3 if config.storage.encrypted_at_rest else None
