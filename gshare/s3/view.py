"""What one person sees of gshare in S3's shape: spaces as buckets, paths as keys.

Which spaces a person sees, and what of each, is the permission model's answer
(visibility.visible_spaces and space_view); a bucket is that answer. This module turns it into
keys. Folders are implicit in S3: a folder shows as the prefix of what is in it, and an empty
folder as a zero-byte key ending in '/'. Files in the trash are delete markers (markers.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select

from gshare.access.gate import (
    READABLE_BY_KIND,
    readable_by,
    readable_version,
    reader_kind,
    reader_params,
    require_not_quarantined,
    require_visible,
    walk_to_current,
)
from gshare.access.permissions import Action, require
from gshare.access.visibility import SpaceView, space_view, visible_spaces
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.db import run
from gshare.core.errors import NameInvalid, NotFound
from gshare.core.models import Node, NodeKind, Space, User, Version
from gshare.core.names import clean_name
from gshare.core.paths import walk
from gshare.s3 import markers
from gshare.s3.markers import DeleteMarker, DeleteMarkerHit

Bucket = SpaceView  # a space as one person sees it: all of it, or only what is shared with them


@dataclass(frozen=True)
class S3Object:
    """A key and what it names: a file with the version this person gets, or a folder."""

    key: str
    node: Node
    version: Version | None

    @property
    def is_folder(self) -> bool:
        return self.version is None


@dataclass(frozen=True)
class VersionEntry:
    """One row of ListObjectVersions: a version of a file, a folder, or a delete marker."""

    key: str
    node: Node
    version: Version | None
    marker: DeleteMarker | None
    latest: bool

    @property
    def version_id(self) -> str:
        if self.marker is not None:
            return self.marker.id
        return str(self.version.id) if self.version is not None else "null"


def owner_id(node: Node, version: Version | None, marker: DeleteMarker | None = None) -> int | None:
    """Return who S3 shows as an entry's owner: the version's uploader, the folder's maker, or
    whoever deleted a file (its delete marker's)."""
    if marker is not None:
        return node.deleted_by
    return version.uploaded_by if version is not None else node.created_by


def people(ctx: Context, ids) -> dict[int, User]:
    """Return the people with these ids, by id (one query per 500)."""
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, User] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update((u.id, u) for u in ctx.db.scalars(select(User).where(User.id.in_(chunk))))
    return found


def list_buckets(ctx: Context, actor: Actor) -> list[Bucket]:
    """Return the spaces the person sees anything of, by name."""
    return visible_spaces(ctx, actor)


def get_bucket(ctx: Context, actor: Actor, slug: str, found: Bucket | None = None) -> Bucket:
    """Return the space with this name as the person sees it, else NotFound (found: the
    space and its root as find_space returns them, when the caller read them already)."""
    found = found or find_space(ctx, slug)
    bucket = space_view(ctx, actor, found.space, found.root)
    if bucket is None:
        raise NotFound(f"No space '{slug}'.")
    return bucket


def find_space(ctx: Context, slug: str) -> Bucket:
    """Return the space with this name and its root as a bucket of which nothing is seen yet.

    For object requests: the check on the object's node decides, and a role on any node of a
    space is a role that makes the space a bucket of the person's. When that check fails,
    get_bucket tells a bucket they do not see from a key that is not there. Listings need
    get_bucket: this bucket lists nothing.
    """
    row = ctx.db.execute(_SPACE_AND_ROOT, {"slug": slug}).first()
    if row is None:
        raise NotFound(f"No space '{slug}'.")
    return Bucket(row[0], row[1], None)


# Built once: every object request asks it (the space and its root folder in one query).
_SPACE_AND_ROOT = (
    select(Space, Node)
    .join(Node, (Node.space_id == Space.id) & Node.parent_id.is_(None))
    .where(Space.slug == bindparam("slug"))
)


def with_space(query):
    """Add to a query the space whose slug is its `slug` parameter and that space's root, as
    two more columns (None where there is no such space): what find_space reads, read with
    something else in one round trip (the S3 endpoint's access key)."""
    return (
        query.add_columns(Space, Node)
        .outerjoin(Space, Space.slug == bindparam("slug"))
        .outerjoin(Node, (Node.space_id == Space.id) & Node.parent_id.is_(None))
    )


def found_space(space: Space | None, root: Node | None) -> Bucket | None:
    """Return what find_space returns, from a with_space query's two columns, or None."""
    return Bucket(space, root, None) if space is not None and root is not None else None


def check_key(key: str) -> list[str]:
    """Return the names along a key, or raise NameInvalid for a key gshare cannot hold."""
    if not key or key.startswith("/"):
        raise NameInvalid("An object key cannot be empty or start with '/'.")
    parts = key.removesuffix("/").split("/")
    return [clean_name(part) for part in parts]


def find_node(
    ctx: Context, actor: Actor, bucket: Bucket, key: str, action: Action = Action.READ
) -> Node:
    """Return the live file (or, for a key ending in '/', the folder) at a key, else NotFound."""
    node = walk(ctx.db, bucket.root, key)
    if node is None or node.is_folder != key.endswith("/"):
        raise NotFound(f"No object '{key}'.")
    try:  # walk passed only live folders: nothing is in the trash
        require_visible(ctx.db, actor, action, node)
    except NotFound:
        raise NotFound(f"No object '{key}'.") from None
    return node


def find_object(
    ctx: Context, actor: Actor, bucket: Bucket, key: str, version_id: int | str | None = None
) -> S3Object:
    """Return the object at a key with the version the person reads (the newest they may, or
    version_id), else NotFound; Quarantined for a quarantined version.

    A key whose file is in the trash, or a delete marker's id as version_id, raises
    DeleteMarkerHit; a version of a file in the trash is found by its id, as S3 finds it.
    """
    if isinstance(version_id, str):
        found = markers.marker_named(ctx, actor, bucket, key, version_id)
        raise DeleteMarkerHit(found, named=True) if found else NotFound(f"No object '{key}'.")
    if version_id is None:  # the node and its newest readable version in one query
        node, newest = walk_to_current(ctx.db, actor, bucket.root, key)
    else:
        node, newest = walk(ctx.db, bucket.root, key), None
    if node is not None and node.is_folder == key.endswith("/"):
        require(ctx.db, actor, Action.READ, node)
        if node.is_folder:
            return S3Object(key, node, None)
        if version_id is None:
            if newest is None:
                raise NotFound()
            require_not_quarantined(newest)
            return S3Object(key, node, newest)
        try:
            return S3Object(key, node, readable_version(ctx.db, actor, node, version_id))
        except NotFound:
            pass
    node, version = markers.find_in_trash(ctx, actor, bucket, key, version_id)
    return S3Object(key, node, version)


def list_objects(
    ctx: Context, actor: Actor, bucket: Bucket, prefix: str = "", delimiter: str = ""
) -> list[S3Object]:
    """Return what the person sees under a prefix, keys in byte-wise UTF-8 order.

    With delimiter '/' only the level of the prefix is loaded; its folders come back as keys
    ending in '/' for the caller to roll up into common prefixes.
    """
    prefix = unicodedata.normalize("NFC", prefix)  # keys are held in NFC; see docs/s3.md
    directory = prefix.rpartition("/")[0]
    base = walk(ctx.db, bucket.root, directory)
    if base is None or not base.is_folder:
        return []
    base_key = f"{directory}/" if directory else ""
    rows = _load(ctx, actor, base, children_only=delimiter == "/")
    objects = _as_objects(bucket, base, base_key, rows, children_only=delimiter == "/")
    chosen = [o for o in objects if o.key.startswith(prefix)]
    return sorted(chosen, key=lambda o: o.key.encode("utf-8"))


def list_versions(ctx: Context, actor: Actor, nodes: list[Node]) -> dict[int, list[Version]]:
    """Return, per file, the versions the person may see, newest first."""
    result: dict[int, list[Version]] = {node.id: [] for node in nodes}
    ids = list(result)
    for start in range(0, len(ids), 500):
        query = (
            select(Version)
            .where(Version.node_id.in_(ids[start : start + 500]), readable_by(actor))
            .order_by(Version.node_id, Version.number.desc())
        )
        for version in ctx.db.scalars(query):
            result[version.node_id].append(version)
    return result


def list_object_versions(
    ctx: Context, actor: Actor, bucket: Bucket, prefix: str = "", delimiter: str = ""
) -> list[VersionEntry]:
    """Return the versions, folders and delete markers the person sees under a prefix: keys in
    byte-wise UTF-8 order; within a key newest first (the live file, then the trashed ones by
    time of deletion, each marker before its file's versions)."""
    objects = list_objects(ctx, actor, bucket, prefix, delimiter)
    trashed = markers.trashed_under(ctx, bucket, prefix)
    history = list_versions(
        ctx, actor, [o.node for o in objects if not o.is_folder] + [m.node for m in trashed]
    )
    rows = []
    for obj in objects:
        versions = [None] if obj.is_folder else history[obj.node.id]
        rows += [
            ((obj.key.encode(), 0, 0), VersionEntry(obj.key, obj.node, v, None, i == 0))
            for i, v in enumerate(versions)
        ]
    topped = {o.key for o in objects}
    newest_first = sorted(trashed, key=lambda m: (m.deleted_at, m.node.id), reverse=True)
    for age, marker in enumerate(newest_first):
        versions = history[marker.node.id]
        if not versions:
            continue  # nothing of this file was ever theirs to see
        rank = (marker.key.encode(), 1, age)
        rows.append(
            (rank, VersionEntry(marker.key, marker.node, None, marker, marker.key not in topped))
        )
        rows += [(rank, VersionEntry(marker.key, marker.node, v, None, False)) for v in versions]
        topped.add(marker.key)
    rows.sort(key=lambda row: row[0])  # stable: each file's rows keep their order
    return [entry for _, entry in rows]


def _load(ctx: Context, actor: Actor, base: Node, children_only: bool):
    """Return (node, version) of the live nodes below base that the actor may see, each file
    with the newest version they may read (files with none left out), in one query of
    columns: what a listing shows, none of the ORM's objects."""
    scope = "children" if children_only else "below"
    query = _LISTING[scope, reader_kind(actor)]
    params = reader_params(actor, base=base.id if children_only else base.child_path)
    return [
        (ListedNode(*row[:7]), ListedVersion(*row[7:]) if row[7] is not None else None)
        for row in run(ctx.db, query, params)
    ]


class ListedNode(NamedTuple):
    """The columns of a node a listing needs (as a Node's attributes)."""

    id: int
    parent_id: int | None
    path: str
    kind: str
    name: str
    updated_at: datetime
    created_by: int | None

    @property
    def is_folder(self) -> bool:
        return self.kind == NodeKind.FOLDER

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]  # as Node's


class ListedVersion(NamedTuple):
    """The columns of a version a listing needs (as a Version's attributes)."""

    id: int
    size: int
    etag: str
    uploaded_at: datetime
    uploaded_by: int | None


def _listing(scope: str, readable):
    newest = (
        select(Version.id)
        .where(Version.node_id == Node.id, readable)
        .order_by(Version.number.desc())
        .limit(1)
        .correlate(Node)
        .scalar_subquery()
    )
    where = (
        Node.parent_id == bindparam("base")
        if scope == "children"
        else Node.path.startswith(bindparam("base"))
    )
    columns = [getattr(Node, f) for f in ListedNode._fields]
    columns += [getattr(Version, f) for f in ListedVersion._fields]
    return (
        select(*columns)
        .select_from(Node)
        .outerjoin(Version, Version.id == newest)
        .where(
            where,
            Node.deleted_at.is_(None),
            or_(Node.kind == NodeKind.FOLDER, Version.id.is_not(None)),
        )
    )


# Built once: every listing asks one of them (folders, and files with a version the reader
# may read: the scan gate's rule from gshare.access.gate, as lookup.with_versions applies it).
_LISTING = {
    (scope, kind): _listing(scope, readable)
    for scope in ("children", "below")
    for kind, readable in READABLE_BY_KIND.items()
}


def _as_objects(bucket: Bucket, base: Node, base_key: str, rows, children_only: bool):
    keys = {base.id: base_key}
    nodes = sorted((n for n, _ in rows), key=lambda n: len(n.path))
    for node in nodes:  # parents before children: a node whose parent is gone is dropped
        if node.parent_id in keys:
            keys[node.id] = f"{keys[node.parent_id]}{node.name}{'/' if node.is_folder else ''}"
    traverse = bucket.traverse
    has_children = {n.parent_id for n in nodes if n.id in keys}
    objects = []
    for node, version in rows:
        if node.id not in keys or not (bucket.sees(node) or node.id in traverse):
            continue
        if (
            node.is_folder
            and not children_only
            and (node.id in has_children or not bucket.sees(node))
        ):
            continue
        objects.append(S3Object(keys[node.id], node, version))
    return objects
