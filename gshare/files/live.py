"""What an open folder page shows that changes on its own: the scan state of its files.

A page asks, in one call, about the versions it shows as being scanned. The folder goes
through the access package first (a folder the person may not see is NotFound); of the
versions asked about, only those in that folder that the person may read are answered: their
uploader's own in any state, anyone else's once clean or released.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gshare.access.gate import is_own_version, readable_by, require_visible
from gshare.access.permissions import ALLOWED, Action
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import NotFound
from gshare.core.models import Node, ScanState, Version
from gshare.core.paths import in_trash

MOST_VERSIONS = 200  # a page shows at most this many files; more ids are ignored


@dataclass(frozen=True)
class WatchedFolder:
    """A folder as its open page follows it."""

    folder: Node
    may_edit: bool  # the space's use is shown to who may change the folder
    versions: list[tuple[Version, str]]  # the versions asked about they may read, and state


def watch_folder(
    ctx: Context, actor: Actor, folder_id: int, version_ids: list[int]
) -> WatchedFolder:
    """Return a folder the actor sees and, of the versions asked about, those of its files
    the actor may read, each with the state the actor is told."""
    folder = ctx.db.get(Node, folder_id)
    if folder is None or in_trash(ctx.db, folder):
        raise NotFound()
    role = require_visible(ctx.db, actor, Action.SEE, folder)
    wanted = version_ids[:MOST_VERSIONS]
    versions = ctx.db.scalars(
        select(Version)
        .join(Node, Node.id == Version.node_id)
        .where(Version.id.in_(wanted), Node.parent_id == folder.id, readable_by(actor))
    )
    told = [(version, _told_state(actor, version)) for version in versions] if wanted else []
    return WatchedFolder(folder, Action.EDIT in ALLOWED[role], told)


def _told_state(actor: Actor, version: Version) -> str:
    if is_own_version(actor, version) or version.scan_state == ScanState.CLEAN:
        return version.scan_state
    return "released"
