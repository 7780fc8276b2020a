"""Instructions per S3 request, counted by valgrind's callgrind: the endpoint's own work, in a
measure that the machine's load does not move.

    .venv/bin/python bench/bench_s3_instructions.py [--requests 100] [--kind put version head get]
                                                    [--database URL]

CPU time on the shared 2-core test machine moves by a fifth to a half from one run to the next,
so a change that saves 5% of a request cannot be seen in bench_s3_requests.py's milliseconds.
Instructions counted by callgrind move by under 1%. For each kind of request two runs under
callgrind send requests signed beforehand to the S3 endpoint's WSGI app in-process (as
bench_s3_requests.py does, against a real S3 server and clamd, which are not counted): one run
sends 10, the other 10 + --requests. The difference divided by --requests is what one request
costs; start-up, imports, the signing and the first requests' compilations cancel out. It is
printed with where the instructions go, by library: libmagic, the C library (mostly the regular
expressions libmagic runs on text), the Python interpreter, OpenSSL, SQLite.

Instructions are not time. libmagic's loops run several instructions a cycle and the Python
interpreter far fewer, and time in the kernel (sockets, files) is not counted: a 4 KiB text
PutObject whose instructions are two thirds libmagic's (with the C library's searches it runs)
spends a fifth to a quarter of its CPU time there.
Compare two commits with this (a git worktree of each), not two machines. Needs valgrind
(Debian's package); each kind takes 3 to 4 minutes, its two runs in parallel.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

KINDS = {
    "put": "PutObject, new key (4 KiB text)",
    "version": "PutObject, new version of a key",
    "head": "HeadObject",
    "get": "GetObject, whole (4 KiB)",
}
BASE = 10  # requests in the shorter run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--kind", nargs="+", choices=sorted(KINDS), default=["put", "head"])
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # kind, count, signed
    args = parser.parse_args()
    if args.child:
        send(args.child[0], int(args.child[1]), int(args.child[2]), args.database)
        return
    for kind in args.kind:
        short, long = counted(kind, (BASE, BASE + args.requests), args.database)
        per_request = {lib: (long[lib] - short[lib]) / args.requests for lib in long}
        total = sum(per_request.values())
        print(f"{KINDS[kind]:<34} {total / 1e6:6.2f} M instructions per request")
        for lib, count in sorted(per_request.items(), key=lambda item: -item[1])[:6]:
            print(f"    {count / 1e6:6.2f} M {100 * count / total:5.1f}%  {lib}")
    print(f"database: {'postgresql' if args.database else 'sqlite'}")


def counted(kind: str, sizes: tuple[int, int], database: str | None) -> list[dict]:
    """Run the child under callgrind once per size, both at once; return the instructions of
    each run by library."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for size in sizes:
            out = Path(tmp) / f"callgrind.{size}"
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                kind,
                str(size),
                str(max(sizes)),
                *(["--database", database] if database else []),
            ]
            env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dicts, the same work
            log = open(Path(tmp) / f"log.{size}", "w+")  # noqa: SIM115  (closed below)
            runs.append((subprocess.Popen(command, env=env, stdout=log, stderr=log), out, log))
        results = []
        for process, out, log in runs:
            with log:
                if process.wait() != 0:
                    log.seek(0)
                    raise SystemExit(f"the run under callgrind failed:\n{log.read()[-3000:]}")
            results.append(by_library(out))
        return results


def by_library(out: Path) -> dict[str, int]:
    """Sum a callgrind profile's instructions by the library they ran in."""
    listing = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    totals: dict[str, int] = collections.Counter()
    for line in listing.splitlines():
        match = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S.*\[(.+)\]\s*$", line)
        if match:
            library = re.sub(r"(\.cpython-[^.]*)?\.so.*$", "", Path(match.group(2)).name)
            totals[library] += int(match.group(1).replace(",", ""))
    return totals


def send(kind: str, count: int, signed: int, database: str | None) -> None:
    """The child: make a world, sign `signed` requests (the longest run's: both runs sign as
    many), then send `count` of them."""
    from bench_s3 import bench_world
    from bench_s3_requests import in_process

    with bench_world(database) as world:
        caller, _gshare = in_process(*world)

        def ok(answer: tuple[str, bytes]) -> None:
            assert answer[0].startswith("200"), answer

        ok(caller("PUT", "/finance/folder/"))
        for i in range(3):  # what the requests read, and the first compilations
            ok(caller("PUT", f"/finance/folder/warm{i}.txt", text()))
            ok(caller("HEAD", f"/finance/folder/warm{i}.txt"))
            ok(caller("GET", f"/finance/folder/warm{i}.txt"))
        requests = [request(caller, kind, i) for i in range(signed)]
        for environ in requests[:count]:
            ok(caller.send(environ))


def request(caller, kind: str, i: int) -> dict:
    if kind == "put":
        return caller.environ("PUT", f"/finance/folder/new{i}.txt", text())
    if kind == "version":
        return caller.environ("PUT", "/finance/folder/warm0.txt", text())
    if kind == "head":
        return caller.environ("HEAD", "/finance/folder/warm1.txt")
    return caller.environ("GET", "/finance/folder/warm1.txt")


def text() -> bytes:
    return os.urandom(2048).hex().encode()  # 4 KiB of text, as bench_s3's sync sends


if __name__ == "__main__":
    main()
