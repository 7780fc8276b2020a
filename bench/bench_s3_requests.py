"""CPU and SQL statements per S3 request, in-process: where the endpoint's own time goes.

    .venv/bin/python bench/bench_s3_requests.py [--requests 300] [--database URL] [--profile OUT]

Calls the S3 endpoint's WSGI app directly (no HTTP server), with requests signed as the aws
cli signs them, against a real S3 server and a real clamd. For each kind of request it prints
the median CPU time of this process (the S3 server's and clamd's time are theirs, not counted)
and the SQL statements it ran. bench_s3.py measures the whole path; this one tells which
request costs what, which is what a change to the endpoint's hot paths should move.
--profile OUT writes a cProfile (CPU time) of the PutObject runs to OUT.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

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


class Caller:
    """Sign requests as the aws cli does and hand them to the WSGI app."""

    def __init__(self, app, key_id: str, secret: str):
        self.app, self.credentials = app, Credentials(key_id, secret)

    def __call__(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        query: str = "",
        headers: dict | None = None,
    ) -> tuple[str, bytes]:
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
        status = []
        chunks = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return status[0], data


class Statements:
    """Count the SQL statements an engine runs."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1


def measure(name: str, call, runs: int, statements: Statements, profile=None) -> None:
    """Print the median CPU ms and the statements per call of call(i)."""
    call(-1)  # warm-up: caches, pools, the first statement compilations
    times, before = [], statements.count
    for i in range(runs):
        start = time.process_time()
        if profile is not None:
            profile.enable()
        call(i)
        if profile is not None:
            profile.disable()
        times.append((time.process_time() - start) * 1000)
    per_call = (statements.count - before) / runs
    print(f"{name:<34} {statistics.median(times):6.2f} ms CPU  {per_call:5.1f} statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--profile", help="write a cProfile of the PutObject runs to OUT")
    args = parser.parse_args()
    with bench_world(args.database) as world:
        run(args, *world)


def run(args, tmp: Path, endpoint: str, keys, clamd: str, url: str) -> None:
    config, key_id, secret = prepare_gshare(tmp, endpoint, keys, clamd, url)
    store = storage.S3Store(endpoint, *keys, bucket=config.storage.bucket)
    gs = Gshare(config, store, scanner=make_scanner(config))
    call = Caller(create_s3_app(config, gs), key_id, secret)
    statements = Statements(gs.engine)
    profile = cProfile.Profile(time.process_time) if args.profile else None
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
        profile,
    )
    measure(
        "PutObject, new version of a key",
        lambda i: ok(call("PUT", "/finance/folder/new0.txt", text(i)), "200"),
        runs,
        statements,
    )
    measure(
        "HeadObject",
        lambda i: ok(call("HEAD", "/finance/folder/new1.txt"), "200"),
        runs,
        statements,
    )
    measure(
        "GetObject, whole (4 KiB)",
        lambda i: ok(call("GET", "/finance/folder/new1.txt"), "200"),
        runs,
        statements,
    )
    measure(
        "GetObject, a range",
        lambda i: ok(
            call("GET", "/finance/folder/new1.txt", headers={"Range": "bytes=0-1023"}), "206"
        ),
        runs,
        statements,
    )
    measure(
        f"ListObjectsV2, {runs} keys",
        lambda i: ok(call("GET", "/finance", query="list-type=2&prefix=folder%2F"), "200"),
        max(runs // 20, 5),
        statements,
    )
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile of the PutObject runs: {args.profile} (python -m pstats)")
    print(f"database: {config.database_url.split(':')[0]}")


if __name__ == "__main__":
    main()
