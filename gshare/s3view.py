"""What one person sees of gshare in S3's shape: spaces as buckets, paths as keys.

A person sees a whole space when they hold a role that lists its top folder. Otherwise they see
only the parts shared with them, and the folders above those parts just as a way in ("traverse"):
their names, nothing else in them. Folders are implicit in S3: a folder shows as the prefix of
what is in it, and an empty folder as a zero-byte key ending in '/'.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_, select

from gshare import sharing
from gshare.errors import NameInvalid, NotFound
from gshare.files import readable_version
from gshare.models import Node, Space, SpaceKind, User, UserRole, Version
from gshare.names import clean_name
from gshare.permissions import Action, Role, effective_role, require
from gshare.spaces import root_of
from gshare.tree import current_version, entries_where, readable_by, walk

SEEING = frozenset({Role.VIEWER, Role.EDITOR, Role.MANAGER})


@dataclass(frozen=True)
class Bucket:
    """A space as one person sees it: all of it, or only what is shared with them."""

    space: Space
    root: Node
    role: Role | None
    shared: frozenset[int] = frozenset()  # nodes shared with them with a seeing role
    traverse: frozenset[int] = frozenset()  # the folders above those: ways in, nothing more

    @property
    def whole(self) -> bool:
        return self.role in SEEING

    def sees(self, node: Node) -> bool:
        """Return whether the person sees this node's content (not just passes through it)."""
        return self.whole or bool(self.shared.intersection([*node.ancestor_ids, node.id]))


@dataclass(frozen=True)
class S3Object:
    """A key and what it names: a file with the version this person gets, or a folder."""

    key: str
    node: Node
    version: Version | None

    @property
    def is_folder(self) -> bool:
        return self.version is None


def list_buckets(ctx, actor: User) -> list[Bucket]:
    """Return the spaces the person sees anything of, by name."""
    spaces = ctx.db.scalars(select(Space).where(Space.id.in_(_candidate_spaces(ctx, actor)))
                            .order_by(Space.slug))
    buckets = (_bucket(ctx, actor, space) for space in spaces)
    return [bucket for bucket in buckets if bucket is not None]


def get_bucket(ctx, actor: User, slug: str) -> Bucket:
    """Return the space with this name as the person sees it, else NotFound."""
    space = ctx.db.scalar(select(Space).where(Space.slug == slug))
    bucket = _bucket(ctx, actor, space) if space is not None else None
    if bucket is None:
        raise NotFound(f"No space '{slug}'.")
    return bucket


def find_space(ctx, slug: str) -> Bucket:
    """Return the space with this name and its root as a bucket of which nothing is seen yet.

    For object requests: the check on the object's node decides, and a role on any node of a
    space is a role that makes the space a bucket of the person's. When that check fails,
    get_bucket tells a bucket they do not see from a key that is not there. Listings need
    get_bucket: this bucket lists nothing.
    """
    space = ctx.db.scalar(select(Space).where(Space.slug == slug))
    if space is None:
        raise NotFound(f"No space '{slug}'.")
    return Bucket(space, root_of(ctx.db, space), None)


def check_key(key: str) -> list[str]:
    """Return the names along a key, or raise NameInvalid for a key gshare cannot hold."""
    if not key or key.startswith("/"):
        raise NameInvalid("An object key cannot be empty or start with '/'.")
    parts = key.removesuffix("/").split("/")
    return [clean_name(part) for part in parts]


def find_node(ctx, actor: User, bucket: Bucket, key: str, action: Action = Action.READ) -> Node:
    """Return the live file (or, for a key ending in '/', the folder) at a key, else NotFound."""
    node = walk(ctx.db, bucket.root, key)
    if node is None or node.is_folder != key.endswith("/"):
        raise NotFound(f"No object '{key}'.")
    require(ctx.db, actor, action, node)  # walk passed only live folders: nothing is in trash
    if not node.is_folder and action != Action.UPLOAD and (
            current_version(ctx.db, actor, node) is None):
        raise NotFound(f"No object '{key}'.")
    return node


def find_object(ctx, actor: User, bucket: Bucket, key: str,
                version_id: int | None = None) -> S3Object:
    """Return the object at a key with the version the person reads (the newest they may, or
    version_id), else NotFound; Quarantined for a quarantined version."""
    node = walk(ctx.db, bucket.root, key)
    if node is None or node.is_folder != key.endswith("/"):
        raise NotFound(f"No object '{key}'.")
    require(ctx.db, actor, Action.READ, node)
    if node.is_folder:
        return S3Object(key, node, None)
    return S3Object(key, node, readable_version(ctx.db, actor, node, version_id))


def list_objects(ctx, actor: User, bucket: Bucket, prefix: str = "",
                 delimiter: str = "") -> list[S3Object]:
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
    rows = _load(ctx.db, actor, base, children_only=delimiter == "/")
    objects = _as_objects(bucket, base, base_key, rows, children_only=delimiter == "/")
    chosen = [o for o in objects if o.key.startswith(prefix)]
    return sorted(chosen, key=lambda o: o.key.encode("utf-8"))


def list_versions(ctx, actor: User, nodes: list[Node]) -> dict[int, list[Version]]:
    """Return, per file, the versions the person may see, newest first."""
    result: dict[int, list[Version]] = {node.id: [] for node in nodes}
    ids = list(result)
    for start in range(0, len(ids), 500):
        query = (select(Version).where(Version.node_id.in_(ids[start:start + 500]),
                                       readable_by(actor))
                 .order_by(Version.node_id, Version.number.desc()))
        for version in ctx.db.scalars(query):
            result[version.node_id].append(version)
    return result


def _candidate_spaces(ctx, actor: User) -> set[int]:
    db = ctx.db
    ids = set(db.scalars(select(Space.id).where(or_(
        Space.owner_id == actor.id, Space.department_id == actor.department_id))))
    if actor.role == UserRole.DEPARTMENT_ADMIN:
        ids.update(db.scalars(select(Space.id).where(Space.kind == SpaceKind.DEPARTMENT)))
    ids.update(node.space_id for node, _ in sharing.shared_with(ctx, actor))
    return ids


def _bucket(ctx, actor: User, space: Space) -> Bucket | None:
    root = root_of(ctx.db, space)
    role = effective_role(ctx.db, actor, root)
    if role in SEEING:
        return Bucket(space, root, role)
    shared = [(n, g) for n, g in sharing.shared_with(ctx, actor) if n.space_id == space.id]
    seeing = frozenset(n.id for n, g in shared if g.role in SEEING)
    if role is None and not shared:
        return None
    ancestors = frozenset(i for n, g in shared if g.role in SEEING for i in n.ancestor_ids)
    return Bucket(space, root, role, seeing, ancestors)


def _load(db, actor, base: Node, children_only: bool) -> list[tuple[Node, Version | None]]:
    scope = (Node.parent_id == base.id) if children_only else Node.path.startswith(
        base.child_path)
    return [(entry.node, entry.version) for entry in entries_where(db, actor, scope)]


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
        if node.is_folder and not children_only and (
                node.id in has_children or not bucket.sees(node)):
            continue
        objects.append(S3Object(keys[node.id], node, version))
    return objects
