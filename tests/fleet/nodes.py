"""The parts of a test fleet: nodes running the split commands a fleet's units run (`gshare
web`, `gshare s3`, `gshare worker`), each part a process with a pid of its own; their configs;
the people the fleet's tests act as. tests/fleet/conftest.py starts a fleet per module.
"""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.served import STOP_SECONDS, Key, Served, start_gshare, stop, wait_until_up
from tests.helpers import eventually

BUCKET = "finance"  # the Finance department's space, as sync tools see it
LEASE_SECONDS = 5
PASSWORD = "ລະຫັດຜ່ານ-2026"
DISPLAY_NAME = "ບຸນມີ ພົມມະວົງ"  # Bounmy Phommavong, who signs in on the web


@dataclass
class Node:
    """One gshare node: its web server, S3 endpoint and scan worker, each a process."""

    name: str
    config: Path
    logs: Path
    web_url: str
    s3_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, part: str) -> Path:
        return self.logs / f"{self.name}-{part}.log"

    def launch(self) -> None:
        """Start the node's web server and S3 endpoint (each brings the schema up to date)."""
        for part in ("web", "s3"):
            self.processes[part] = start_gshare(self.config, self.log(part), part)

    def wait_up(self) -> None:
        """Wait until the web server and S3 endpoint answer, then start the scan worker (which
        expects the schema) and wait until it runs."""
        wait_until_up(f"{self.web_url}/readyz", self.processes["web"], self.log("web"))
        wait_until_up(f"{self.s3_url}/", self.processes["s3"], self.log("s3"))
        self.start_worker()

    def start_worker(self) -> None:
        self.processes["worker"] = start_worker(self.config, self.log("worker"))

    def stop_worker(self) -> None:
        stop(self.processes["worker"])

    def restart(self) -> None:
        """Restart the node as its supervisor restarts each unit: SIGTERM to every process,
        each started again as soon as it has exited; then wait until all are up."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for part in ("s3", "web"):
            self.processes[part].wait(timeout=STOP_SECONDS)
            self.processes[part] = start_gshare(self.config, self.log(part), part)
        self.processes["worker"].wait(timeout=STOP_SECONDS)
        self.wait_up()

    def stop(self) -> None:
        """Stop every process of the node with SIGTERM, as its supervisor would."""
        stop(*self.processes.values())


@dataclass
class Fleet:
    """The running fleet, the person who uploads (alice, of Finance) and her colleague."""

    a: Node
    b: Node
    extra_worker: subprocess.Popen
    extra_log: Path
    site: Served
    colleague: Key
    database_url: str

    def worker_logs(self) -> dict[str, Path]:
        """Return the log of each scan worker process, by name."""
        return {"a": self.a.log("worker"), "b": self.b.log("worker"), "extra": self.extra_log}


def start_worker(config: Path, log: Path) -> subprocess.Popen:
    """Start `gshare worker` with one scan thread and wait until it says it runs."""
    said = log.stat().st_size if log.exists() else 0
    process = start_gshare(config, log, "worker", "--threads", "1")

    def started() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gshare worker exited early:\n{log.read_text()[-3000:]}")
        with open(log, "rb") as text:
            text.seek(said)
            return b"scan worker(s) on clamd" in text.read()

    eventually(started, timeout=60, interval=0.1, what=f"the scan worker logging to {log}")
    return process


def node_config(root: Path, settings: dict, web: int, s3: int) -> Path:
    """Write a node's config: its own addresses and data directory, the fleet's settings."""
    root.mkdir(parents=True)
    config = root / "config.toml"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{web}"\ns3_listen = "127.0.0.1:{s3}"\n'
        f'public_url = "http://127.0.0.1:{web}"\ndata_dir = "{root / "var"}"\n'
        f'secret_key = "{settings["secret_key"]}"\nworkers = 1\nscan_workers = 1\n'
        f'[database]\nurl = "{settings["database"]}"\npool_size = 2\nmax_overflow = 2\n'
        f'[storage]\nendpoint = "{settings["endpoint"]}"\naccess_key = "{settings["access_key"]}"\n'
        f'secret_key = "{settings["store_secret"]}"\nbucket = "{settings["bucket"]}"\n'
        "part_size_mb = 5\n"
        f'[antivirus]\nclamd = "{settings["clamd"]}"\nscan_while_uploading = false\n'
        f"lease_seconds = {LEASE_SECONDS}\nmax_scan_size_mb = 20\n"
    )
    return config


def add_people(site: Served) -> Key:
    """Add Finance, alice (the site's key is hers; she also signs in on the web) and her
    colleague carol; return carol's key."""
    site.gshare("department", "add", "Finance", "--slug", BUCKET)
    site.gshare(
        "user",
        "add",
        "alice",
        "--name",
        DISPLAY_NAME,
        "--department",
        "Finance",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )
    site.key = site.new_key("alice")
    return site.add_person("carol", "Finance")
