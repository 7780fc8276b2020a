"""CPU and SQL statements per S3 request, in-process: where the endpoint's own time goes.

    .venv/bin/python bench/bench_s3_requests.py [--requests 300] [--database URL] [--profile OUT]
                                                [--show-sql]

Calls the S3 endpoint's WSGI app directly (no HTTP server), with requests signed as the aws
cli signs them, against a real S3 server and a real clamd. For each kind of request it prints
the median CPU time of this process (the S3 server's and clamd's time are theirs, not counted),
the median wall time (theirs included) and the SQL statements it ran. bench_s3.py measures the
whole path; this one tells which request costs what, which is what a change to the endpoint's
hot paths should move. --profile OUT writes a cProfile (CPU time) of each kind of request to
OUT.<n> (n: 1 for the first kind printed...); --show-sql prints the SQL of one request of each.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from bench_s3 import bench_world, prepare_gshare  # noqa: E402
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from sqlalchemy import event  # noqa: E402

import storage  # noqa: E402
from gshare.core.context import Gshare, make_scanner
from web.s3.app import create_s3_app  # noqa: E402

HOST = "127.0.0.1:9000"
MiB = 1024 * 1024


class Caller:
    """Sign requests as the aws cli does and hand them to the WSGI app; time (and profile, when
    given one) the app alone: the signing is the client's work, not the endpoint's."""

    def __init__(self, app, key_id: str, secret: str):
        self.app, self.credentials = app, Credentials(key_id, secret)
        self.cpu = self.wall = 0.0  # the last call's, in seconds
        self.profile: cProfile.Profile | None = None

    def __call__(self, *request, **options) -> tuple[str, bytes]:
        """Sign a request (the arguments of environ) and send it."""
        return self.send(self.environ(*request, **options))

    def environ(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        query: str = "",
        headers: dict | None = None,
    ) -> dict:
        """Return the WSGI environ of a request, signed as the aws cli signs it."""
        url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
        request = AWSRequest(
            method=method, url=url, data=body, headers={"Host": HOST, **(headers or {})}
        )
        request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        S3SigV4Auth(self.credentials, "s3", "us-east-1").add_auth(request)
        environ = {
            "REQUEST_METHOD": method,
            "RAW_URI": path + (f"?{query}" if query else ""),
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "9000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in request.headers.items():
            name = name.upper().replace("-", "_")
            if name not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
                name = f"HTTP_{name}"
            environ[name] = value
        return environ

    def send(self, environ: dict) -> tuple[str, bytes]:
        """Hand a request to the app; return its status line and body."""
        status = []
        start, wall = time.process_time(), time.perf_counter()
        if self.profile is not None:
            self.profile.enable()
        chunks = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
            if self.profile is not None:
                self.profile.disable()
            self.cpu, self.wall = time.process_time() - start, time.perf_counter() - wall
        return status[0], data


class Statements:
    """Count the SQL statements an engine runs."""

    def __init__(self, engine, show: bool = False):
        self.count, self.show, self.seen = 0, show, []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        self.count += 1
        if self.show:
            self.seen.append(" ".join(statement.split())[:160])


def measure(
    name: str, call, runs: int, statements: Statements, caller: Caller, profile_to=None
) -> None:
    """Print the median CPU ms, wall ms and statements per call of call(i), counting the app's
    work only; profile the app's work into profile_to when given."""
    call(-1)  # warm-up: caches, pools, the first statement compilations
    if statements.show:
        statements.seen.clear()
        call(-2)
        print("\n".join(f"    {sql}" for sql in statements.seen))
    caller.profile = cProfile.Profile(time.process_time) if profile_to else None
    times, walls, before = [], [], statements.count
    for i in range(runs):
        call(i)
        times.append(caller.cpu * 1000)
        walls.append(caller.wall * 1000)
    per_call = (statements.count - before) / runs
    print(
        f"{name:<34} {statistics.median(times):6.2f} ms CPU {statistics.median(walls):6.2f} ms"
        f" wall  {per_call:5.1f} statements"
    )
    if caller.profile is not None:
        caller.profile.dump_stats(profile_to)
        caller.profile = None
        print(f"    profile: {profile_to} (python -m pstats)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--profile", help="write a cProfile of each kind of request to OUT.<n>")
    parser.add_argument("--show-sql", action="store_true", help="print each request's SQL")
    args = parser.parse_args()
    with bench_world(args.database) as world:
        run(args, *world)


def in_process(tmp: Path, endpoint: str, keys, clamd: str, url: str) -> tuple[Caller, Gshare]:
    """Return a Caller of the S3 endpoint's WSGI app on bench_world's store, clamd and
    database (prepared by bench_s3), and the Gshare behind it."""
    config, key_id, secret = prepare_gshare(tmp, endpoint, keys, clamd, url)
    store = storage.S3Store(endpoint, *keys, bucket=config.storage.bucket)
    gs = Gshare(config, store, scanner=make_scanner(config))
    return Caller(create_s3_app(config, gs), key_id, secret), gs


def run(args, tmp: Path, endpoint: str, keys, clamd: str, url: str) -> None:
    call, gs = in_process(tmp, endpoint, keys, clamd, url)
    config = gs.config
    statements = Statements(gs.engine, args.show_sql)
    kinds = iter(range(1, 100))

    def profile() -> str | None:
        return f"{args.profile}.{next(kinds)}" if args.profile else None

    runs = args.requests

    def text(i: int) -> bytes:
        return os.urandom(2048).hex().encode()  # 4 KiB of text, as bench_s3's sync sends

    def ok(answer: tuple[str, bytes], *expected: str) -> None:
        assert answer[0].split()[0] in expected, answer

    ok(call("PUT", "/finance/folder/"), "200")  # the folder the files go in
    measure(
        "PutObject, new key (4 KiB text)",
        lambda i: ok(call("PUT", f"/finance/folder/new{i}.txt", text(i)), "200"),
        runs,
        statements,
        call,
        profile(),
    )
    measure(
        "PutObject, new version of a key",
        lambda i: ok(call("PUT", "/finance/folder/new0.txt", text(i)), "200"),
        runs,
        statements,
        call,
        profile(),
    )
    measure(
        "HeadObject",
        lambda i: ok(call("HEAD", "/finance/folder/new1.txt"), "200"),
        runs,
        statements,
        call,
        profile(),
    )
    measure(
        "GetObject, whole (4 KiB)",
        lambda i: ok(call("GET", "/finance/folder/new1.txt"), "200"),
        runs,
        statements,
        call,
        profile(),
    )
    measure(
        "GetObject, a range",
        lambda i: ok(
            call("GET", "/finance/folder/new1.txt", headers={"Range": "bytes=0-1023"}), "206"
        ),
        runs,
        statements,
        call,
        profile(),
    )
    measure(
        f"ListObjectsV2, {runs} keys",
        lambda i: ok(call("GET", "/finance", query="list-type=2&prefix=folder%2F"), "200"),
        max(runs // 20, 5),
        statements,
        call,
        profile(),
    )
    started = call("POST", "/finance/folder/big.bin", query="uploads=")
    ok(started, "200")
    upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", started[1]).group(1).decode()
    part = os.urandom(MiB)
    measure(
        "UploadPart, 1 MiB",
        lambda i: ok(
            call(
                "PUT",
                "/finance/folder/big.bin",
                part,
                query=f"partNumber={i + 3}&uploadId={quote(upload_id, safe='')}",
            ),
            "200",
        ),
        max(runs // 10, 5),
        statements,
        call,
        profile(),
    )
    print(f"database: {config.database_url.split(':')[0]}")


if __name__ == "__main__":
    main()
