"""Changing gshare in S3's shape: put, copy and delete objects, create and delete buckets.

Every function goes through the services and their checks: an object written here is a file
version like any other, scanned and gated like any other.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from gshare.access.gate import current_version, readable_by
from gshare.access.permissions import Action, require
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.context import Context
from gshare.core.errors import Conflict, InvalidInput, NotFound
from gshare.core.models import Node, Space, User, Version
from gshare.core.paths import key_path
from gshare.files import content, folders, trash
from gshare.files.conditions import WriteCondition, check_condition
from gshare.org import quotas, spaces
from gshare.s3 import markers
from gshare.s3.metadata import ObjectMetadata
from gshare.s3.view import Bucket, check_key, find_node, walk


def prepare_folder(ctx: Context, actor: Actor, bucket: Bucket, key: str) -> Node:
    """Return the folder a key's file goes into ('x/' names the folder), made if needed."""
    check_key(key)
    directory = key if key.endswith("/") else key.rpartition("/")[0]
    existing = walk(ctx.db, bucket.root, directory)
    if existing is not None and existing.is_folder:
        return existing
    return folders.ensure_folders(ctx, actor, bucket.root, directory)


class FolderMissing(Exception):
    """The folder a key's file goes into is still to be made: make it with prepare_folder in a
    unit of work of its own (parallel uploads race to make it), then ask again. Nothing was
    read or written."""


def find_folder(ctx: Context, bucket: Bucket, key: str) -> Node:
    """Return the live folder a key's file goes into, else raise FolderMissing."""
    check_key(key)
    existing = walk(ctx.db, bucket.root, key.rpartition("/")[0])
    if existing is None or not existing.is_folder:
        raise FolderMissing(key)
    return existing


def put_object(
    ctx: Context,
    actor: Actor,
    bucket: Bucket,
    key: str,
    stream,
    size: int | None,
    metadata: ObjectMetadata | None = None,
    checksum=None,
    condition: WriteCondition | None = None,
) -> Version:
    """Store a file at a key; FolderMissing (before a byte is read) when its folder is still
    to be made. upload_file checks the role and the condition. Its ETag is the MD5 of its
    bytes, as S3 clients expect; the checksum its client declared (see upload_file) is kept
    for GetObject, and so are its Content-Type and metadata."""
    folder = find_folder(ctx, bucket, key)
    directory, _, name = key.rpartition("/")
    return content.upload_file(
        ctx,
        actor,
        folder,
        name,
        stream,
        size,
        metadata=metadata.headers if metadata else None,
        checksum=checksum,
        condition=condition,
        client_content_type=metadata.content_type if metadata else None,
        folder_path=key_path(bucket.space.slug, directory),
    )


def copy_object(
    ctx: Context,
    actor: Actor,
    source: Version,
    bucket: Bucket,
    key: str,
    metadata: ObjectMetadata | None,
    condition: WriteCondition | None = None,
) -> Version:
    """Copy a readable version to a key; metadata None keeps the source's (S3's COPY), else
    replaces it (REPLACE); FolderMissing when the key's folder is still to be made.

    Onto its own key, an older version is copied as a new version (how S3 clients restore
    one); the current version is refused without REPLACE, as S3 refuses it, and with REPLACE
    gets its metadata changed in place: no byte is copied and no version added (how rclone
    sets a file's modification time), its bytes and scan verdict being the same.
    """
    folder = find_folder(ctx, bucket, key)
    role = require(ctx.db, actor, Action.UPLOAD, folder)
    name, existing = content.claim_name(ctx, role, folder, check_key(key)[-1])
    check_condition(ctx.db, actor, condition, existing)
    if existing is not None and existing.id == source.node_id:
        current = current_version(ctx.db, actor, existing)
        if current is not None and current.id == source.id:
            return _replace_metadata(ctx, actor, existing, source, metadata)
    node = existing or content.add_file_node(ctx.db, actor, folder, name)
    version = content.copy_version(ctx, actor, source, node)
    version.etag = source.etag
    if metadata is not None:
        version.user_metadata = metadata.headers or None
        version.client_content_type = metadata.content_type
    ctx.db.flush()
    audit.record(ctx, actor, "node.copy", node=node, version=version, source_id=source.node_id)
    return version


def _replace_metadata(
    ctx: Context, actor: Actor, node: Node, version: Version, metadata: ObjectMetadata | None
) -> Version:
    """Change the metadata of a file's current version in place (a copy onto itself)."""
    if metadata is None:
        raise InvalidInput(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
            reason="copy_to_itself",
        )
    require(ctx.db, actor, Action.EDIT, node)
    version.user_metadata = metadata.headers or None
    version.client_content_type = metadata.content_type
    ctx.db.flush()
    audit.record(ctx, actor, "file.metadata", node=node, version=version)
    return version


def delete_object(
    ctx: Context,
    actor: Actor,
    bucket: Bucket,
    key: str,
    condition: WriteCondition | None = None,
) -> bool:
    """Move the file at a key to the trash; a folder only when empty. Tell whether it existed.

    With a condition (If-Match), the file must be there and match it, checked in the
    writers' turn on its name.
    """
    try:
        node = find_node(ctx, actor, bucket, key, Action.SEE)
    except NotFound:
        if condition is not None:
            raise
        return False
    if condition is not None and node.parent_id is not None:
        content.take_name_turn(ctx, node.parent_id, node.name)
        ctx.db.refresh(node)
        check_condition(ctx.db, actor, condition, None if node.deleted_at else node)
    if node.is_folder and (node.parent_id is None or _has_live_children(ctx.db, node)):
        return True  # deleting a folder marker in S3 never deletes what is below it
    trash.delete_node(ctx, actor, node.id)
    return True


def delete_version(ctx: Context, actor: Actor, bucket: Bucket, key: str, version_id: int) -> bool:
    """Delete one version of a file at a key for good, the file live or in the trash.

    A file left with no version at all is purged, live or in the trash: in S3 a version
    deleted by id is gone, and a file with nothing in it is nothing anyone could see, restore
    or delete (it would keep its space from being deleted). Its audit log says so.
    """
    files_here = {node.id: node for node in markers.files_at(ctx.db, bucket.root, key)}
    version = ctx.db.scalar(
        select(Version).where(
            Version.id == version_id, Version.node_id.in_(files_here), readable_by(actor)
        )
    )
    if version is None:
        return False
    node = files_here[version.node_id]
    require(ctx.db, actor, Action.EDIT, node)
    audit.record(
        ctx, actor, "file.delete_version", node=node, version=version, number=version.number
    )
    quotas.refund(ctx.db, node.space_id, version.size)
    ctx.db.execute(delete(Version).where(Version.id == version.id))
    ctx.delete_blob_after_commit(version.blob_key)
    ctx.db.expire_all()
    if ctx.db.scalar(select(Version.id).where(Version.node_id == node.id).limit(1)) is None:
        trash.purge(ctx, actor, node)  # checked for EDIT above
    return True


def create_bucket(ctx: Context, actor: User, slug: str) -> Space:
    """Create a project space of the person's own, named like an S3 bucket."""
    spaces.check_slug(slug)
    taken = ctx.db.scalar(select(Space).where(Space.slug == slug))
    if taken is not None:
        raise Conflict(f"The space name '{slug}' is already taken.", space_id=taken.id)
    return spaces.create_project_space(ctx, actor, slug, slug)


def delete_bucket(ctx: Context, actor: Actor, bucket: Bucket) -> None:
    """Delete an empty project space the person manages (nothing in it, nothing in its trash)."""
    spaces.delete_project_space(ctx, actor, bucket.space)


def _has_live_children(db, folder: Node) -> bool:
    return (
        db.scalar(
            select(Node.id).where(Node.parent_id == folder.id, Node.deleted_at.is_(None)).limit(1)
        )
        is not None
    )
