"""Detect a file's content type from its first bytes with libmagic (python-magic)."""

import functools
import threading

import magic

SNIFF_BYTES = 8192
UNKNOWN_CONTENT_TYPE = "application/octet-stream"

# libmagic answers these for empty input; to the product an empty file is just unknown bytes.
_EMPTY_TYPES = frozenset({"application/x-empty", "inode/x-empty"})

# One libmagic handle, loaded on first use; a handle must not be used by two threads at once.
_lock = threading.Lock()


def detect_content_type(head: bytes) -> str:
    """Return the MIME type of a file from its first SNIFF_BYTES bytes."""
    if not head:
        return UNKNOWN_CONTENT_TYPE
    try:
        with _lock:
            content_type = _get_magic().from_buffer(bytes(head[:SNIFF_BYTES]))
    except magic.MagicException:
        return UNKNOWN_CONTENT_TYPE
    if not content_type or content_type in _EMPTY_TYPES:
        return UNKNOWN_CONTENT_TYPE
    return content_type


@functools.cache
def _get_magic() -> magic.Magic:
    """Return the shared libmagic handle, loading its database the first time."""
    return magic.Magic(mime=True)
