"""The scan gate: which versions of a file a person may read, and so which files exist for them.

A version is readable by others than its uploader once the scanner found it clean or an
administrator released it (with a reason, or by the site's `unscannable = "allow"` policy).
Its uploader reads their own versions in any state, so sync tools do not loop; the operator
reads everything. A file exists for a person only through a version they may read: a file with
none is NotFound for them everywhere (listings, downloads, S3, links, ZIP, notices).

`readable_by_others` is written once with operators that mean the same on a `Version` row
(a Python bool) and on the `Version` class or an alias of it (an SQL condition), so the rule
in queries and the rule in Python cannot drift apart.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gshare.access.permissions import ALLOWED, Action, Role, effective_role, require
from gshare.core import paths
from gshare.core.actor import OPERATOR, Actor
from gshare.core.errors import NotFound, Quarantined
from gshare.core.models import Node, ScanState, Version


def readable_by_others(version=Version):
    """Return whether a version may be read by others than its uploader (on a row), or the
    SQL condition for it (on the class or an alias)."""
    return (version.scan_state == ScanState.CLEAN) | (version.release_reason != None)  # noqa: E711


def is_quarantined(version=Version):
    """Return whether a version is held back as infected or blocked and not released (on a
    row), or the SQL condition for it (on the class or an alias)."""
    held = (version.scan_state == ScanState.INFECTED) | (version.scan_state == ScanState.BLOCKED)
    return held & (version.release_reason == None)  # noqa: E711


def allowed_by_policy(version: Version) -> bool:
    """Tell whether a version is readable only because the site's policy let an unscannable
    file through (not a person's release, not a clean verdict)."""
    return (
        version.release_reason is not None
        and version.released_by is None
        and (version.scan_state == ScanState.UNSCANNABLE)
    )


def readable_by(actor: Actor | None, version=Version):
    """Return the SQL condition for the versions this actor may read (None: an anonymous
    reader through a public link)."""
    if actor is None:
        return readable_by_others(version)
    if actor.is_operator:
        return version.id.is_not(None)
    return _readable_by_person(actor.id, version)


def _readable_by_person(person, version=Version):
    """Return the SQL condition for the versions a person (an id, or a bound parameter) may
    read: readable by others, or their own."""
    return readable_by_others(version) | (version.uploaded_by == person)


def current_version(db: Session, actor: Actor | None, node: Node) -> Version | None:
    """Return the newest version of a file this actor may read."""
    return db.scalar(_NEWEST[reader_kind(actor)], reader_params(actor, node_id=node.id))


def reader_kind(actor: Actor | None) -> str:
    """Return which of READABLE_BY_KIND holds the rule for this actor."""
    return "anonymous" if actor is None else "operator" if actor.is_operator else "person"


def reader_params(actor: Actor | None, **params) -> dict:
    """Return params with the parameter READABLE_BY_KIND's rule takes for this actor."""
    return params | {"reader": actor.id} if reader_kind(actor) == "person" else params


# readable_by for statements built once (the ones every download, HEAD and listing asks): one
# condition per kind of reader, a person's id as the parameter "reader" (reader_params).
READABLE_BY_KIND = {
    "anonymous": readable_by(None),
    "operator": readable_by(OPERATOR),
    "person": _readable_by_person(bindparam("reader")),
}
_NEWEST = {
    kind: select(Version)
    .where(Version.node_id == bindparam("node_id"), rule)
    .order_by(Version.number.desc())
    .limit(1)
    for kind, rule in READABLE_BY_KIND.items()
}
_BY_ID = {
    kind: select(Version).where(
        Version.id == bindparam("version_id"), Version.node_id == bindparam("node_id"), rule
    )
    for kind, rule in READABLE_BY_KIND.items()
}


def walk_to_current(
    db: Session, actor: Actor | None, root: Node, path: str
) -> tuple[Node | None, Version | None]:
    """Return the live node at a path below root (as paths.walk) and, for a file, the newest
    version of it the actor may read (as current_version), in one query: a HeadObject or a
    GetObject asks both, and the node's access is for the caller to check."""
    depth, params = paths.path_lookup(root, path)
    if depth == 0:
        return root, None
    query = _leaf_and_newest(depth, reader_kind(actor))
    row = db.execute(query, reader_params(actor, **params)).first()
    return (row[0], row[1]) if row is not None else (None, None)


@lru_cache(maxsize=128)
def _leaf_and_newest(depth: int, kind: str):
    """Build once the path query of this depth joined to its node's newest version that this
    kind of reader may read (under a lock: see paths._path_select on aliases)."""
    with _leaf_lock:
        query, leaf = paths.leaf_query(depth)
        newest = (
            select(Version.id)
            .where(Version.node_id == leaf.id, READABLE_BY_KIND[kind])
            .order_by(Version.number.desc())
            .limit(1)
            .correlate(leaf)  # its own versions table, not the one joined outside
            .scalar_subquery()
        )
        return query.add_columns(Version).outerjoin(Version, Version.id == newest)


_leaf_lock = threading.Lock()


def readable_version(
    db: Session, actor: Actor | None, node: Node, version_id: int | None = None
) -> Version:
    """Return the version to hand out (the newest the actor may read, or version_id), else
    NotFound; Quarantined for a quarantined version (its uploader learns why)."""
    if version_id is None:
        version = current_version(db, actor, node)
    else:
        params = reader_params(actor, node_id=node.id, version_id=version_id)
        version = db.scalar(_BY_ID[reader_kind(actor)], params)
    if version is None:
        raise NotFound()
    require_not_quarantined(version)
    return version


def require_not_quarantined(version: Version) -> None:
    """Raise Quarantined for a version held back by the scanner or the content policy."""
    if is_quarantined(version):
        raise Quarantined(f"This version is quarantined: {version.scan_signature}.")


def is_own_version(actor: Actor | None, version: Version) -> bool:
    """Tell whether the actor uploaded this version (its uploader is told its scan state)."""
    return actor is not None and actor.id is not None and version.uploaded_by == actor.id


def shown_scan_state(actor: Actor | None, version: Version) -> str | None:
    """Return the scan badge a person sees on a version: its uploader sees its state, with
    'allowed' for an unscannable version the site's policy let through; others see 'allowed'
    on such a version and nothing otherwise (what they may read is clean or released)."""
    if allowed_by_policy(version):
        return "allowed"
    return version.scan_state if is_own_version(actor, version) else None


def require_visible(db: Session, actor: Actor | None, action: Action, node: Node) -> Role:
    """Raise NotFound or PermissionDenied unless the actor may do the action to the node; a
    file exists for them only through a version they may read (adding a version excepted)."""
    role = require(db, actor, action, node)
    if not node.is_folder and action != Action.UPLOAD and current_version(db, actor, node) is None:
        raise NotFound()
    return role


def may_read_file(db: Session, actor: Actor | None, node: Node) -> bool:
    """Tell whether the actor may download this file: a role that reads, and a version they
    may read."""
    role = effective_role(db, actor, node)
    return (
        role is not None
        and Action.READ in ALLOWED[role]
        and (current_version(db, actor, node) is not None)
    )
