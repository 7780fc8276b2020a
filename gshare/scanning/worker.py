"""`gshare worker`: scan threads on this machine, stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading

from gshare.core import embedded
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.scanning.queue import Worker

log = logging.getLogger(__name__)


def run_workers(config: Config, threads: int | None = None) -> None:
    """Run scan workers until a signal stops them."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with embedded.object_store(config) as (endpoint, keys):
        gs = Gshare.from_config(config, storage_endpoint=endpoint, storage_keys=keys)
        count = 1 if gs.engine.dialect.name == "sqlite" else threads or config.server.scan_workers
        workers = [Worker(gs) for _ in range(count)]

        def stop_all(*_) -> None:
            for worker in workers:
                worker.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop_all)
        running = [threading.Thread(target=w.run, name=w.owner) for w in workers]
        log.info("%d scan worker(s) on clamd at %s", count, config.antivirus.clamd)
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
