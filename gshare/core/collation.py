"""Lao dictionary order for names people see, from ICU's collation for Lao (CLDR "lo").

Code-point order puts every word that begins with a vowel written before its consonant
(ເ ແ ໂ ໃ ໄ) after all the others; a Lao dictionary files ເກົ່າ under ກ. ICU knows this, and
also orders Latin names case-insensitively (Lao first, then Latin, as in a Lao document).

`sort_key` gives bytes that compare in that order, for Python sorts and for the database
(nodes.sort_key, so a folder listing is paged in the order it is shown). One collator for
every reader, whatever their language: the order of a list never changes with the UI language.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

import icu

T = TypeVar("T")
_local = threading.local()


def _collator() -> icu.Collator:
    collator = getattr(_local, "collator", None)
    if collator is None:  # one per thread: a collator keeps state between calls
        collator = _local.collator = icu.Collator.createInstance(icu.Locale("lo"))
    return collator


def sort_key(text: str | None) -> bytes:
    """Return bytes that order names as a Lao dictionary does (case-insensitive first)."""
    return _collator().getSortKey(text or "")


def sort_by_name(items: Iterable[T], name: Callable[[T], str | None] = str) -> list[T]:
    """Return the items ordered by the name that `name` gives, in Lao dictionary order."""
    return sorted(items, key=lambda item: sort_key(name(item)))
