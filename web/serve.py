"""`gshare serve`: the web app under gunicorn, on the embedded S3 server when none is configured."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import threading
from collections.abc import Iterator

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

import storage
from gshare.core import db, embedded
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.ops import health, logs, metrics
from gshare.scanning.worker import run_workers, worker_beat
from web import create_app
from web.s3.app import create_s3_app

log = logging.getLogger("gshare")


class GunicornLogs(glogging.Logger):
    """Gunicorn's own messages go through gshare's log handler (text or JSON, with the node and
    process); its access log is off, since web/observe.py logs each request with more."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True

    def access(self, *_request) -> None:
        return None


class WebServer(BaseApplication):
    """Gunicorn running gshare's Flask app; each worker builds its own gshare after the fork."""

    LISTENER = "web"

    def __init__(
        self,
        config: Config,
        endpoint: str,
        keys: tuple[str, str],
        parts: health.NodeParts = health.WEB_ALONE,
    ):
        self.gshare_config, self.endpoint, self.keys, self.parts = config, endpoint, keys, parts
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", [self.gshare_config.server.listen])
        self.cfg.set("workers", self.gshare_config.server.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 8)
        self.cfg.set("timeout", 120)
        self.cfg.set("graceful_timeout", 30)
        self.cfg.set("logger_class", GunicornLogs)
        self.cfg.set("proc_name", "gshare")
        # gunicorn's control socket (for `gunicornc`), kept with the site's data: the default,
        # one per Unix account, would be shared by two sites on one machine.
        self.cfg.set("control_socket", str(self.gshare_config.data_dir / "gunicorn.ctl"))

    def load(self):
        logs.configure(self.gshare_config, self.LISTENER)
        gs = Gshare.from_config(
            self.gshare_config, storage_endpoint=self.endpoint, storage_keys=self.keys
        )
        return create_app(self.gshare_config, gs, self.parts)


class S3Server(WebServer):
    """Gunicorn running the S3 endpoint on [server] s3_listen, in a process of its own."""

    LISTENER = "s3"

    def load_config(self):
        super().load_config()
        self.cfg.set("bind", [self.gshare_config.server.s3_listen])
        self.cfg.set("proc_name", "gshare-s3")
        self.cfg.set("control_socket", str(self.gshare_config.data_dir / "gunicorn-s3.ctl"))
        self.cfg.set("timeout", 600)  # a part of a multipart upload may take minutes

    def load(self):
        logs.configure(self.gshare_config, self.LISTENER)
        gs = Gshare.from_config(
            self.gshare_config, storage_endpoint=self.endpoint, storage_keys=self.keys
        )
        return create_s3_app(self.gshare_config, gs)


class PortTaken(Exception):
    """A listener's address is in use: another gshare (or something else) holds it."""


def check_free(address: str, setting: str) -> None:
    """Raise PortTaken, naming the setting, unless host:port can be bound now."""
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), int(port)))
        except OSError as exc:
            raise PortTaken(
                f"cannot listen on {address} ([server] {setting}): {exc.strerror}. Is another "
                "gshare still running? Stop it, or choose another address."
            ) from None


def _die_with_parent() -> None:
    """Ask the kernel to end this process when its parent dies (Linux PR_SET_PDEATHSIG), so
    no child of `gshare serve` outlives it, even after a kill -9."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def child_process(name: str, target):
    """Run target in a forked child process (ended with the parent) for as long as the block
    lasts."""

    def run() -> None:
        _die_with_parent()
        target()

    process = multiprocessing.get_context("fork").Process(target=run, name=name)
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


class Watch:
    """Watch the children from a thread of the main process: when one dies, log it and stop
    the web server, so that `gshare serve` exits non-zero and its supervisor (systemd's
    Restart=, Kubernetes) starts the whole node again. A half-alive node is never left."""

    def __init__(self, children: list):
        self.children, self.dead = children, None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gshare-watch", daemon=True)

    def start(self) -> Watch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        # A child's sentinel turns readable when it ends, whoever reaps it (gunicorn's arbiter
        # reaps every child of the process, so is_alive() cannot be trusted here).
        by_sentinel = {child.sentinel: child for child in self.children}
        while not self._stopping.is_set():
            ended = multiprocessing.connection.wait(list(by_sentinel), timeout=1.0)
            if ended and not self._stopping.is_set():
                self.dead = by_sentinel[ended[0]]
                log.error(
                    "%s (pid %s) ended; stopping gshare serve so that its supervisor restarts "
                    "the node",
                    self.dead.name,
                    self.dead.pid,
                )
                os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's arbiter stops cleanly
                return


def serve(config: Config) -> None:
    """Upgrade the schema if allowed, start the object store if embedded, run the web server,
    the S3 endpoint and a scan worker beside them; exit non-zero when any of them dies."""
    with _prepared(config, "serve", "listen", "s3_listen") as (endpoint, keys):
        log.info(
            "G-Share on http://%s, S3 endpoint on http://%s (objects: %s, database: %s)",
            config.server.listen,
            config.server.s3_listen,
            endpoint,
            config.database_url.split("://")[0],
        )
        with (
            child_process("gshare-worker", lambda: run_workers(config)) as worker,
            child_process("gshare-s3", lambda: _s3_child(config, endpoint, keys)) as s3,
        ):
            watch = Watch([worker, s3]).start()
            parts = health.NodeParts(config.server.s3_listen, worker_beat(config))
            try:
                WebServer(config, endpoint, keys, parts).run()
            except SystemExit as exc:
                if watch.dead is None:
                    raise
                raise SystemExit(1) from exc
            finally:
                watch.stop()
        if watch.dead is not None:
            raise SystemExit(1)


def _s3_child(config: Config, endpoint: str, keys: tuple[str, str]) -> None:
    logs.configure(config, "s3")
    S3Server(config, endpoint, keys).run()


def serve_web(config: Config) -> None:
    """Run the web server alone (a systemd unit or a Kubernetes pod of its own)."""
    _serve_one(config, "web", lambda endpoint, keys: WebServer(config, endpoint, keys).run())


def serve_s3(config: Config) -> None:
    """Run the S3 endpoint alone (a systemd unit or a Kubernetes pod of its own)."""
    _serve_one(config, "s3", lambda endpoint, keys: S3Server(config, endpoint, keys).run())


def _serve_one(config: Config, part: str, run) -> None:
    setting = {"web": "listen", "s3": "s3_listen"}[part]
    with _prepared(config, part, setting) as (endpoint, keys):
        run(endpoint, keys)


@contextlib.contextmanager
def _prepared(
    config: Config, process_name: str, *settings: str
) -> Iterator[tuple[str, tuple[str, str]]]:
    """Set up logs and metrics, check that the listeners' addresses are free, upgrade the
    schema if allowed, and yield the object store's endpoint and keys (the embedded store
    started when configured so)."""
    logs.configure(config, process_name)
    metrics.prepare(config)
    for setting in settings:
        check_free(getattr(config.server, setting), setting)
    if config.database.auto_upgrade:
        db.upgrade(config.database_url)
    with embedded.object_store(config) as (endpoint, keys):
        store = storage.S3Store(
            endpoint, *keys, bucket=config.storage.bucket, region=config.storage.region
        )
        store.ensure_bucket()
        yield endpoint, keys
