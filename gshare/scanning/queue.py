"""The scan queue: workers claim versions from the version table itself, with a lease.

A job is a version that is `pending` (or `error`, once its retry time has come), or a `clean`
version scanned with an older signature database than clamd has now (a rescan, most recently
shared or downloaded first). New uploads always come before rescans. A worker leases its job
for `[antivirus] lease_seconds`; if it dies, the lease runs out and another worker takes the
job. On PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so workers never wait on each other;
on SQLite the claim is a conditional UPDATE, one writer at a time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import CursorResult, func, or_, select, update

import antivirus
from gshare.access.gate import is_quarantined
from gshare.core.blobs import store_errors
from gshare.core.context import Context
from gshare.core.errors import NotFound, StorageDown
from gshare.core.models import ScanState, Version, utcnow
from gshare.scanning import verdicts

log = logging.getLogger(__name__)

DUE = (ScanState.PENDING, ScanState.ERROR)


@dataclass(frozen=True)
class Backoff:
    """Wait times: per version after a scanner error, and for the worker while clamd is down."""

    base: float = 5.0
    cap: float = 900.0

    def delay(self, attempts: int) -> float:
        return min(self.base * 2 ** max(attempts - 1, 0), self.cap)


def claim(gs, owner: str, signatures: str | None) -> int | None:
    """Lease the next job to this worker and return its version id (None: nothing to do)."""
    with gs.unit_of_work() as ctx:
        now = utcnow()
        free = or_(Version.scan_lease_until.is_(None), Version.scan_lease_until < now)
        for query in _candidates(free, now, signatures):
            if ctx.db.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            version_id = ctx.db.scalar(query.limit(1))
            if version_id is not None and _lease(ctx, version_id, owner, free, now):
                return version_id
    return None


def _candidates(free, now, signatures):
    yield (
        select(Version.id)
        .where(
            Version.scan_state.in_(DUE),
            free,
            or_(Version.scan_not_before.is_(None), Version.scan_not_before <= now),
        )
        .order_by(Version.uploaded_at, Version.id)
    )
    if signatures is not None:
        yield (
            select(Version.id)
            .where(
                Version.scan_state == ScanState.CLEAN,
                free,
                or_(Version.scan_db_version.is_(None), Version.scan_db_version != signatures),
            )
            .order_by(Version.last_accessed_at.desc().nulls_last(), Version.id.desc())
        )


def _lease(ctx: Context, version_id: int, owner: str, free, now) -> bool:
    until = now + timedelta(seconds=ctx.config.antivirus.lease_seconds)
    result: CursorResult = ctx.db.execute(  # type: ignore[assignment]  # an UPDATE's result
        update(Version)
        .where(Version.id == version_id, free)
        .values(scan_lease_until=until, scan_lease_owner=owner)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def scan_version(gs, version_id: int, owner: str, backoff: Backoff) -> str:
    """Scan one leased version and record the verdict; return what happened, for the log."""
    with gs.unit_of_work() as ctx:
        version = ctx.db.get(Version, version_id)
        blob_key, size = version.blob_key, version.size
        if size > verdicts.max_scan_bytes(ctx.config):
            verdicts.record_unscannable(ctx, version)
            return "unscannable"
    try:
        result, sha256 = _scan_blob(gs, blob_key)
    except antivirus.ScanLimitExceeded:
        return _finish(gs, version_id, owner, lambda ctx, v: verdicts.record_unscannable(ctx, v))
    except antivirus.ScannerUnavailable:
        return _finish(gs, version_id, owner, lambda ctx, v: _release(v))
    except (antivirus.ScannerError, StorageDown, NotFound) as exc:
        return _finish(gs, version_id, owner, lambda ctx, v, why=str(exc): _failed(v, why, backoff))
    signatures = _signatures(gs)
    return _finish(
        gs, version_id, owner, lambda ctx, v: _verdict(ctx, v, result, sha256, signatures, backoff)
    )


def _scan_blob(gs, blob_key: str) -> tuple[antivirus.ScanResult, str]:
    """Stream a blob to clamd, hashing it on the way (multipart uploads arrive without SHA-256)."""
    digest = hashlib.sha256()

    def chunks(stream):
        for chunk in stream:
            digest.update(chunk)
            yield chunk

    with store_errors(), gs.store.get(blob_key) as stream:
        result = gs.scanner.scan(chunks(stream))
    return result, digest.hexdigest()


def _finish(gs, version_id: int, owner: str, apply) -> str:
    """Apply an outcome if the lease is still ours (another worker may have taken the job)."""
    with gs.unit_of_work() as ctx:
        version = ctx.db.get(Version, version_id)
        if version is None or version.scan_lease_owner != owner:
            return "lease lost"
        apply(ctx, version)
        return version.scan_state


def _verdict(
    ctx: Context, version: Version, result, sha256: str, signatures: str | None, backoff: Backoff
) -> None:
    version.sha256 = version.sha256 or sha256
    if version.sha256 != sha256:
        _failed(version, "The stored bytes differ from the upload's SHA-256.", backoff)
        return
    version.scan_attempts += 1
    verdicts.record_result(ctx, version, result, signatures)


def _release(version: Version) -> None:
    """Give a job back, counted: the version stays pending while clamd is away."""
    version.scan_attempts += 1
    version.scan_lease_until = version.scan_lease_owner = None


def _failed(version: Version, reason: str, backoff: Backoff) -> None:
    """Keep a version waiting in `error` until its retry time: clamd choked on the file, or
    its bytes could not be read."""
    _release(version)
    version.scan_state, version.scan_signature = ScanState.ERROR, reason[:255]
    version.scan_not_before = utcnow() + timedelta(seconds=backoff.delay(version.scan_attempts))


def _signatures(gs) -> str | None:
    return verdicts.cached_signature_version(gs.scanner)


class Worker:
    """One scan worker: claim, scan, record, until stopped; waits while clamd is down."""

    def __init__(self, gs, backoff: Backoff = Backoff(), idle_seconds: float = 1.0):
        self.gs, self.backoff, self.idle = gs, backoff, idle_seconds
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Work until stop() is called."""
        outage = 0
        while not self.stop_event.is_set():
            signatures = _signatures(self.gs)
            if signatures is None and not self._scanner_answers():
                outage += 1
                self.stop_event.wait(self.backoff.delay(outage))
                continue
            outage = 0
            if not self.run_once(signatures):
                self.stop_event.wait(self.idle)

    def run_once(self, signatures: str | None) -> bool:
        """Do one job if there is one; return whether there was."""
        version_id = claim(self.gs, self.owner, signatures)
        if version_id is None:
            return False
        outcome = scan_version(self.gs, version_id, self.owner, self.backoff)
        log.info("version %s: %s", version_id, outcome)
        return True

    def stop(self) -> None:
        self.stop_event.set()

    def _scanner_answers(self) -> bool:
        try:
            self.gs.scanner.ping()
        except antivirus.ScannerError as exc:
            log.warning("clamd does not answer, uploads stay pending: %s", exc)
            return False
        return True


@dataclass(frozen=True)
class QueueStats:
    """How the scan queue stands: waiting versions and how long the oldest has waited."""

    pending: int
    errors: int
    oldest_pending_seconds: float | None
    quarantined: int


def queue_stats(db) -> QueueStats:
    """Return the scan queue's depth and age, for /readyz and /metrics. Each count reads the
    index on scan_state for its own small set (pending, error, quarantined), never the clean
    versions, whose number grows with the site."""

    def count(condition) -> int:
        return db.scalar(select(func.count()).where(condition)) or 0

    oldest = db.scalar(
        select(func.min(Version.uploaded_at)).where(Version.scan_state == ScanState.PENDING)
    )
    age = (utcnow() - oldest).total_seconds() if oldest else None
    return QueueStats(
        count(Version.scan_state == ScanState.PENDING),
        count(Version.scan_state == ScanState.ERROR),
        age,
        count(is_quarantined(Version)),
    )
