"""The web front end: a big upload through the browser's chunked path against the minio SDK
straight to the S3 server, and the time to render a folder of 10,000 files.

    .venv/bin/python bench/bench_web.py [--size-mib 2048] [--rounds 2] [--postgres URL]
                                        [--skip-upload] [--skip-folder]

- Upload: the same HTTP calls as the page's script (web/static/uploads.js): sign in with the form,
  POST /api/v1/uploads, GET its parts, PUT 8 MiB parts one after another with the session
  cookie and CSRF header, POST complete; the server is gunicorn as `gshare serve` runs it, in a
  process of its own whose RSS (with its children) is sampled. Then the minio SDK puts the same
  size straight to the same S3 server (16 MiB parts, its default 3 parts in parallel).
- Folder: GET /f/<id> of a folder of 10,000 files (first page, a page deep in, sorted by size)
  through the Flask app, on SQLite and PostgreSQL: median milliseconds of the whole request.

Goals (issue 4): upload >= 0.8 of direct, server RSS flat; folder page < 200 ms median.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

import urllib3  # noqa: E402
from bench_s3 import TreeRSS, free_port  # noqa: E402
from bench_tree import FILES, _files  # noqa: E402
from common import MiB, Synthetic, median_ms, on_both_databases, s3_server  # noqa: E402

import storage  # noqa: E402
from gshare.core import db as database  # noqa: E402
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Node
from gshare.files import folders  # noqa: E402
from gshare.org import (
    departments,  # noqa: E402
    spaces,  # noqa: E402
    users,  # noqa: E402
)
from web.serve import WebServer

CHUNK = 8 * MiB  # the page script's part size (CHUNK in web/static/uploads.js)
PARALLEL = 3  # and how many parts it sends at once (PARALLEL there)
PASSWORD = "bench password 2024"
RUNS = 30
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class Body:
    """`size` synthetic bytes as an iterable of 1 MiB chunks with a length (sent as is)."""

    def __init__(self, size: int, block: bytes):
        self.size, self.block = size, block

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        stream = Synthetic(self.size, self.block)
        while chunk := stream.read(MiB):
            yield chunk


class Browser:
    """What the page's script does over HTTP: a session cookie and the CSRF header."""

    def __init__(self, base: str):
        self.base, self.cookies, self.csrf = base, {}, ""
        self.http = urllib3.PoolManager(maxsize=PARALLEL, retries=False, timeout=600)

    def call(self, method: str, path: str, body=None, headers=None, expect=200):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-CSRFToken": self.csrf,
            "Accept": "application/json",
            **(headers or {}),
        }
        response = self.http.request(
            method, self.base + path, body=body, headers=headers, redirect=False
        )
        for header in response.headers.getlist("Set-Cookie"):
            self.cookies.update({k: m.value for k, m in SimpleCookie(header).items()})
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {response.data[:300]!r}")
        return response

    def sign_in(self, username: str) -> None:
        page = self.call("GET", "/login").data.decode()
        form = {
            "username": username,
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page).group(1),
        }
        self.call(
            "POST",
            "/login",
            urlencode(form),
            {"Content-Type": "application/x-www-form-urlencoded"},
            expect=302,
        )
        self.csrf = _CSRF.search(self.call("GET", "/").data.decode()).group(1)

    def json(self, method: str, path: str, data=None, expect=200) -> dict:
        body = json.dumps(data) if data is not None else None
        headers = {"Content-Type": "application/json"} if body else {}
        return self.call(method, path, body, headers, expect).json()

    def upload(self, folder: int, name: str, size: int) -> dict:
        """Upload a file in parts exactly as uploads.js does."""
        token = self.json(
            "POST",
            "/api/v1/uploads",
            {"folder": folder, "name": name, "path": "", "size": size, "content_type": None},
            expect=201,
        )["token"]
        self.json("GET", f"/api/v1/uploads/{token}/parts")
        block = Synthetic(0).block

        def put(number: int) -> None:
            length = min(CHUNK, size - (number - 1) * CHUNK)
            self.call(
                "PUT",
                f"/api/v1/uploads/{token}/parts/{number}",
                Body(length, block),
                {"Content-Length": str(length)},
            )

        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(put, range(1, -(-size // CHUNK) + 1)))
        return self.json("POST", f"/api/v1/uploads/{token}/complete", {}, expect=201)


class QuietWebServer(WebServer):
    """The web server as `gshare serve` runs it (gunicorn, gthread), without the access log."""

    def load_config(self):
        super().load_config()
        self.cfg.set("accesslog", None)


def prepare(tmp: Path, url: str) -> tuple[Config, dict]:
    """Make a database at head with one person in a department; return config and names."""
    config = Config().replace(
        database={"url": url},
        quota={"personal_gb": 0.0, "department_gb": 0.0},
        server={
            "data_dir": str(tmp / "var"),
            "listen": f"127.0.0.1:{free_port()}",
            "workers": 1,
            "secret_key": secrets.token_urlsafe(48),
        },
    )
    database.upgrade(url)
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        dep = departments.add_department(ctx, OPERATOR, "Bench", slug=f"b-{uuid.uuid4().hex[:6]}")
        person = users.add_user(ctx, OPERATOR, f"u{dep.id}", "Bench", dep, password=PASSWORD)
        root = spaces.root_of(ctx.db, departments.department_space(ctx, dep))
        big = folders.create_folder(ctx, OPERATOR, root, "big")
        names = {"username": person.username, "big": big.id}
    gs.engine.dispose()
    return config, names


def start_web(config: Config, endpoint: str, keys):
    import multiprocessing
    import socket

    process = multiprocessing.get_context("fork").Process(
        target=lambda: QuietWebServer(config, endpoint, keys).run(), daemon=True
    )
    process.start()
    host, port = config.server.listen.split(":")
    for _ in range(400):
        with socket.socket() as sock:
            if sock.connect_ex((host, int(port))) == 0:
                return process
        time.sleep(0.05)
    raise RuntimeError("the web server did not start")


def direct_upload(client, size: int) -> float:
    """Return the seconds the minio SDK takes to put `size` bytes straight to the S3 server."""
    start = time.perf_counter()
    client.put_object("direct", "big.bin", Synthetic(size), size, part_size=16 * MiB)
    return time.perf_counter() - start


def browser_upload(browser: Browser, folder: int, size: int) -> float:
    """Return the seconds of the chunked upload through the web server."""
    start = time.perf_counter()
    done = browser.upload(folder, f"big-{uuid.uuid4().hex[:6]}.bin", size)
    seconds = time.perf_counter() - start
    assert done["size"] == size, done
    return seconds


def upload_bench(size_mib: int, rounds: int) -> None:
    """Alternate the two uploads `rounds` times on one S3 server; print the best of each."""
    from minio import Minio

    size, web, direct = size_mib * MiB, [], []
    with tempfile.TemporaryDirectory() as tmp, s3_server() as (endpoint, *keys):
        config, names = prepare(Path(tmp), f"sqlite:///{tmp}/gshare.db")
        storage.S3Store(endpoint, *keys, bucket=config.storage.bucket).ensure_bucket()
        client = Minio(urlparse(endpoint).netloc, *keys, secure=False)
        client.make_bucket("direct")
        process = start_web(config, endpoint, keys)
        try:
            browser = Browser(f"http://{config.server.listen}")
            browser.sign_in(names["username"])
            rss = TreeRSS(process.pid)
            for _ in range(rounds):
                direct.append(direct_upload(client, size))
                web.append(browser_upload(browser, names["big"], size))
            rss.stop()
        finally:
            process.terminate()
            process.join(timeout=30)
    print(
        f"{size_mib} MiB upload, best of {rounds}: browser path {size_mib / min(web):7.1f} MiB/s"
        f"   minio SDK direct {size_mib / min(direct):7.1f} MiB/s   "
        f"ratio {min(direct) / min(web):.2f}"
    )
    pairs = [d / w for w, d in zip(web, direct, strict=True)]
    print(
        "  each round (browser / direct MiB/s, ratio): "
        + ", ".join(
            f"{size_mib / w:.0f} / {size_mib / d:.0f} = {r:.2f}"
            for w, d, r in zip(web, direct, pairs, strict=True)
        )
        + f"; median ratio {statistics.median(pairs):.2f}"
    )
    print(
        f"web server RSS (gunicorn arbiter + worker): {rss.start / MiB:.0f} MiB signed in, "
        f"before the first upload; peak {rss.peak / MiB:.0f} MiB over all uploads"
    )


def folder_bench(label: str, url: str, tmp: Path) -> None:
    """Print the median time of GET /f/<id> for a folder of 10,000 files."""
    from web import create_app

    config, names = prepare(tmp, url)
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        big = ctx.db.get(Node, names["big"])
        _files(ctx, users.find_user(ctx, names["username"]), big)
    web = create_app(config, gs).test_client()
    page = web.get("/login").get_data(as_text=True)
    web.post(
        "/login",
        data={
            "username": names["username"],
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page).group(1),
        },
    )
    results = {
        what: median_ms(lambda q=query: _get(web, f"/f/{names['big']}{q}"))
        for what, query in (
            ("first page", ""),
            ("page 25", "?page=25"),
            ("by size, desc", "?sort=size&desc=1"),
        )
    }
    print(
        f"{label:10} folder of {FILES:,} files, page of 200: "
        + "   ".join(f"{what} {ms:6.1f} ms" for what, ms in results.items())
    )
    gs.engine.dispose()


def _get(web, path: str) -> None:
    response = web.get(path)
    assert response.status_code == 200 and b"file 0" in response.data, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-folder", action="store_true")
    args = parser.parse_args()
    if not args.skip_folder:
        folder_benches(args.postgres)
    if not args.skip_upload:
        upload_bench(args.size_mib, args.rounds)


def folder_benches(postgres: str) -> None:
    """Run the folder page benchmark on SQLite and on a fresh PostgreSQL database."""
    on_both_databases(folder_bench, postgres)


if __name__ == "__main__":
    main()
