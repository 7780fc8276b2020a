"""`gshare serve` on its embedded defaults, as an operator starts it: a fresh data directory,
SQLite, the local S3 server, the web and S3 listeners, and a clean stop."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(url: str, process, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "gshare serve exited early"
        try:
            return get(url)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


@pytest.fixture
def served(tmp_path, clamd_daemon):
    web, s3, objects = free_port(), free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{web}"\ns3_listen = "127.0.0.1:{s3}"\n'
        f'data_dir = "{tmp_path / "var"}"\nworkers = 1\n'
        f"[storage]\nembedded_port = {objects}\n"
        f'[antivirus]\nclamd = "{clamd_daemon.address}"\n'
    )
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gshare"), "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process, web, s3, tmp_path / "var"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)


def test_serve_starts_everything_on_embedded_defaults_and_stops_cleanly(served):
    process, web, s3, var = served
    status, body = wait_for(f"http://127.0.0.1:{web}/readyz", process)
    assert status == 200, body
    assert body["database"]["backend"] == "sqlite" and body["object_store"]["up"]
    assert body["scanner"]["up"]
    assert (var / "gshare.db").exists() and (var / "secret_key").stat().st_mode & 0o077 == 0
    s3_status, _ = wait_for(f"http://127.0.0.1:{s3}/", process)
    assert s3_status == 403  # anonymous requests are refused with S3's AccessDenied
    # gunicorn's control sockets live with the site, so two sites on one machine do not share
    assert (var / "gunicorn.ctl").is_socket() and (var / "gunicorn-s3.ctl").is_socket()
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output[-2000:]
    leftovers = subprocess.run(["pgrep", "-f", str(var)], capture_output=True, text=True).stdout
    assert leftovers == "", "the embedded S3 server or a worker outlived gshare serve"
