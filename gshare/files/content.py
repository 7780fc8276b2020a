"""Files and their versions: upload (streamed), download (streamed, ranges), history.

Bytes go to the object store under a fresh opaque key first; the version row is added after the
blob is complete, so nothing half-written is ever visible. A blob whose row is never committed
is deleted on rollback, or found by `gshare fsck` after a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

import storage
from antivirus import SNIFF_BYTES, detect_content_type
from gshare.access.gate import (
    readable_by,
    readable_version,
    require_not_quarantined,
)
from gshare.access.permissions import Action, Role, require, role_allows
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.blobs import new_blob_key, store_errors
from gshare.core.context import Context
from gshare.core.db import insert_loaded, run, take_turn
from gshare.core.errors import (
    NameTaken,
    NotFound,
    QuotaExceeded,
    RangeNotSatisfiable,
)
from gshare.core.models import Node, NodeKind, ScanState, Space, SpaceKind, Version, utcnow
from gshare.core.names import clean_name, numbered, search_key
from gshare.core.paths import child_named, node_path
from gshare.files.conditions import WriteCondition, check_condition
from gshare.files.lookup import get_node
from gshare.org import quotas
from gshare.scanning import verdicts
from gshare.scanning.policy import policy_violation

ACCESS_RESOLUTION = timedelta(hours=1)
# upload_file checks a name before reading a body larger than this (see there).
CHECK_NAME_FIRST_ABOVE = 1024 * 1024
# Bytes asked for, as a slice: (start, stop), stop exclusive or None for "to the end"; a negative
# start asks for the last -start bytes. werkzeug's parse_range_header gives just this.
ByteRange = tuple[int, int | None]


class Meter:
    """Wrap an input stream: count, hash and sniff its bytes, enforce a limit, feed observers."""

    def __init__(
        self, raw, limit: int | None = None, observers: Iterable[Callable[[bytes], None]] = ()
    ):
        self.raw, self.limit, self.observers = raw, limit, list(observers)
        self.size, self.head = 0, b""
        self.sha256, self.md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if not data:
            return b""
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise QuotaExceeded(
                f"The upload went over the space's quota ({self.limit:,} bytes "
                "left); nothing was saved."
            )
        self.sha256.update(data)
        self.md5.update(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[: SNIFF_BYTES - len(self.head)]
        for observe in self.observers:
            observe(data)
        return data


def upload_file(
    ctx: Context,
    actor: Actor,
    folder: Node,
    name: str,
    stream,
    size: int | None = None,
    metadata: dict | None = None,
    observers=(),
    checksum: Callable[[], tuple[str, str] | None] | None = None,
    condition: WriteCondition | None = None,
    client_content_type: str | None = None,
    folder_path: str | None = None,
) -> Version:
    """Store a file in a folder: a new file, or a new version when the name exists.

    checksum, asked once the stream is read to its end, gives the (algorithm, base64 value)
    its sender declared and the stream verified; the version keeps it. condition is checked
    before a byte is stored and again, atomically, with the write (see conditions.py).
    folder_path is the folder's node_path, where the caller knows it (an S3 key does).

    The name is checked before the bytes are read when that can spare reading many of them (a
    body of unknown or large size) or a condition asks it; a small body is checked once, with
    the writes, a refusal then deleting the bytes just stored.
    """
    role = require(ctx.db, actor, Action.UPLOAD, folder)
    name = clean_name(name)
    _require_folder(folder)
    if condition is not None or size is None or size > CHECK_NAME_FIRST_ABOVE:
        name, existing = upload_target(ctx.db, role, folder, name)
        check_condition(ctx.db, actor, condition, existing)
    space = ctx.db.get(Space, folder.space_id)
    if size is not None:
        quotas.check_room(space, size)
    inline = verdicts.InlineScan.start(ctx, size)
    try:
        key, meter = _store_blob(
            ctx,
            stream,
            size,
            quotas.room_left(space),
            [*observers, *([inline.feed] if inline else [])],
        )
    except BaseException:
        if inline:
            inline.abort()
        raise
    ctx.delete_blob_after_rollback(key)
    if inline:
        inline.finish()  # clamd's verdict before the first write
    content_type = detect_content_type(meter.head)
    # The writes come last and together, each writer of this name in its turn.
    name, existing = claim_name(ctx, role, folder, name)
    check_condition(ctx.db, actor, condition, existing)
    target = f"{folder_path or node_path(ctx.db, folder)}/{name}"
    node = existing or add_file_node(ctx.db, actor, folder, name, flush=False)
    version = add_version(
        ctx.db,
        node,
        actor,
        None if existing else 1,
        flush=False,
        key=key,
        size=meter.size,
        sha256=meter.sha256.hexdigest(),
        md5=meter.md5.hexdigest(),
        etag=meter.md5.hexdigest(),
        content_type=content_type,
        client_content_type=client_content_type,
        user_metadata=metadata,
        checksum=full_object_checksum(checksum),
    )
    with ctx.db.no_autoflush:  # the verdict goes in the version's INSERT, not an UPDATE after it
        verdicts.judge_new_version(ctx, version, inline)
        _write_new(ctx.db, node, version)
    audit.write(
        ctx, actor, "file.upload", node=node, version=version, target=target, size=meter.size
    )
    quotas.charge(ctx.db, space, meter.size)  # last: PostgreSQL locks the space's row for it
    return version


@dataclass
class Download:
    """An open download: what it is, which bytes, and the stream of them (close it)."""

    node: Node
    version: Version
    start: int
    end: int
    stream: storage.ObjectStream | None

    @property
    def length(self) -> int:
        return self.end - self.start + 1 if self.version.size else 0

    @property
    def partial(self) -> bool:
        return self.length != self.version.size


def open_download(
    ctx: Context,
    actor: Actor,
    node_id: int,
    version_id: int | None = None,
    byte_range: ByteRange | None = None,
) -> Download:
    """Open a file (or one of its versions) for reading, all of it or byte_range."""
    node = get_node(ctx, actor, node_id, Action.READ)
    version = readable_version(ctx.db, actor, node, version_id)
    return read_version(ctx, actor, node, version, byte_range)


def read_version(
    ctx: Context,
    actor: Actor,
    node: Node,
    version: Version,
    byte_range: ByteRange | None = None,
    path: str = "",
) -> Download:
    """Open a version the actor was just checked for (get_node READ, then readable_version).

    The audit log gets every read of shared content (a download in parts once, see
    audit.record_download); reading one's own personal space is not sharing anything, so it
    goes unrecorded. path is the node's 'space-slug/folder/file' when the caller knows it.
    """
    download = open_checked(ctx, node, version, byte_range)
    space = ctx.db.get(Space, node.space_id)
    if not (space.kind == SpaceKind.PERSONAL and space.owner_id == actor.id):
        audit.record_download(
            ctx,
            actor,
            node,
            version,
            f"{download.start}-{download.end}" if download.partial else None,
            target=path,
        )
    return download


def list_versions(ctx: Context, actor: Actor, node_id: int) -> list[Version]:
    """Return the versions of a file the actor may see, newest first."""
    node = get_node(ctx, actor, node_id, Action.READ)
    return list(
        ctx.db.scalars(
            select(Version)
            .where(Version.node_id == node.id, readable_by(actor))
            .order_by(Version.number.desc())
        )
    )


def restore_version(ctx: Context, actor: Actor, node_id: int, version_id: int) -> Version:
    """Make an older version the newest again (as a new version; history is kept)."""
    node = get_node(ctx, actor, node_id, Action.EDIT)
    old = readable_version(ctx.db, actor, node, version_id)
    version = copy_version(ctx, actor, old, node)
    audit.record(
        ctx, actor, "file.restore_version", node=node, version=version, from_version=old.number
    )
    return version


def copy_version(ctx: Context, actor: Actor, source: Version, node: Node) -> Version:
    """Add to a file node a new version with the same bytes as source (server-side copy)."""
    space = ctx.db.get(Space, node.space_id)
    quotas.check_room(space, source.size)
    key = new_blob_key()
    with store_errors():
        ctx.store.copy(source.blob_key, key)
    ctx.delete_blob_after_rollback(key)
    quotas.charge(ctx.db, space, source.size)
    version = add_version(
        ctx.db,
        node,
        actor,
        key=key,
        size=source.size,
        sha256=source.sha256,
        md5=source.md5,
        etag=source.etag,
        content_type=source.content_type,
        client_content_type=source.client_content_type,
        user_metadata=source.user_metadata,
        checksum=source.checksum,
        scan_state=source.scan_state,
        scan_signature=source.scan_signature,
        scan_db_version=source.scan_db_version,
        scan_generation=source.scan_generation,
        scanned_at=source.scanned_at,
        released_by=source.released_by,
        release_reason=source.release_reason,
    )
    _judge_new_name(ctx, version, source)
    return version


def _judge_new_name(ctx: Context, version: Version, source: Version) -> None:
    """Block a copy whose new name the content policy refuses (a clean 'notes.txt' copied to
    'notes.bat' is a script Windows runs), as an upload under that name would be."""
    if version.node.name == source.node.name or source.scan_state == ScanState.BLOCKED:
        return
    reason = policy_violation(ctx.config.antivirus, version.node.name, source.content_type)
    if reason:
        verdicts.record_verdict(ctx, version, ScanState.BLOCKED, reason)


def full_object_checksum(checksum: Callable[[], tuple[str, str] | None] | None) -> dict | None:
    """Return a verified checksum of a whole upload as a version keeps it (Version.checksum)."""
    declared = checksum() if checksum is not None else None
    if declared is None:
        return None
    algorithm, value = declared
    return {"algorithm": algorithm, "type": "FULL_OBJECT", "value": value}


def claim_name(ctx: Context, role: Role, folder: Node, name: str) -> tuple[str, Node | None]:
    """Take this writer's turn on a name in a folder and return (name, existing file) as they
    stand now: writers racing onto one name (parallel PUTs of one key) each add a version in
    turn, the last one the newest, instead of colliding. Call it just before the writes."""
    take_name_turn(ctx, folder.id, name)
    return upload_target(ctx.db, role, folder, name)


def take_name_turn(ctx: Context, folder_id: int, name: str) -> None:
    """Take this writer's turn on a name in a folder, until the commit (see claim_name)."""
    take_turn(ctx.db, f"name {folder_id} {name}")


def upload_target(db, role: Role, folder: Node, name: str) -> tuple[str, Node | None]:
    """Return the name a new file gets in a folder and the file it adds a version to (None:
    a new file); an uploader, who does not see what is there, gets a free name."""
    _require_folder(folder)
    existing = child_named(db, folder, name)
    if existing is not None and existing.kind == NodeKind.FOLDER:
        raise NameTaken(f"A folder named '{name}' already exists here.")
    if existing is not None and not role_allows(role, Action.SEE):
        return free_name(db, folder, name), None
    return name, existing


def _require_folder(folder: Node) -> None:
    if not folder.is_folder:
        raise NotFound("Files can only be uploaded into a folder.")


def free_name(db, folder: Node, name: str) -> str:
    """Return name, or 'name (2)', 'name (3)'... whichever is free in the folder."""
    candidate, n = name, 1
    while child_named(db, folder, candidate) is not None:
        n += 1
        candidate = numbered(name, n)
    return candidate


def _store_blob(ctx: Context, stream, size, limit, observers):
    key = new_blob_key()
    meter = Meter(stream, limit, observers)
    with store_errors(upload=True):
        ctx.store.put(key, meter, length=size)
    return key, meter


def _write_new(db, node: Node, version: Version) -> None:
    """INSERT the node (when new) and the version, each in one Core statement; a verdict that
    quarantined the version has flushed both already (it needs their ids)."""
    if node in db.new:
        insert_loaded(db, node)
        version.node_id = node.id
    if version in db.new:
        insert_loaded(db, version)


def add_file_node(db, actor: Actor, folder: Node, name: str, flush: bool = True) -> Node:
    """Add a file node to a folder (flush False: inserted at the caller's next flush)."""
    node = Node(
        space_id=folder.space_id,
        parent_id=folder.id,
        path=folder.child_path,
        kind=NodeKind.FILE,
        name=name,
        search_name=search_key(name),
        created_by=actor.id,
    )
    db.add(node)
    if flush:
        db.flush()
    return node


def add_version(
    db, node: Node, actor: Actor, number: int | None = None, flush: bool = True, **fields
) -> Version:
    """Add a version to a file node; flush False leaves the INSERT to the caller's next flush
    (an upload gives it its verdict first: one INSERT instead of an INSERT and an UPDATE)."""
    if number is None:  # a node just added passes 1
        now = utcnow()
        number = run(db, _NEXT_NUMBER, {"node": node.id, "now": now}).scalar()
        set_committed_value(node, "updated_at", now)
    version = Version(
        node_id=node.id, number=number, blob_key=fields.pop("key"), uploaded_by=actor.id, **fields
    )
    version.node = node
    db.add(version)
    if flush:
        db.flush()
    return version


# Built once: the node of a new version gets its time, and the version its number, in one
# statement (the name's turn, taken before, keeps two writers from taking the same number).
_NEXT_NUMBER = (
    update(Node)
    .where(Node.id == bindparam("node"))
    .values(updated_at=bindparam("now"))
    .returning(
        select(func.coalesce(func.max(Version.number), 0) + 1)
        .where(Version.node_id == bindparam("node"))
        .scalar_subquery()
    )
)


def resolve_range(requested: ByteRange | None, size: int, clip: bool = True) -> tuple[int, int]:
    """Return the first and last byte (inclusive) that a requested range covers of size bytes.

    None asks for all of them, and so does a suffix longer than the file. A range that starts
    past the end is not satisfiable; one that ends past it is cut at the end when clip, and
    refused otherwise (a copied part must name bytes that exist).
    """
    if requested is None:
        return 0, max(size - 1, 0)
    start, stop = requested
    if start < 0:
        return max(size + start, 0), size - 1
    end = size if stop is None else stop
    if start >= min(end, size):
        raise RangeNotSatisfiable(f"The file has {size:,} bytes; the range starts at {start:,}.")
    if end > size and not clip:
        raise RangeNotSatisfiable(
            f"The file has {size:,} bytes; bytes {start:,}-{end - 1:,} are not all in it."
        )
    return start, min(end, size) - 1


def open_checked(
    ctx: Context, node: Node, version: Version | None, byte_range: ByteRange | None = None
) -> Download:
    """Open a version whose reader the caller has checked already (a public link's token)."""
    if version is None:
        raise NotFound()
    require_not_quarantined(version)
    start, end = resolve_range(byte_range, version.size)
    stream = None
    if version.size:
        with store_errors():
            stream = ctx.store.get(version.blob_key, start, end)
    now = utcnow()
    if now - version.last_accessed_at > ACCESS_RESOLUTION:
        version.last_accessed_at = now  # orders rescans; an hour's precision saves a write a read
    return Download(node, version, start, end, stream)
