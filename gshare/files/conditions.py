"""Conditional writes: what a writer expects of a name before writing there (HTTP's If-Match
and If-None-Match, as S3 clients send them for lock files and safe updates).

A condition is checked where the write takes its turn on the name (content.claim_name), so no
other writer comes between the check and the write. It is judged by what the writer sees: the
newest version they may read, as a GET of theirs would return it (a file nobody but its
uploader sees yet, still being scanned, is not there for anyone else).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gshare.access.gate import current_version
from gshare.core.actor import Actor
from gshare.core.errors import NotFound, PreconditionFailed
from gshare.core.models import Node


@dataclass(frozen=True)
class WriteCondition:
    """If-Match: the file's current version has one of these ETags ('*': any); If-None-Match
    '*': the name holds no file the writer sees."""

    if_match: tuple[str, ...] | None = None
    if_none_match: bool = False

    def check(self, db: Session, actor: Actor, existing: Node | None) -> None:
        """Raise PreconditionFailed when the file at the name (None: none) is not as expected;
        NotFound when If-Match names a file that is not there."""
        current = current_version(db, actor, existing) if existing is not None else None
        if self.if_none_match and current is not None:
            raise PreconditionFailed(
                "The name is taken and the request asked for a new file (If-None-Match).",
                condition="If-None-Match",
            )
        if self.if_match is None:
            return
        if current is None:
            raise NotFound("There is no file to match (If-Match).")
        if "*" not in self.if_match and current.etag not in self.if_match:
            raise PreconditionFailed(
                "The file has changed since the request's ETag (If-Match).",
                condition="If-Match",
            )


def check_condition(
    db: Session, actor: Actor, condition: WriteCondition | None, existing: Node | None
) -> None:
    """Hold a write to its condition, if it has one."""
    if condition is not None:
        condition.check(db, actor, existing)
