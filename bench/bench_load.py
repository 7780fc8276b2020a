"""Load after the hardening (issue 10): 16 S3 clients each putting 100 small files while 4
people upload through the web page's chunked path, against gunicorn as `gshare serve` runs it,
on SQLite and on PostgreSQL. Prints p50 and p99 of the PUTs, the web uploads' times, and the
errors (the goal: none).

    .venv/bin/python bench/bench_load.py [--clients 16] [--puts 100] [--web 4] [--web-mib 24]
                                         [--database URL ...]   # default: SQLite and PostgreSQL

Each run gets a fresh S3 server, clamd (inline scanning on, as by default) and database.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from bench_s3 import bench_world, client, free_port, prepare_gshare, start_endpoint  # noqa: E402
from bench_web import PASSWORD, Browser, start_web  # noqa: E402

from gshare.core.actor import OPERATOR  # noqa: E402
from gshare.core.context import Gshare  # noqa: E402
from gshare.core.models import Department  # noqa: E402
from gshare.org import departments, spaces, users  # noqa: E402

POSTGRES = os.environ.get("GSHARE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
SMALL = 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--puts", type=int, default=100)
    parser.add_argument("--web", type=int, default=4)
    parser.add_argument("--web-mib", type=int, default=24)
    parser.add_argument("--database", action="append", help="a PostgreSQL server URL, or 'sqlite'")
    args = parser.parse_args()
    logging.getLogger("gshare.request").setLevel(logging.WARNING)  # no line per request
    for database in args.database or ["sqlite", POSTGRES]:
        with bench_world(None if database == "sqlite" else database) as world:
            run(args, *world)


def run(args, tmp: Path, endpoint: str, keys, clamd: str, url: str) -> None:
    config, key_id, secret = prepare_gshare(tmp, endpoint, keys, clamd, url)
    config = config.replace(
        server={"listen": f"127.0.0.1:{free_port()}"},
        quota={"department_gb": 0.0, "personal_gb": 0.0},
    )
    people, folder = _web_people(config, args.web)
    s3_process = start_endpoint(config, endpoint, keys)
    web_process = start_web(config, endpoint, keys)
    try:
        s3_url = f"http://{config.server.s3_listen}"
        put_times, put_errors = [], []
        web_times, web_errors = [], []
        lock = threading.Lock()

        def s3_client(number: int) -> None:
            s3 = client(s3_url, key_id, secret)
            for n in range(args.puts):
                start = time.perf_counter()
                try:
                    s3.put_object(
                        Bucket="finance", Key=f"load/c{number}/f{n}.txt", Body=os.urandom(SMALL)
                    )
                except Exception as exc:  # counted and shown: the goal is none
                    with lock:
                        put_errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    put_times.append((time.perf_counter() - start) * 1000)

        def web_person(username: str) -> None:
            browser = Browser(f"http://{config.server.listen}")
            try:
                browser.sign_in(username)
                start = time.perf_counter()
                browser.upload(folder, f"{username}.bin", args.web_mib * 1024 * 1024)
                with lock:
                    web_times.append(time.perf_counter() - start)
            except Exception as exc:
                with lock:
                    web_errors.append(f"{type(exc).__name__}: {exc}")

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients + args.web) as pool:
            jobs = [pool.submit(s3_client, n) for n in range(args.clients)]
            jobs += [pool.submit(web_person, name) for name in people]
            for job in jobs:
                job.result()
        elapsed = time.perf_counter() - started
        backend = url.split(":")[0].split("+")[0]
        quantiles = statistics.quantiles(put_times, n=100) if len(put_times) > 1 else [0] * 99
        print(
            f"\n{backend}: {args.clients} S3 clients x {args.puts} PUTs of {SMALL} B "
            f"+ {args.web} web uploads of {args.web_mib} MiB, in {elapsed:.1f} s"
        )
        print(
            f"  PUT p50 {quantiles[49]:.1f} ms, p99 {quantiles[98]:.1f} ms, "
            f"{len(put_times)} ok, {len(put_errors)} errors"
        )
        print(
            f"  web uploads: {', '.join(f'{t:.1f} s' for t in sorted(web_times))}; "
            f"{len(web_errors)} errors"
        )
        for error in (put_errors + web_errors)[:5]:
            print(f"    {error[:300]}")
    finally:
        for process in (s3_process, web_process):
            process.terminate()
            process.join(timeout=30)


def _web_people(config, count: int) -> tuple[list[str], int]:
    """Add `count` people with passwords in Finance; return their names and Finance's root."""
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        finance = ctx.db.query(Department).filter_by(name="Finance").one()
        names = []
        for n in range(count):
            person = users.add_user(
                ctx, OPERATOR, f"web{n}", f"Web {n}", finance, password=PASSWORD
            )
            names.append(person.username)
        root = spaces.root_of(ctx.db, departments.department_space(ctx, finance))
        folder = root.id
    gs.engine.dispose()
    return names, folder


if __name__ == "__main__":
    main()
