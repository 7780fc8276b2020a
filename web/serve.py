"""`gshare serve`: the web app under gunicorn, on the embedded S3 server when none is configured."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os

from gunicorn.app.base import BaseApplication

import storage
from gshare.core import db, embedded
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.scanning.worker import run_workers
from web import create_app
from web.s3.app import create_s3_app

log = logging.getLogger("gshare")


class WebServer(BaseApplication):
    """Gunicorn running gshare's Flask app; each worker builds its own gshare after the fork."""

    def __init__(self, config: Config, endpoint: str, keys: tuple[str, str]):
        self.gshare_config, self.endpoint, self.keys = config, endpoint, keys
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", [self.gshare_config.server.listen])
        self.cfg.set("workers", self.gshare_config.server.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 8)
        self.cfg.set("timeout", 120)
        self.cfg.set("graceful_timeout", 30)
        self.cfg.set("accesslog", "-")
        self.cfg.set("proc_name", "gshare")
        # gunicorn's control socket (for `gunicornc`), kept with the site's data: the default,
        # one per Unix account, would be shared by two sites on one machine.
        self.cfg.set("control_socket", str(self.gshare_config.data_dir / "gunicorn.ctl"))

    def load(self):
        gs = Gshare.from_config(
            self.gshare_config, storage_endpoint=self.endpoint, storage_keys=self.keys
        )
        return create_app(self.gshare_config, gs)


class S3Server(WebServer):
    """Gunicorn running the S3 endpoint on [server] s3_listen, in a process of its own."""

    def load_config(self):
        super().load_config()
        self.cfg.set("bind", [self.gshare_config.server.s3_listen])
        self.cfg.set("proc_name", "gshare-s3")
        self.cfg.set("control_socket", str(self.gshare_config.data_dir / "gunicorn-s3.ctl"))
        self.cfg.set("timeout", 600)  # a part of a multipart upload may take minutes

    def load(self):
        gs = Gshare.from_config(
            self.gshare_config, storage_endpoint=self.endpoint, storage_keys=self.keys
        )
        return create_s3_app(self.gshare_config, gs)


@contextlib.contextmanager
def child_process(name: str, target):
    """Run target in a forked child process for as long as the block lasts."""
    process = multiprocessing.get_context("fork").Process(target=target, name=name)
    process.start()
    owner = os.getpid()
    try:
        yield process
    finally:
        if os.getpid() == owner:  # gunicorn's forked workers unwind through here too
            _stop(process)


def _stop(process) -> None:
    process.terminate()  # SIGTERM: gunicorn and the scan worker finish what they are doing
    process.join(timeout=35)
    if process.is_alive():
        process.kill()


def serve(config: Config) -> None:
    """Upgrade the schema if allowed, start the object store if embedded, run the web server,
    the S3 endpoint and a scan worker beside them."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if config.database.auto_upgrade:
        db.upgrade(config.database_url)
    with embedded.object_store(config) as (endpoint, keys):
        store = storage.S3Store(
            endpoint, *keys, bucket=config.storage.bucket, region=config.storage.region
        )
        store.ensure_bucket()
        log.info(
            "G-Share on http://%s, S3 endpoint on http://%s (objects: %s, database: %s)",
            config.server.listen,
            config.server.s3_listen,
            endpoint,
            config.database_url.split("://")[0],
        )
        with (
            child_process("gshare-worker", lambda: run_workers(config)),
            child_process("gshare-s3", lambda: S3Server(config, endpoint, keys).run()),
        ):
            WebServer(config, endpoint, keys).run()
