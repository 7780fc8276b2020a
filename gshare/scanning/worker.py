"""`gshare worker`: scan threads on this machine, stopped cleanly by SIGTERM or Ctrl-C. While
any of them lives, the process touches a heartbeat file (worker_beat) every few seconds, which
`gshare serve`'s /readyz reads."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from gshare.core import embedded
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.ops import logs, metrics
from gshare.scanning.queue import Worker

log = logging.getLogger(__name__)

BEAT_SECONDS = 3.0


def worker_beat(config: Config) -> Path:
    """Return the heartbeat file of this machine's scan workers."""
    return config.data_dir / "run" / "scan-workers.beat"


def run_workers(config: Config, threads: int | None = None) -> None:
    """Run scan workers until a signal stops them."""
    logs.configure(config, "worker")
    metrics.prepare(config)
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
        _beat(worker_beat(config), running)
        for thread in running:
            thread.join()


def _beat(path: Path, running: list[threading.Thread]) -> None:
    """Touch `path` every BEAT_SECONDS while any worker thread lives."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stopped = threading.Event()
    while any(thread.is_alive() for thread in running):
        path.touch()
        stopped.wait(BEAT_SECONDS)
