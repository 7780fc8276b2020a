"""What an S3 access key may do.

A key acts for its owner: their roles decide what it sees and changes, as in the web UI. A key
may narrow that, never widen it: a read-only key only lists and reads; a key limited to one
space reaches no other space and creates none.
"""

from __future__ import annotations

from gshare.core.models import AccessKey


def key_allows_space(key: AccessKey, space_id: int) -> bool:
    """Tell whether the key may reach this space at all."""
    return key.space_id is None or key.space_id == space_id


def key_allows_writes(key: AccessKey) -> bool:
    """Tell whether the key may change anything (upload, delete, copy, create)."""
    return not key.read_only


def key_may_create_spaces(key: AccessKey) -> bool:
    """Tell whether the key may create a space (a bucket): only an unlimited key."""
    return key.space_id is None and key_allows_writes(key)
