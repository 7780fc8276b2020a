"""The scan queue: workers claim versions from the version table itself, with a lease.

A job is in one of two lanes, each read from the head of a partial index so that a claim and
an idle poll cost the same at a thousand versions and at ten million:

- due: a version `pending` (or `error`, once its retry time has come), oldest upload first;
- rescan: a `clean` version judged by an older signature generation than clamd's (see
  SignatureGeneration), the oldest generation first and, within one, the most recently used
  first; at most `[antivirus] rescans_per_hour` for the whole fleet (RescanBudget).

New uploads always come before rescans. A worker leases its job for `[antivirus]
lease_seconds` and renews the lease every third of that while it scans (Heartbeat), so a long
scan is never done twice and a dead worker's job is taken by another within one lease. On
PostgreSQL the claim uses FOR UPDATE SKIP LOCKED so workers never wait on each other; on
SQLite the claim is a conditional UPDATE, one writer at a time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import CursorResult, func, literal_column, or_, select, update
from sqlalchemy.sql.elements import ColumnClause

import antivirus
from gshare.access.gate import is_quarantined
from gshare.core import db as database
from gshare.core.blobs import store_errors
from gshare.core.context import Context
from gshare.core.errors import NotFound, StorageDown
from gshare.core.models import (
    CLEAN_SQL,
    SCAN_DUE_SQL,
    RescanBudget,
    ScanState,
    Version,
    utcnow,
)
from gshare.ops import metrics
from gshare.scanning import verdicts

log = logging.getLogger(__name__)

# The partial indexes' own conditions, as literal SQL (see models.SCAN_DUE_SQL).
IS_DUE: ColumnClause = literal_column(SCAN_DUE_SQL)
IS_CLEAN: ColumnClause = literal_column(CLEAN_SQL)


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
        version_id = _first(ctx, _due(free, now))
        if version_id is None and signatures is not None:
            generation = verdicts.signature_generation(ctx.db, signatures)
            version_id = _first(ctx, _stale(free, generation))
            if version_id is not None and not _spend_rescan(ctx, now):
                return None
        if version_id is not None and _lease(ctx, version_id, owner, free, now):
            return version_id
    return None


def _first(ctx: Context, query) -> int | None:
    if ctx.db.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return ctx.db.scalar(query.limit(1))


def _due(free, now):
    """New uploads and retries whose time has come, oldest first (ix_versions_scan_due)."""
    return (
        select(Version.id)
        .where(
            IS_DUE,
            free,
            or_(Version.scan_not_before.is_(None), Version.scan_not_before <= now),
        )
        .order_by(Version.uploaded_at, Version.id)
    )


def _stale(free, generation: int):
    """Clean versions judged by older signatures than `generation` (ix_versions_rescan)."""
    return (
        select(Version.id)
        .where(IS_CLEAN, Version.scan_generation < generation, free)
        .order_by(Version.scan_generation, Version.last_accessed_at.desc(), Version.id.desc())
    )


def _spend_rescan(ctx: Context, now) -> bool:
    """Take one rescan from the fleet's budget (a token bucket refilled at `rescans_per_hour`,
    holding at most a minute's worth); say whether there was one. Locks the budget's row for
    the rest of the claim, so workers spend it one at a time."""
    per_hour = ctx.config.antivirus.rescans_per_hour
    if per_hour == 0:
        return False
    capacity = max(1.0, per_hour / 60)
    query = select(RescanBudget).where(RescanBudget.id == 1)
    if ctx.db.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    budget = ctx.db.scalar(query)
    if budget is None:
        budget = _new_budget(ctx, capacity, now)
    elapsed = max((now - budget.refilled_at).total_seconds(), 0.0)
    tokens = min(capacity, budget.tokens + elapsed * per_hour / 3600)
    budget.refilled_at = now
    budget.tokens = tokens - 1 if tokens >= 1 else tokens
    return tokens >= 1


def _new_budget(ctx: Context, capacity: float, now) -> RescanBudget:
    """Make the budget's row, full; a worker that makes it at the same moment wins."""
    table = RescanBudget.__table__
    ctx.db.execute(
        database.insert(ctx.db, table)
        .values(id=1, tokens=capacity, refilled_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.id])
    )
    query = select(RescanBudget).where(RescanBudget.id == 1)
    if ctx.db.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return ctx.db.scalar(query)


def _lease(ctx: Context, version_id: int, owner: str, free, now) -> bool:
    until = now + timedelta(seconds=ctx.config.antivirus.lease_seconds)
    result: CursorResult = ctx.db.execute(  # type: ignore[assignment]  # an UPDATE's result
        update(Version)
        .where(Version.id == version_id, free)
        .values(scan_lease_until=until, scan_lease_owner=owner)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def renew_lease(gs, version_id: int, owner: str) -> bool:
    """Extend this worker's lease on a version by a whole lease; say whether it is still ours."""
    with gs.unit_of_work() as ctx:
        until = utcnow() + timedelta(seconds=ctx.config.antivirus.lease_seconds)
        result: CursorResult = ctx.db.execute(
            update(Version)
            .where(Version.id == version_id, Version.scan_lease_owner == owner)
            .values(scan_lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


class Heartbeat:
    """Renew a lease every third of `lease_seconds` from a thread, for as long as a scan runs."""

    def __init__(self, gs, version_id: int, owner: str):
        self.gs, self.version_id, self.owner = gs, version_id, owner
        self.every = gs.config.antivirus.lease_seconds / 3
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{owner}-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.every):
            try:
                if not renew_lease(self.gs, self.version_id, self.owner):
                    log.warning("version %s: lease lost to another worker", self.version_id)
                    return
            except Exception as exc:  # the database away for a moment: try again next beat
                log.warning("version %s: lease not renewed: %s", self.version_id, exc)


def scan_version(gs, version_id: int, owner: str, backoff: Backoff) -> str:
    """Scan one leased version and record the verdict; return what happened, for the log."""
    with gs.unit_of_work() as ctx:
        version = ctx.db.get(Version, version_id)
        blob_key, size = version.blob_key, version.size
        if size > verdicts.max_scan_bytes(ctx.config):
            verdicts.record_unscannable(ctx, version)
            return "unscannable"
    try:
        with Heartbeat(gs, version_id, owner):
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
        started = time.perf_counter()
        outcome = scan_version(self.gs, version_id, self.owner, self.backoff)
        seconds = time.perf_counter() - started
        metrics.observe_scan(outcome, seconds)
        log.info(
            "version %s: %s (%.2f s)",
            version_id,
            outcome,
            seconds,
            extra={"version": version_id, "outcome": outcome, "duration_ms": seconds * 1000},
        )
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
