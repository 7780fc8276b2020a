"""Keeping SQL and the object store in step: fsck finds mismatches, gc cleans up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

import storage
from gshare import trash, uploads
from gshare.models import Version, utcnow
from gshare.tree import node_path

BLOB_PREFIX = "v/"


@dataclass
class FsckReport:
    """What does not match: rows whose blob is gone, blobs no row points to."""

    missing_blobs: list[tuple[Version, str]] = field(default_factory=list)
    orphan_blobs: list[storage.ObjectInfo] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_blobs and not self.orphan_blobs


def fsck(ctx) -> FsckReport:
    """Compare every version row with the blobs in the object store."""
    report = FsckReport()
    known = {key: vid for key, vid in ctx.db.execute(select(Version.blob_key, Version.id))}
    seen = set()
    for blob in ctx.store.list(BLOB_PREFIX):
        if blob.key in known:
            seen.add(blob.key)
        else:
            report.orphan_blobs.append(blob)
    for key in known.keys() - seen:
        version = ctx.db.get(Version, known[key])
        report.missing_blobs.append((version, node_path(ctx.db, version.node)))
    return report


@dataclass
class GcReport:
    orphans_removed: int = 0
    uploads_aborted: int = 0
    trash_purged: int = 0


def gc(ctx, grace: timedelta | None = None) -> GcReport:
    """Remove orphan blobs, upload sessions untouched for the grace period and backend
    uploads nobody tracks, and purge trash kept longer than the retention."""
    grace = timedelta(hours=ctx.config.retention.orphan_grace_hours) if grace is None else grace
    cutoff = utcnow() - grace
    report = GcReport()
    for blob in fsck(ctx).orphan_blobs:
        if blob.last_modified is None or blob.last_modified <= cutoff:
            ctx.store.delete(blob.key)
            report.orphans_removed += 1
    report.uploads_aborted = uploads.expire_uploads(ctx, cutoff)
    in_sessions = uploads.session_upload_ids(ctx.db)
    for upload in ctx.store.list_multipart_uploads(BLOB_PREFIX):
        if upload.upload_id not in in_sessions and (
                upload.initiated is None or upload.initiated <= cutoff):
            ctx.store.abort_multipart(upload.key, upload.upload_id)
            report.uploads_aborted += 1
    report.trash_purged = trash.purge_expired(ctx, trash.retention_cutoff(ctx.config))
    return report
