"""Whether the parts this node depends on answer: the database, the object store, clamd, and
the parts `gshare serve` runs beside the web app (its S3 listener and scan workers); and the
scan queue's depth. The front ends' /readyz, /metrics and admin page ask here. Every check is
bounded: one small query or one local round trip each, whatever the site's size."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

import antivirus
import storage
from gshare.core.context import Gshare
from gshare.scanning.queue import queue_stats

# The S3 listener's health path, for load balancers and for the web app's /readyz (no bucket
# can be named so: bucket names start with a letter or a digit).
S3_HEALTH_PATH = "/_gshare/healthz"
PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class NodeParts:
    """What this node runs beside the web app, for /readyz to vouch for: the S3 listener's
    address and the scan workers' heartbeat file (both None when run as separate units)."""

    s3_listen: str | None = None
    worker_beat: Path | None = None


WEB_ALONE = NodeParts()  # `gshare web`, or a test's app: nothing beside it to vouch for


def components(gs: Gshare, parts: NodeParts = WEB_ALONE) -> dict[str, dict]:
    """Return each part's state: {"up": bool, ...details or "reason"}."""
    checks = {
        "database": database_status(gs),
        "object_store": object_store_status(gs),
        "scanner": scanner_status(gs),
    }
    if parts.s3_listen is not None:
        checks["s3_listener"] = s3_listener_status(parts.s3_listen)
    if parts.worker_beat is not None:
        checks["scan_workers"] = workers_status(parts.worker_beat)
    return checks


def s3_listener_status(address: str) -> dict:
    """Say whether this node's S3 listener answers its health path."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    connection = http.client.HTTPConnection(host, int(port), timeout=PROBE_SECONDS)
    try:
        connection.request("GET", S3_HEALTH_PATH)
        status = connection.getresponse().status
    except OSError as exc:
        return {"up": False, "reason": f"{address}: {exc}"}
    finally:
        connection.close()
    if status != 200:
        return {"up": False, "reason": f"{address} answered {status}"}
    return {"up": True, "address": address}


def workers_status(beat: Path, stale_after: float = 15.0) -> dict:
    """Say whether this node's scan workers are running: their process touches `beat` every
    few seconds (gshare/scanning/worker.py) for as long as a worker thread lives."""
    try:
        age = time.time() - beat.stat().st_mtime
    except FileNotFoundError:
        return {"up": False, "reason": "the scan workers have not started"}
    if age > stale_after:
        return {"up": False, "reason": f"no sign of the scan workers for {age:.0f} s"}
    return {"up": True, "last_seen_seconds": round(age, 1)}


def database_status(gs: Gshare) -> dict:
    """Say whether the database answers, with its backend, or why not."""
    try:
        with gs.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down"; say which
        return {"up": False, "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return {"up": True, "backend": gs.engine.dialect.name}


def object_store_status(gs: Gshare) -> dict:
    """Say whether the object store answers, with its bucket, or why not."""
    try:
        gs.store.ping()
    except storage.StorageError as exc:
        return {"up": False, "reason": str(exc)}
    return {"up": True, "bucket": gs.store.bucket}


def scanner_status(gs: Gshare) -> dict:
    """Say whether clamd answers, with its engine and signature versions, or why not."""
    if gs.scanner is None:
        return {"up": False, "reason": "no scanner is configured"}
    try:
        version = gs.scanner.version()
    except antivirus.ScannerError as exc:
        return {"up": False, "reason": str(exc) or type(exc).__name__}
    return {
        "up": True,
        "engine": version.engine,
        "signatures": version.database,
        "signatures_date": version.database_date,
    }


def scan_queue(gs: Gshare) -> dict:
    """Return the scan queue's depth and age."""
    with gs.sessions() as db:
        stats = queue_stats(db)
    return {
        "pending": stats.pending,
        "errors": stats.errors,
        "quarantined": stats.quarantined,
        "oldest_pending_seconds": stats.oldest_pending_seconds,
    }
