"""The scan gate: how a version gets its verdict, and what a verdict changes.

A version is born `pending`. At the end of an upload it may already be judged: `blocked` by
the content-type policy, `unscannable` when larger than the scanner accepts, or `clean` /
`infected` when the bytes were streamed to clamd while they were stored (the inline scan).
Anything else is left to the scan queue (queue.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref

from sqlalchemy import bindparam, select

import antivirus
from gshare.access.gate import readable_by_others
from gshare.access.permissions import managers_of
from gshare.activity import alerts, audit, notifications
from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.config import MiB
from gshare.core.context import Context
from gshare.core.models import ScanState, SignatureGeneration, Version, utcnow
from gshare.scanning.policy import policy_violation

log = logging.getLogger(__name__)

TOO_LARGE = "larger than the scanner accepts"
VERSION_TTL_SECONDS = 5.0
_VERSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # scanner: (asked, label)


class InlineScan:
    """Feed an upload's bytes to clamd as they pass, from a thread of its own so that sending
    to clamd overlaps sending to the object store. A scanner problem never fails the upload:
    the scan is dropped and the version stays pending for the queue."""

    QUEUE_CHUNKS = 8  # at most this many chunks (1 MiB each, as storage reads) wait for clamd

    def __init__(self, stream: antivirus.StreamScan, limit: int, scanner=None):
        self.stream, self.limit, self.received, self.scanner = stream, limit, 0, scanner
        self.result: antivirus.ScanResult | None = None
        self.db_version: str | None = None
        self.too_large = self.dropped = self.finished = False
        self._chunks: queue.Queue[bytes | None] = queue.Queue(self.QUEUE_CHUNKS)
        self._first: bytes | None = None  # held until a second chunk shows the thread is needed
        self._sender: threading.Thread | None = None

    @classmethod
    def start(cls, ctx: Context, size: int | None) -> InlineScan | None:
        """Open an inline scan when enabled, the scanner answers and the size fits."""
        limit = max_scan_bytes(ctx.config)
        if (
            ctx.scanner is None
            or not ctx.config.antivirus.scan_while_uploading
            or (size is not None and size > limit)
        ):
            return None
        try:
            return cls(ctx.scanner.start_scan(), limit, ctx.scanner)
        except antivirus.ScannerError as exc:
            log.info("inline scan not started: %s", exc)
            return None

    def feed(self, data: bytes) -> None:
        """Queue bytes for clamd (waiting only when clamd is behind by QUEUE_CHUNKS)."""
        if self.dropped:
            return
        self.received += len(data)
        if self.received > self.limit:
            self.too_large = True
            self.abort()
            return
        if self._sender is None:  # a file of one chunk has nothing to overlap: no thread
            if self._first is None:
                self._first = data
                return
            self._sender = threading.Thread(target=self._send, name="inline-scan", daemon=True)
            self._sender.start()
            self._chunks.put(self._first)
            self._first = None
        self._chunks.put(data)

    def finish(self) -> antivirus.ScanResult | None:
        """Return clamd's verdict, or None when the inline scan was dropped (asked again, the
        same answer: the caller may wait for it before its transaction writes anything)."""
        if self.finished:
            return self.result
        self.finished = True
        if not self.dropped:
            self._stop_sending()
        if self.dropped:
            return None
        try:
            self.result = self.stream.finish()
        except antivirus.ScanLimitExceeded:
            self.too_large = True
        except antivirus.ScannerError as exc:
            log.info("inline scan lost its verdict: %s", exc)
        if self.result is not None and self.scanner is not None:
            self.db_version = cached_signature_version(self.scanner)
        self.dropped = True
        return self.result

    def abort(self) -> None:
        """Drop the scan and close the connection to clamd."""
        if not self.dropped:
            self.dropped = True
            self._drain()
            self._stop_sending()
        self.stream.abort()

    def _stop_sending(self) -> None:
        """Send what is left: the held chunk from here, or let the thread finish the queue."""
        if self._sender is None:
            if self._first is not None:
                self._send_one(self._first)
                self._first = None
            return
        self._chunks.put(None)
        self._sender.join()

    def _send(self) -> None:
        while (data := self._chunks.get()) is not None:
            self._send_one(data)

    def _send_one(self, data: bytes) -> None:
        if self.dropped:
            return
        try:
            self.stream.feed(data)
        except antivirus.ScanLimitExceeded:
            self.too_large = self.dropped = True
        except antivirus.ScannerError as exc:
            log.info("inline scan dropped: %s", exc)
            self.dropped = True

    def _drain(self) -> None:
        while True:
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                return


def max_scan_bytes(config) -> int:
    return config.antivirus.max_scan_size_mb * MiB


def held_above(config) -> int | None:
    """Return the size above which an upload is kept from everyone but its uploader until an
    administrator allows it (too large to scan), or None where the site shares such files."""
    return None if config.antivirus.unscannable == "allow" else max_scan_bytes(config)


def judge_new_version(ctx: Context, version: Version, inline: InlineScan | None) -> None:
    """Give a freshly stored version the verdict that is already known, if any. A version
    that is not quarantined is not flushed: its verdict goes in with its INSERT (or the
    caller's next flush)."""
    reason = policy_violation(ctx.config.antivirus, version.node.name, version.content_type)
    if reason:
        record_verdict(ctx, version, ScanState.BLOCKED, reason)
    elif version.size > max_scan_bytes(ctx.config) or (inline and inline.too_large):
        record_unscannable(ctx, version, flush=False)
    elif inline is not None and inline.finish() is not None:
        state, signature = _state_of(inline.result)
        record_verdict(ctx, version, state, signature, inline.db_version, flush=False)


def record_unscannable(ctx: Context, version: Version, flush: bool = True) -> None:
    """Mark a version too large to scan; the [antivirus] unscannable setting decides the rest."""
    record_verdict(ctx, version, ScanState.UNSCANNABLE, TOO_LARGE, flush=flush)
    if ctx.config.antivirus.unscannable == "allow":
        version.release_reason = f"allowed by policy: {TOO_LARGE}"


def record_result(
    ctx: Context, version: Version, result: antivirus.ScanResult, db_version: str
) -> None:
    """Record what clamd said about a version."""
    record_verdict(ctx, version, *_state_of(result), db_version=db_version)


def record_verdict(
    ctx: Context,
    version: Version,
    state: ScanState,
    signature: str | None = None,
    db_version: str | None = None,
    flush: bool = True,
) -> None:
    """Set a version's verdict; quarantine it and tell people when it is bad. flush False
    leaves a verdict that quarantines nothing to the caller's next flush."""
    bad = state in (ScanState.INFECTED, ScanState.BLOCKED)
    was_readable = bad and bool(readable_by_others(version))
    version.scan_state, version.scan_signature = state, signature
    version.scan_db_version, version.scanned_at = db_version, utcnow()
    version.scan_generation = signature_generation(ctx.db, db_version) if db_version else 0
    version.scan_lease_until = version.scan_lease_owner = version.scan_not_before = None
    if bad:
        version.release_reason = version.released_by = None
        ctx.db.flush()  # a new version gets its id here, for the audit and the notices
        _quarantine(ctx, version, was_readable)
    if flush or bad:
        ctx.db.flush()


def signature_generation(db, label: str) -> int:
    """Return the number of the signature generation `label` names, numbering it when new
    (the first worker to see a new label after a signature update).

    A number never changes once given, so each process keeps those it read, per database: an
    upload asks the database only for a label it has not met. A number this session gave (or
    could have seen uncommitted) is not kept: its transaction may yet roll back.
    """
    known = _GENERATIONS.setdefault(db.get_bind().engine, {})
    if label in known:
        return known[label]
    numbered_here = db.info.setdefault(_NUMBERED, set())
    generation = db.scalar(_GENERATION_OF, {"label": label})
    if generation is not None and label not in numbered_here:
        known[label] = generation  # a row this transaction did not write: committed
    elif generation is None:  # another worker numbering it at the same moment wins
        table = SignatureGeneration.__table__
        db.execute(
            database.insert(db, table)
            .values(label=label, first_seen_at=utcnow())
            .on_conflict_do_nothing(index_elements=[table.c.label])
        )
        numbered_here.add(label)
        generation = db.scalar(_GENERATION_OF, {"label": label})
    return generation


_GENERATION_OF = select(SignatureGeneration.id).where(
    SignatureGeneration.label == bindparam("label")
)
_GENERATIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine: {label: id}
_NUMBERED = "gshare.numbered_generations"  # session.info: labels this session inserted


def cached_signature_version(scanner) -> str | None:
    """Return clamd's signature version, asked at most every few seconds per scanner.

    A label a few seconds old is at worst older than the signatures that judged the upload,
    which only makes the rescan after a signature update scan that version again.
    """
    now = time.monotonic()
    asked_at, label = _VERSIONS.get(scanner, (None, None))
    if asked_at is None or now - asked_at > VERSION_TTL_SECONDS:
        try:
            label = version_label(scanner.version())
        except antivirus.ScannerError:
            return None
        _VERSIONS[scanner] = (now, label)
    return label


def version_label(version: antivirus.ScannerVersion) -> str:
    return str(version.database) if version.database is not None else version.engine


def _state_of(result: antivirus.ScanResult) -> tuple[ScanState, str | None]:
    return (ScanState.CLEAN, None) if result.clean else (ScanState.INFECTED, result.signature)


def _quarantine(ctx: Context, version: Version, pulled_back: bool) -> None:
    node = version.node
    action = "scan.pulled_back" if pulled_back else f"scan.{version.scan_state}"
    audit.record(
        ctx, OPERATOR, action, node=node, version=version, signature=version.scan_signature
    )
    if version.scan_state == ScanState.INFECTED:
        alerts.malware_found(ctx, version, pulled_back)
    people = {version.uploaded_by} | (managers_of(ctx.db, node) if pulled_back else set())
    for user_id in people - {None}:
        notifications.notify(
            ctx,
            user_id,
            action,
            node_id=node.id,
            version_id=version.id,
            name=node.name,
            signature=version.scan_signature,
        )
