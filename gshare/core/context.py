"""The parts of a running gshare, built once from config, and the unit of work callers own."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import antivirus
import storage
from gshare.core.config import Config, MiB
from gshare.core.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

_DELETE_AFTER_COMMIT = "gshare.delete_after_commit"
_DELETE_AFTER_ROLLBACK = "gshare.delete_after_rollback"
_CALL_AFTER_COMMIT = "gshare.call_after_commit"


@dataclass
class Context:
    """What a service needs for one unit of work: the session, the stores, the settings."""

    db: Session
    store: storage.S3Store
    config: Config
    scanner: antivirus.ClamdScanner | None = None
    ip: str | None = None
    extra: dict = field(default_factory=dict)

    def delete_blob_after_commit(self, key: str) -> None:
        """Delete a blob once the rows that pointed to it are gone for good."""
        self.db.info.setdefault(_DELETE_AFTER_COMMIT, []).append(key)

    def delete_blob_after_rollback(self, key: str) -> None:
        """Delete a freshly stored blob if its row is never committed."""
        self.db.info.setdefault(_DELETE_AFTER_ROLLBACK, []).append(key)

    def after_commit(self, call: Callable[[], object]) -> None:
        """Call `call` once what this unit of work did is committed (never if rolled back):
        for what must not happen unless the change holds, such as an e-mail about it."""
        self.db.info.setdefault(_CALL_AFTER_COMMIT, []).append(call)


class Gshare:
    """One process's gshare: engine, session factory, object store and scanner."""

    def __init__(
        self, config: Config, store: storage.S3Store, scanner=None, engine: Engine | None = None
    ):
        self.config = config
        self.engine = engine or make_engine(
            config.database_url,
            pool_size=config.database.pool_size,
            max_overflow=config.database.max_overflow,
            prepared_statements=config.database.prepared_statements,
        )
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.store = store
        self.scanner = scanner
        event.listen(self.sessions, "after_commit", self._after_commit)
        event.listen(self.sessions, "after_transaction_end", self._after_transaction_end)

    @classmethod
    def from_config(
        cls,
        config: Config,
        storage_endpoint: str | None = None,
        storage_keys: tuple[str, str] | None = None,
    ) -> Gshare:
        """Build gshare from config; the embedded server passes its own endpoint and keys."""
        access, secret = storage_keys or (config.storage.access_key, config.storage.secret_key)
        store = storage.S3Store(
            endpoint=storage_endpoint or config.storage.endpoint,
            access_key=access,
            secret_key=secret,
            bucket=config.storage.bucket,
            region=config.storage.region,
            part_size=config.storage.part_size_mb * MiB,
        )
        return cls(config, store, scanner=make_scanner(config))

    @contextlib.contextmanager
    def unit_of_work(self, ip: str | None = None) -> Iterator[Context]:
        """Yield a context whose changes are committed at the end, or rolled back on error."""
        with self.sessions() as db:
            db.info["store"] = self.store
            ctx = Context(db=db, store=self.store, config=self.config, scanner=self.scanner, ip=ip)
            try:
                yield ctx
                if db.in_transaction():  # none when the work committed its own (S3 requests)
                    db.commit()
            except BaseException:
                db.rollback()
                raise

    def _after_commit(self, db: Session) -> None:
        db.info.pop(_DELETE_AFTER_ROLLBACK, None)
        self._delete_blobs(db.info.pop(_DELETE_AFTER_COMMIT, []))
        for call in db.info.pop(_CALL_AFTER_COMMIT, []):
            call()

    def _after_transaction_end(self, db: Session, transaction) -> None:
        """When the outermost transaction ends without a commit (which took its lists), undo
        what it stored. A SAVEPOINT rolled back inside it is not the end: its blobs stay."""
        if transaction.parent is not None or transaction.nested:
            return
        db.info.pop(_DELETE_AFTER_COMMIT, None)
        db.info.pop(_CALL_AFTER_COMMIT, None)
        self._delete_blobs(db.info.pop(_DELETE_AFTER_ROLLBACK, []))

    def _delete_blobs(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.store.delete(key)
            except storage.StorageError as exc:
                log.warning("blob %s left for gc: %s", key, exc)


def make_scanner(config: Config) -> antivirus.ClamdScanner:
    """Return the clamd scanner named by the config."""
    return antivirus.ClamdScanner(
        config.antivirus.clamd, timeout=float(config.antivirus.timeout_seconds)
    )
