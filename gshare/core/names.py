"""Rules for the names of folders and files, and the key used to search them."""

from __future__ import annotations

import re
import unicodedata

from gshare.core.errors import NameInvalid

MAX_NAME_BYTES = 255
_FORBIDDEN = re.compile(r"[/\x00-\x1f\x7f-\x9f]")
# Invisible marks that reorder how text is shown: U+202E makes 'rtl\u202efdp.js' show as
# 'rtlsj.pdf'. Names never need them; right-to-left text itself (Arabic, Hebrew) is allowed.
_DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


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
    if _DIRECTION_CONTROLS.search(name):
        raise NameInvalid(
            "A name cannot contain invisible characters that change the direction of text "
            "(such as U+202E): they can make a program's name look like a document's.",
            reason="direction",
        )
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise NameInvalid(f"A name can be at most {MAX_NAME_BYTES} bytes long in UTF-8.")
    return name


# Lao marks typed in either order look the same: a tone mark (U+0EC8-U+0ECB) before or after
# a vowel written above or below the consonant (ກ່ີ / ກີ່). Unicode does not treat the two as
# equal, so the search key puts the tone mark last.
_LAO_TONE_BEFORE_VOWEL = re.compile("([\u0ec8-\u0ecb]+)([\u0eb1\u0eb4-\u0eb9\u0ebb\u0ecd]+)")


def search_key(text: str) -> str:
    """Return the form of a name used for search: case-insensitive, NFKC (so ໜ matches ຫນ
    and ຳ matches ໍ + າ), Lao tone marks after the vowel marks."""
    key = unicodedata.normalize("NFKC", text).casefold()
    return _LAO_TONE_BEFORE_VOWEL.sub(r"\2\1", key)


def person_search_key(display_name: str | None, username: str | None) -> str:
    """Return the key a person is found by: their display name's and user name's search keys,
    a line each (a typed text, its spaces made single, never spans the two)."""
    return search_key(f"{display_name or ''}\n{username or ''}")


def numbered(name: str, n: int) -> str:
    """Return 'report (n).pdf' for 'report.pdf', to give an upload a free name."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{ext}"
