"""Detect a file's content type from its first bytes with libmagic (python-magic)."""

import functools
import re
import struct
import threading
import zlib

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

# libmagic names an OOXML file by the folder of its first parts (word/, xl/, ppt/), so a .docm is
# "a Word document" to it. A file with macros says so in [Content_Types].xml, which Office writes
# first, or holds a vbaProject.bin: both are read from the first bytes here.
_OOXML = "application/vnd.openxmlformats-officedocument."
_MACRO_TYPES = {
    "wordprocessingml.document": "application/vnd.ms-word.document.macroEnabled.12",
    "wordprocessingml.template": "application/vnd.ms-word.template.macroEnabled.12",
    "spreadsheetml.sheet": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "spreadsheetml.template": "application/vnd.ms-excel.template.macroEnabled.12",
    "presentationml.presentation": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    "presentationml.slideshow": "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    "presentationml.template": "application/vnd.ms-powerpoint.template.macroEnabled.12",
}
_DECLARED_MACRO = re.compile(rb"macroEnabled|vbaProject", re.IGNORECASE)
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_TYPES_XML_LIMIT = 1 << 20

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
    if content_type.startswith(_OOXML) and _has_macros(head[:SNIFF_BYTES]):
        return _MACRO_TYPES.get(content_type.removeprefix(_OOXML), content_type)
    return content_type


def _has_macros(head: bytes) -> bool:
    """Tell whether the ZIP entries that start in head name or declare a VBA macro project."""
    offset = 0
    while (offset := head.find(b"PK\x03\x04", offset)) >= 0:
        fields = head[offset : offset + _LOCAL_HEADER.size]
        if len(fields) < _LOCAL_HEADER.size:
            return False
        _, _, _, method, _, _, _, compressed, _, name_length, extra_length = _LOCAL_HEADER.unpack(
            fields
        )
        start = offset + _LOCAL_HEADER.size
        name = head[start : start + name_length]
        if name.lower().endswith(b"vbaproject.bin"):
            return True
        data = head[start + name_length + extra_length :]
        if name == b"[Content_Types].xml" and _DECLARED_MACRO.search(_inflate(method, data)):
            return True
        offset = start + name_length + extra_length + compressed  # 0 when sizes come after
    return False


def _inflate(method: int, data: bytes) -> bytes:
    """Return what can be read of a ZIP entry's data (stored or deflated), up to a limit."""
    if method == 0:
        return data[:_TYPES_XML_LIMIT]
    if method != 8:
        return b""
    try:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, _TYPES_XML_LIMIT)
    except zlib.error:
        return b""


@functools.cache
def _get_magic() -> magic.Magic:
    """Return the shared libmagic handle, loading its database the first time."""
    return magic.Magic(mime=True)
