"""Keeping SQL and the object store in step: fsck finds mismatches, gc cleans up.

fsck walks two lists side by side, both in byte order of the key: the version rows' blob keys,
streamed from the database, and the object store's listing, fetched page by page. Its memory
stays flat whatever the number of versions; only what it reports is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from gshare.accounts import login, sessions
from gshare.core.blobs import (
    BLOB_PREFIX,
    THUMBNAIL_PREFIX,
    blob_key_of_thumbnail,
    store_errors,
)
from gshare.core.context import Context
from gshare.core.db import lock_until_commit
from gshare.core.models import Version, utcnow
from gshare.core.paths import node_path
from gshare.files import trash, uploads
from gshare.sharing import link_passwords

MAINTENANCE_LOCK = "maintenance"
ROWS_PER_FETCH = 10_000
# Collations that compare keys byte by byte (UTF-8 bytes, as S3 orders a listing; Python's str
# order is the same). PostgreSQL's default collation usually is not: 'a-b' > 'a_B' in en_US.
BYTE_ORDER = {"postgresql": "C", "sqlite": "BINARY"}


class KeysOutOfOrder(RuntimeError):
    """The database returned blob keys out of byte order; fsck stops rather than guess."""


@dataclass
class FsckReport:
    """What does not match: rows whose blob is gone, blobs no row points to."""

    missing_blobs: list[tuple[Version, str]] = field(default_factory=list)
    orphan_blobs: list[storage.ObjectInfo] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_blobs and not self.orphan_blobs


def fsck(ctx: Context) -> FsckReport:
    """Compare every version row with the blobs in the object store (one fsck or gc at a time,
    whatever the node: see lock_until_commit)."""
    lock_until_commit(ctx.db, MAINTENANCE_LOCK)
    report = FsckReport()
    unmatched: dict[str, int] = {}  # rows the walk passed by: missing unless listed later
    rows = _rows_by_key(ctx.db)
    row = next(rows, None)
    highest = None
    with store_errors():
        for blob in ctx.store.list(BLOB_PREFIX):
            if highest is not None and blob.key <= highest:
                if not _listed_late(ctx.db, unmatched, blob.key):
                    report.orphan_blobs.append(blob)
                continue
            highest = blob.key
            while row is not None and row[0] < blob.key:
                unmatched[row[0]] = row[1]
                row = next(rows, None)
            if row is not None and row[0] == blob.key:
                row = next(rows, None)
            else:
                report.orphan_blobs.append(blob)
    if row is not None:
        unmatched[row[0]] = row[1]
    unmatched.update(rows)
    report.missing_blobs = _describe(ctx.db, list(unmatched.values()))
    report.orphan_blobs.extend(_orphan_thumbnails(ctx))
    return report


def _orphan_thumbnails(ctx: Context) -> Iterator[storage.ObjectInfo]:
    """Yield the thumbnails (t/...) whose version is gone, looked up a page at a time; a
    thumbnail missing from the store is not reported: the next request makes it again."""
    page: list[storage.ObjectInfo] = []
    with store_errors():
        for blob in ctx.store.list(THUMBNAIL_PREFIX):
            page.append(blob)
            if len(page) == 1000:
                yield from _without_version(ctx.db, page)
                page = []
    yield from _without_version(ctx.db, page)


def _without_version(db: Session, thumbnails: list[storage.ObjectInfo]):
    keys = {blob_key_of_thumbnail(t.key) for t in thumbnails}
    found = set(db.scalars(select(Version.blob_key).where(Version.blob_key.in_(keys))))
    return [t for t in thumbnails if blob_key_of_thumbnail(t.key) not in found]


def _rows_by_key(db: Session) -> Iterator[tuple[str, int]]:
    """Yield every version's (blob key, id) in byte order of the key, streamed."""
    collation = BYTE_ORDER.get(db.get_bind().dialect.name)
    key = Version.blob_key.collate(collation) if collation else Version.blob_key
    query = select(Version.blob_key, Version.id).order_by(key)
    previous = None
    with db.execute(query, execution_options={"yield_per": ROWS_PER_FETCH}) as result:
        for blob_key, version_id in result:
            if previous is not None and blob_key <= previous:
                raise KeysOutOfOrder(f"the database sorted {blob_key!r} after {previous!r}")
            previous = blob_key
            yield blob_key, version_id


def _listed_late(db: Session, unmatched: dict[str, int], key: str) -> bool:
    """Tell whether a key the store listed out of byte order has a row. SeaweedFS, for one,
    lists the keys under 'v/a/' right after 'v/a', before 'v/a-b'; the walk has passed such
    a key's row by then, into `unmatched` (the lookup is for a key listed twice)."""
    if unmatched.pop(key, None) is not None:
        return True
    return db.scalar(select(Version.id).where(Version.blob_key == key)) is not None


def _describe(db: Session, version_ids: list[int]) -> list[tuple[Version, str]]:
    """Return the versions with the given ids, in that order, each with its file's path."""
    described: list[tuple[Version, str]] = []
    for start in range(0, len(version_ids), 1000):
        chunk = version_ids[start : start + 1000]
        versions = {v.id: v for v in db.scalars(select(Version).where(Version.id.in_(chunk)))}
        described.extend((versions[i], node_path(db, versions[i].node)) for i in chunk)
    return described


@dataclass
class GcReport:
    orphans_removed: int = 0
    uploads_aborted: int = 0
    trash_purged: int = 0
    rows_forgotten: int = 0  # ended sessions, quiet sign-in and link password counts


def gc(ctx: Context, grace: timedelta | None = None) -> GcReport:
    """Remove orphan blobs, upload sessions untouched for the grace period and backend
    uploads nobody tracks, and purge trash kept longer than the retention. One gc or fsck runs
    at a time: a second waits, then finds the work done (quota is given back once)."""
    lock_until_commit(ctx.db, MAINTENANCE_LOCK)
    grace = timedelta(hours=ctx.config.retention.orphan_grace_hours) if grace is None else grace
    cutoff = utcnow() - grace
    report = GcReport()
    with store_errors():
        for blob in fsck(ctx).orphan_blobs:
            if blob.last_modified is None or blob.last_modified <= cutoff:
                ctx.store.delete(blob.key)
                report.orphans_removed += 1
    report.uploads_aborted = uploads.expire_uploads(ctx, cutoff)
    uploads.forget_completed_uploads(ctx)
    in_sessions = uploads.session_upload_ids(ctx.db)
    with store_errors():
        for upload in ctx.store.list_multipart_uploads(BLOB_PREFIX):
            if upload.upload_id not in in_sessions and (
                upload.initiated is None or upload.initiated <= cutoff
            ):
                ctx.store.abort_multipart(upload.key, upload.upload_id)
                report.uploads_aborted += 1
    report.trash_purged = trash.purge_expired(ctx, trash.retention_cutoff(ctx.config))
    report.rows_forgotten = _forget_old_rows(ctx, utcnow())
    return report


def _forget_old_rows(ctx: Context, now: datetime) -> int:
    """Delete the rows kept only for a while: ended sessions, quiet throttle counts."""
    return (
        sessions.forget_ended_sessions(ctx, now)
        + login.forget_quiet_failures(ctx, now)
        + link_passwords.forget_quiet_throttles(ctx, now)
    )
