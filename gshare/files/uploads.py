"""Uploads in parts, resumable: the browser's chunked uploads and S3 multipart uploads.

A session is a row plus a backend multipart upload under the blob key the finished version will
have (`v/<uuid>`): completing it assembles the parts in the store, where they already are, and
adds the version like `content.upload_file` does. Only the person who started a session sees it.
`gshare gc` leaves alone the backend uploads that belong to a session; `expire_uploads` ends
sessions nobody touched for a while.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from antivirus import SNIFF_BYTES, detect_content_type
from gshare.access.gate import readable_by
from gshare.access.permissions import Action, require
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.blobs import new_blob_key, store_errors
from gshare.core.context import Context
from gshare.core.errors import (
    InvalidInput,
    NotFound,
    QuotaExceeded,
    StorageDown,
)
from gshare.core.models import (
    CompletedUpload,
    Node,
    Space,
    UploadPart,
    UploadSession,
    Version,
    utcnow,
)
from gshare.core.names import clean_name
from gshare.files import content
from gshare.files.conditions import WriteCondition, check_condition
from gshare.files.lookup import get_node
from gshare.org import quotas
from gshare.scanning import verdicts

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024**3
MAX_PARTS = 10_000
COMPLETED_KEPT = timedelta(hours=24)  # how long a completed upload's answer is remembered
# A session's updated_at says when a part last came, to this precision (expiry counts days).
TOUCH_EVERY = timedelta(minutes=1)

# A part named for completion: (number, ETag) or (number, ETag, {algorithm: base64 checksum}).
NamedPart = tuple[int, str] | tuple[int, str, dict[str, str]]


def start_upload(
    ctx: Context,
    actor: Actor,
    folder: Node,
    name: str,
    size: int | None = None,
    content_type: str | None = None,
    metadata: dict | None = None,
    checksum_algorithm: str | None = None,
    checksum_type: str | None = None,
) -> UploadSession:
    """Open an upload session for a file in a folder; its parts may come in any order.

    checksum_algorithm and checksum_type are what S3's CreateMultipartUpload asked for (see
    UploadSession); the caller has checked them.
    """
    require(ctx.db, actor, Action.UPLOAD, folder)
    if not folder.is_folder:
        raise NotFound("Files can only be uploaded into a folder.")
    name = clean_name(name)
    if size is not None:
        quotas.check_room(ctx.db.get(Space, folder.space_id), size)
    key = new_blob_key()
    with store_errors(upload=True):
        upload_id = ctx.store.create_multipart(key)
    session = UploadSession(
        token=secrets.token_urlsafe(32),
        user_id=actor.id,
        space_id=folder.space_id,
        folder_id=folder.id,
        name=name,
        size=size,
        content_type=content_type,
        user_metadata=metadata,
        blob_key=key,
        backend_upload_id=upload_id,
        checksum_algorithm=checksum_algorithm,
        checksum_type=checksum_type,
    )
    ctx.db.add(session)
    ctx.db.flush()
    return session


def upload_part(
    ctx: Context,
    actor: Actor,
    token: str,
    number: int,
    stream,
    length: int,
    checksum: Callable[[], tuple[str, str] | None] | None = None,
) -> UploadPart:
    """Store one part (sending a number again replaces that part); return it with its MD5.

    checksum, asked once the stream is read, gives the (algorithm, base64 value) its sender
    declared and the stream verified; the part keeps it for complete_upload's combine.
    """
    session = get_upload(ctx, actor, token)
    _check_part_number(number)
    _check_part_room(ctx, session, number, length)
    with store_errors(upload=True):
        trusted = ctx.store.part_etags_are_md5
        digest = None if trusted else _Md5(stream)
        etag = ctx.store.upload_part(
            session.blob_key, session.backend_upload_id, number, digest or stream, length
        )
    md5 = digest.md5.hexdigest() if digest is not None else _md5_of_etag(ctx, etag)
    declared = checksum() if checksum is not None else None
    checksums = {declared[0]: declared[1]} if declared else None
    return _record_part(ctx, session, number, length, etag, md5, checksums)


def _md5_of_etag(ctx: Context, etag: str) -> str:
    """Take the store's ETag of a part for its MD5 (the part's bytes are not hashed again here:
    1.4 s of CPU per GiB), once the store has shown it answers parts with their MD5. An ETag
    that is not an MD5 after all fails the part (the client sends it again) and the parts after
    it are hashed here."""
    md5 = etag.lower()  # the store's ETag, its quotes already taken off
    if len(md5) == 32 and all(ch in "0123456789abcdef" for ch in md5):
        return md5
    ctx.store.distrust_part_etags()
    raise StorageDown("The file store answered the part in an unexpected way; send it again.")


def copy_part(
    ctx: Context,
    actor: Actor,
    token: str,
    number: int,
    source: Version,
    byte_range: content.ByteRange | None = None,
    checksum=None,
) -> UploadPart:
    """Fill one part, in the store, with a version or the bytes of it byte_range names (all
    inside it); return it with its MD5, like upload_part.

    checksum, for an upload created with a checksum algorithm, is an empty accumulator of it
    (update(bytes), b64digest(), algorithm): the part keeps the checksum of the bytes it got,
    as a part uploaded with one does. The caller has checked that the actor reads source
    (get_node for READ, then gate.readable_version), as for copy_version.
    """
    session = get_upload(ctx, actor, token)
    _check_part_number(number)
    first, last = _copied_range(source.size, byte_range)
    length = last - first + 1
    _check_part_room(ctx, session, number, length)
    copied = None if byte_range is None else (first, last)
    with store_errors(upload=True):
        etag = ctx.store.upload_part_copy(
            session.blob_key, session.backend_upload_id, number, source.blob_key, copied
        )
    whole = byte_range is None or (first, last) == (0, source.size - 1)
    known = _whole_checksum(source, checksum.algorithm) if checksum and whole else None
    if whole and source.md5 and (checksum is None or known):
        md5 = source.md5
    else:
        md5 = _digest_of(ctx, source, first, last, checksum if known is None else None)
    checksums = {checksum.algorithm: known or checksum.b64digest()} if checksum else None
    audit.record(
        ctx,
        actor,
        "file.copy_part",
        node=source.node,
        version=source,
        range=f"{first}-{last}",
        upload=session.id,
    )
    return _record_part(ctx, session, number, length, etag, md5, checksums)


def list_parts(ctx: Context, actor: Actor, token: str) -> list[UploadPart]:
    """Return the parts uploaded so far, by number."""
    session = get_upload(ctx, actor, token)
    return list(
        ctx.db.scalars(
            select(UploadPart).where(UploadPart.upload_id == session.id).order_by(UploadPart.number)
        )
    )


def complete_upload(
    ctx: Context,
    actor: Actor,
    token: str,
    parts: list[NamedPart] | None = None,
    combine: Callable[[list[UploadPart]], dict | None] | None = None,
    condition: WriteCondition | None = None,
) -> Version:
    """Assemble the parts (all, or those named with their ETags and, if given, checksums)
    into a new file version, remembered for a day (see completed_upload).

    combine, given the chosen parts, returns the version's checksum made from theirs (S3's
    composite and full-object checksums, see Version.checksum), or None. condition is
    checked before the parts are assembled (a refused upload stays, to be completed or
    aborted) and again with the write.
    """
    session = get_upload(ctx, actor, token)
    chosen = _chosen_parts(list_parts(ctx, actor, token), parts)
    checksum = combine(chosen) if combine is not None else None
    total = sum(part.size for part in chosen)
    if session.size is not None and total != session.size:
        raise InvalidInput(f"The parts hold {total:,} bytes, not the {session.size:,} announced.")
    folder = get_node(ctx, actor, session.folder_id, Action.UPLOAD)
    role = require(ctx.db, actor, Action.UPLOAD, folder)
    _, existing = content.upload_target(ctx.db, role, folder, session.name)  # before the store
    check_condition(ctx.db, actor, condition, existing)
    space = ctx.db.get(Space, folder.space_id)
    quotas.check_room(space, total)
    with store_errors(upload=True):
        ctx.store.complete_multipart(
            session.blob_key, session.backend_upload_id, [(p.number, p.etag) for p in chosen]
        )
    ctx.delete_blob_after_rollback(session.blob_key)
    name, existing = content.claim_name(ctx, role, folder, session.name)
    check_condition(ctx.db, actor, condition, existing)
    quotas.charge(ctx.db, space, total)
    node = existing or content.add_file_node(ctx.db, actor, folder, name)
    version = content.add_version(
        ctx.db,
        node,
        actor,
        key=session.blob_key,
        size=total,
        sha256=None,
        md5=None,
        etag=multipart_etag([p.md5 for p in chosen]),
        user_metadata=session.user_metadata,
        checksum=checksum,
        content_type=_sniff(ctx, session.blob_key, total),
        client_content_type=session.content_type,
    )
    ctx.db.add(
        CompletedUpload(
            token=session.token,
            user_id=actor.id,
            folder_id=folder.id,
            name=session.name,
            version_id=version.id,
        )
    )
    _forget(ctx.db, session)
    verdicts.judge_new_version(ctx, version, None)
    audit.record(
        ctx, actor, "file.upload", node=node, version=version, size=total, parts=len(chosen)
    )
    return version


def completed_upload(
    ctx: Context, actor: Actor, token: str
) -> tuple[CompletedUpload, Version] | None:
    """Return the actor's upload with this token completed within a day, with the version it
    made, if that version is still there for them (S3 answers a completion sent again with
    the first answer)."""
    done = ctx.db.get(CompletedUpload, token)
    if done is None or done.user_id != actor.id or done.completed_at < utcnow() - COMPLETED_KEPT:
        return None
    version = ctx.db.scalar(
        select(Version).where(Version.id == done.version_id, readable_by(actor))
    )
    return (done, version) if version is not None else None


def forget_completed_uploads(ctx: Context) -> None:
    """Forget the uploads completed more than a day ago."""
    cutoff = utcnow() - COMPLETED_KEPT
    ctx.db.execute(delete(CompletedUpload).where(CompletedUpload.completed_at < cutoff))


def abort_upload(ctx: Context, actor: Actor, token: str) -> None:
    """Drop an upload session and the parts stored for it."""
    session = get_upload(ctx, actor, token)
    _abort_backend(ctx, session)
    _forget(ctx.db, session)


def list_uploads(ctx: Context, actor: Actor, space_id: int | None = None) -> list[UploadSession]:
    """Return the person's unfinished uploads (in one space), oldest first."""
    query = select(UploadSession).where(UploadSession.user_id == actor.id)
    if space_id is not None:
        query = query.where(UploadSession.space_id == space_id)
    return list(ctx.db.scalars(query.order_by(UploadSession.created_at, UploadSession.id)))


def get_upload(ctx: Context, actor: Actor, token: str) -> UploadSession:
    """Return the actor's upload session with this token, else NotFound (asked of the
    database once per unit of work: the S3 endpoint checks a session's bucket and key, then
    the service finds it again)."""
    session = next(
        (
            loaded
            for loaded in ctx.db.identity_map.values()
            if isinstance(loaded, UploadSession) and loaded.token == token
        ),
        None,
    ) or ctx.db.scalar(select(UploadSession).where(UploadSession.token == token))
    if session is None or (not actor.is_operator and session.user_id != actor.id):
        raise NotFound("No such upload; it may have been completed or aborted.")
    return session


def multipart_etag(part_md5s: list[str]) -> str:
    """Return S3's ETag of a multipart object: the MD5 of the parts' MD5s, dash, the count."""
    joined = b"".join(bytes.fromhex(md5) for md5 in part_md5s)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(part_md5s)}"


def session_upload_ids(db) -> set[str]:
    """Return the backend upload ids that belong to sessions (gc must leave them alone)."""
    return set(db.scalars(select(UploadSession.backend_upload_id)))


def expire_uploads(ctx: Context, older_than: datetime) -> int:
    """Abort the sessions not touched since a time; return how many."""
    stale = list(ctx.db.scalars(select(UploadSession).where(UploadSession.updated_at < older_than)))
    for session in stale:
        _abort_backend(ctx, session)
        _forget(ctx.db, session)
    return len(stale)


class _Md5:
    """Pass a stream through while computing its MD5."""

    def __init__(self, raw):
        self.raw, self.md5 = raw, hashlib.md5(usedforsecurity=False)

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.md5.update(data)
        return data


def _check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise InvalidInput(f"Part numbers go from 1 to {MAX_PARTS}.", reason="invalid_part")


def _copied_range(size: int, byte_range: content.ByteRange | None) -> tuple[int, int]:
    """Return the first and last byte a part copies: all inside the source, 5 GiB at most."""
    first, last = content.resolve_range(byte_range, size, clip=False)
    if last - first + 1 > MAX_PART_SIZE:
        raise InvalidInput("A part holds at most 5 GiB: copy the source a range at a time.")
    return first, last


def _digest_of(ctx: Context, source: Version, first: int, last: int, checksum=None) -> str:
    """Return the MD5 of a version's bytes first..last, read from the store (a store's ETag
    of a copied part need not be their MD5: SeaweedFS's is not), feeding checksum too."""
    md5 = hashlib.md5(usedforsecurity=False)
    if last >= first:
        with store_errors(), ctx.store.get(source.blob_key, first, last) as stream:
            for chunk in stream:
                md5.update(chunk)
                if checksum is not None:
                    checksum.update(chunk)
    return md5.hexdigest()


def _whole_checksum(source: Version, algorithm: str) -> str | None:
    """Return the version's own checksum of its whole bytes in this algorithm, if it has one."""
    kept = source.checksum or {}
    if kept.get("algorithm") == algorithm and kept.get("type") == "FULL_OBJECT":
        return kept.get("value")
    return None


def _record_part(
    ctx: Context,
    session: UploadSession,
    number: int,
    size: int,
    etag: str,
    md5: str,
    checksums: dict | None,
) -> UploadPart:
    part = ctx.db.get(UploadPart, (session.id, number)) or UploadPart(
        upload_id=session.id, number=number
    )
    part.size, part.etag, part.md5, part.checksums = size, etag, md5, checksums
    part.created_at = now = utcnow()
    if now - session.updated_at >= TOUCH_EVERY:  # a statement less for most parts
        session.updated_at = now
    ctx.db.add(part)
    ctx.db.flush()
    return part


def _check_part_room(ctx: Context, session: UploadSession, number: int, length: int) -> None:
    space = ctx.db.get(Space, session.space_id)
    left = quotas.room_left(space)
    others = ctx.db.scalar(
        select(func.coalesce(func.sum(UploadPart.size), 0)).where(
            UploadPart.upload_id == session.id, UploadPart.number != number
        )
    )
    if left is not None and others + length > left:
        raise QuotaExceeded(
            f"The space '{space.name}' has {left:,} bytes left; this upload "
            f"needs {others + length:,} so far."
        )


def _chosen_parts(stored: list[UploadPart], wanted: list[NamedPart] | None):
    if wanted is None:  # all the parts stored: they must run 1, 2, 3... with no gap
        chosen = stored
        missing = next((n for n, p in enumerate(chosen, 1) if p.number != n), None)
        if missing is not None:
            raise InvalidInput(
                f"Part {missing} is missing; send it, then complete the upload.",
                reason="missing_part",
            )
    else:
        by_number = {part.number: part for part in stored}
        numbers = [named[0] for named in wanted]
        if numbers != sorted(set(numbers)):
            raise InvalidInput(
                "List the parts once each, in ascending order.", reason="invalid_part_order"
            )
        chosen = [_matching(by_number, *named) for named in wanted]
    if not chosen:
        raise InvalidInput("An upload needs at least one part.", reason="invalid_part")
    if any(part.size < MIN_PART_SIZE for part in chosen[:-1]):
        raise InvalidInput("Every part but the last needs at least 5 MiB.", reason="part_too_small")
    return chosen


def _matching(
    by_number: dict[int, UploadPart],
    number: int,
    etag: str,
    checksums: dict[str, str] | None = None,
) -> UploadPart:
    part = by_number.get(number)
    if part is None or etag.strip().strip('"') not in (part.md5, part.etag):
        raise InvalidInput(
            f"Part {number} was not uploaded or has another ETag.", reason="invalid_part"
        )
    kept = part.checksums or {}
    if any(kept.get(algorithm) != value for algorithm, value in (checksums or {}).items()):
        raise InvalidInput(
            f"Part {number} was uploaded with another checksum.", reason="invalid_part"
        )
    return part


def _sniff(ctx: Context, key: str, size: int) -> str:
    if not size:
        return detect_content_type(b"")
    with store_errors(), ctx.store.get(key, 0, min(size, SNIFF_BYTES) - 1) as stream:
        return detect_content_type(b"".join(stream))


def _abort_backend(ctx: Context, session: UploadSession) -> None:
    with contextlib.suppress(NotFound), store_errors():  # gone already: nothing to abort
        ctx.store.abort_multipart(session.blob_key, session.backend_upload_id)


def _forget(db, session: UploadSession) -> None:
    db.execute(delete(UploadPart).where(UploadPart.upload_id == session.id))
    db.delete(session)
    db.flush()
