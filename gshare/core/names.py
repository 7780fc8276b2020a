"""Rules for the names of folders and files, and the key used to search them."""

from __future__ import annotations

import re
import unicodedata

from gshare.core.errors import NameInvalid

MAX_NAME_BYTES = 255
_FORBIDDEN = re.compile(r"[/\x00-\x1f\x7f]")


def clean_name(name: str) -> str:
    """Return the name in NFC, or raise NameInvalid saying what is wrong with it."""
    if not isinstance(name, str):
        raise NameInvalid("A name must be text.")
    name = unicodedata.normalize("NFC", name)
    if not name.strip():
        raise NameInvalid("A name cannot be empty or only spaces.")
    if name in (".", ".."):
        raise NameInvalid("'.' and '..' cannot be used as names.")
    if _FORBIDDEN.search(name):
        raise NameInvalid("A name cannot contain '/' or control characters.")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise NameInvalid(f"A name can be at most {MAX_NAME_BYTES} bytes long in UTF-8.")
    return name


def search_key(text: str) -> str:
    """Return the form of a name used for case- and NFC-insensitive search."""
    return unicodedata.normalize("NFC", text).casefold()


def numbered(name: str, n: int) -> str:
    """Return 'report (n).pdf' for 'report.pdf', to give an upload a free name."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"
