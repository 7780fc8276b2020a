"""`gshare serve` on its embedded defaults, as an operator starts it: a fresh data directory,
SQLite, the local S3 server, the web and S3 listeners, and a clean stop."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.helpers import eventually

# slow: starts and stops a whole gshare serve
pytestmark = pytest.mark.slow


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
    """Return get(url) once the server answers; fail at once if it exits."""

    def answer():
        if process.poll() is not None:
            pytest.fail("gshare serve exited early")
        return get(url)

    return eventually(answer, timeout=seconds, interval=0.1, retry_on=(OSError,), what=url)


@pytest.fixture
def served(tmp_path, clamd_daemon):
    yield from start_serve(tmp_path, clamd_daemon)


@pytest.fixture
def served_json(tmp_path, clamd_daemon):
    yield from start_serve(tmp_path, clamd_daemon, 'log_format = "json"\nnode_name = "node-7"\n')


def start_serve(tmp_path, clamd_daemon, server_settings: str = ""):
    web, s3, objects = free_port(), free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[server]\nlisten = "127.0.0.1:{web}"\ns3_listen = "127.0.0.1:{s3}"\n'
        f'data_dir = "{tmp_path / "var"}"\nworkers = 1\n{server_settings}'
        f"[storage]\nembedded_port = {objects}\n"
        f'[antivirus]\nclamd = "{clamd_daemon.address}"\n'
    )
    # Output to a file, not a pipe: nobody reads a pipe while a test runs, and a full one would
    # stall every process of the node in the middle of a log line.
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gshare"), "--config", str(config), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    yield process, web, s3, tmp_path / "var"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def finished(process, seconds: float) -> str:
    """Wait for gshare serve to end; return what it wrote."""
    process.wait(timeout=seconds)
    return process.log.read_text()


def test_serve_starts_everything_on_embedded_defaults_and_stops_cleanly(served):
    process, web, s3, var = served
    status, body = wait_for(f"http://127.0.0.1:{web}/readyz", process)
    assert status == 200, body
    assert body["database"]["backend"] == "sqlite" and body["object_store"]["up"]
    assert body["scanner"]["up"]
    # what serve runs beside the web app is vouched for too: its S3 listener and scan worker
    assert body["s3_listener"] == {"up": True, "address": f"127.0.0.1:{s3}"}
    assert body["scan_workers"]["up"]
    assert (var / "gshare.db").exists() and (var / "secret_key").stat().st_mode & 0o077 == 0
    s3_status, _ = wait_for(f"http://127.0.0.1:{s3}/", process)
    assert s3_status == 403  # anonymous requests are refused with S3's AccessDenied
    # gunicorn's control sockets live with the site, so two sites on one machine do not share
    eventually(
        lambda: (var / "gunicorn.ctl").is_socket() and (var / "gunicorn-s3.ctl").is_socket(),
        what="gunicorn's control sockets",
    )
    process.send_signal(signal.SIGTERM)
    output = finished(process, 60)
    assert process.returncode == 0, output[-2000:]
    leftovers = subprocess.run(["pgrep", "-f", str(var)], capture_output=True, text=True).stdout
    assert leftovers == "", "the embedded S3 server or a worker outlived gshare serve"


def test_the_s3_listener_answers_a_health_path_for_load_balancers(served):
    process, web, s3, _ = served
    wait_for(f"http://127.0.0.1:{web}/readyz", process)
    status, body = wait_for(f"http://127.0.0.1:{s3}/_gshare/healthz", process)
    assert (status, body) == (200, {"status": "ok"})
    status, _ = get(f"http://127.0.0.1:{s3}/")
    assert status == 403  # everything else still needs a signature


def test_json_logs_name_node_process_request_and_metrics_count_both_listeners(served_json):
    process, web, s3, _ = served_json
    assert wait_for(f"http://127.0.0.1:{web}/readyz", process)[0] == 200
    request = urllib.request.Request(
        f"http://127.0.0.1:{web}/login", headers={"X-Request-ID": "lb-42"}
    )
    with urllib.request.urlopen(request, timeout=5) as page:
        assert page.headers["X-Request-ID"] == "lb-42"  # the proxy's id, handed back
    assert get(f"http://127.0.0.1:{s3}/")[0] == 403
    login_count = 'listener="web",method="GET",route="auth.login",status="200"} 1.0'

    def scraped() -> str | None:  # a request is counted once its last byte has gone
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/metrics", timeout=5) as page:
            text = page.read().decode()
        return text if f"gshare_http_requests_total{{{login_count}" in text else None

    exposition = eventually(scraped, what="the sign-in page counted")
    assert f"gshare_http_requests_total{{{login_count}" in exposition
    assert 'listener="s3",method="GET",route="unmatched",status="403"' in exposition
    assert (
        'gshare_http_request_duration_seconds_bucket{le="0.005",listener="web",route="auth.login"}'
        in exposition
    )
    assert 'gshare_up{component="s3_listener"} 1.0' in exposition
    process.send_signal(signal.SIGTERM)
    lines = [
        json.loads(line) for line in finished(process, 60).splitlines() if line.startswith("{")
    ]
    login = [line for line in lines if line.get("route") == "auth.login"]
    assert login, lines[-20:]
    assert login[0]["request_id"] == "lb-42" and login[0]["status"] == 200
    assert login[0]["node"] == "node-7" and login[0]["process"].startswith("web[")
    assert login[0]["duration_ms"] >= 0 and login[0]["logger"] == "gshare.request"
    s3_lines = [line for line in lines if line.get("listener") == "s3"]
    assert (
        s3_lines and s3_lines[0]["status"] == 403
    )  # readyz's probes of S3 are not logged and s3_lines[0]["process"].startswith("s3[")
    assert any(line["process"].startswith("serve[") for line in lines)  # gunicorn's arbiter too


def test_a_dead_child_stops_serve_with_an_error_so_its_supervisor_restarts_it(served):
    process, web, s3, var = served
    assert wait_for(f"http://127.0.0.1:{web}/readyz", process)[0] == 200
    s3_master = child_listening_on(process.pid, s3)
    assert s3_master is not None, "the S3 endpoint runs in a child of its own"
    os.kill(s3_master, signal.SIGKILL)
    output = finished(process, 90)
    assert process.returncode != 0, output[-2000:]
    assert "gshare-s3" in output and "ended; stopping gshare serve" in output
    leftovers = subprocess.run(["pgrep", "-f", str(var)], capture_output=True, text=True).stdout
    assert leftovers == "", "a child outlived gshare serve"


def test_children_end_with_serve_even_after_a_kill_9(served):
    process, web, s3, var = served
    assert wait_for(f"http://127.0.0.1:{web}/readyz", process)[0] == 200
    children = [child.pid for child in psutil.Process(process.pid).children()]
    assert len(children) >= 3, "serve runs the object store, the S3 endpoint and a worker"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    for pid in children:
        eventually(lambda pid=pid: is_gone(pid), timeout=40, interval=0.2, what=f"{pid} to end")
    assert [pid for pid in children if is_gone(pid)] == children


def test_a_taken_port_stops_serve_with_a_clear_error(tmp_path, clamd_daemon):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.toml"
        config.write_text(
            f'[server]\nlisten = "127.0.0.1:{free_port()}"\ns3_listen = "127.0.0.1:{port}"\n'
            f'data_dir = "{tmp_path / "var"}"\n[antivirus]\nclamd = "{clamd_daemon.address}"\n'
        )
        gshare = str(Path(sys.executable).parent / "gshare")
        result = subprocess.run(
            [gshare, "--config", str(config), "serve"], capture_output=True, text=True, timeout=60
        )
    assert result.returncode != 0
    assert f"127.0.0.1:{port} ([server] s3_listen)" in result.stderr, result.stderr


def child_listening_on(parent: int, port: int) -> int | None:
    """Return the pid of the direct child of a process that listens on a port."""
    for child in psutil.Process(parent).children():
        listening = [c for c in child.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
        if any(c.laddr.port == port for c in listening):
            return child.pid
    return None


def is_gone(pid: int) -> bool:
    """Tell whether a process has ended (reaped, or a zombie of init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # the state, after "(name)"
