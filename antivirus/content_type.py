"""Detect a file's content type from its first bytes with libmagic (python-magic)."""

import functools
import threading

import magic

SNIFF_BYTES = 8192
UNKNOWN_CONTENT_TYPE = "application/octet-stream"

# libmagic answers these for empty input; to the product an empty file is just unknown bytes.
_EMPTY_TYPES = frozenset({"application/x-empty", "inode/x-empty"})

# libmagic calls bytes a DOS program (COM) when their first byte is a likely first instruction
# (a jump or a mov): about 1 in 100 compressed or encrypted files. A COM program has no header
# and runs only under a .com name, which the policy refuses by name; the programs Windows runs
# whatever their name start with an MZ header, so only those are called programs here.
_DOS_PROGRAM = "application/x-dosexec"
_DOS_HEADERS = (b"MZ", b"ZM")

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
    if content_type == _DOS_PROGRAM and not head.startswith(_DOS_HEADERS):
        return UNKNOWN_CONTENT_TYPE  # a guess from a first instruction: see _DOS_HEADERS
    return content_type


@functools.cache
def _get_magic() -> magic.Magic:
    """Return the shared libmagic handle, loading its database the first time."""
    return magic.Magic(mime=True)
