"""Whether the parts this process depends on answer: the database, the object store, clamd,
and the scan queue's depth. The front ends' /readyz, /metrics and admin page ask here."""

from __future__ import annotations

from sqlalchemy import text

import antivirus
import storage
from gshare.core.context import Gshare
from gshare.scanning.queue import queue_stats


def components(gs: Gshare) -> dict[str, dict]:
    """Return each part's state: {"up": bool, ...details or "reason"}."""
    return {
        "database": database_status(gs),
        "object_store": object_store_status(gs),
        "scanner": scanner_status(gs),
    }


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
