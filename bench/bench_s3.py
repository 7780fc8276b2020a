"""The S3 endpoint against the S3 server behind it, same clients, same machine.

    .venv/bin/python bench/bench_s3.py [--size-mib 1024] [--part-mib 8] [--rounds 4]
                                       [--files 1000] [--heads 300] [--database URL]
                                       [--profile OUT] [--workers N] [--no-inline-scan]
                                       [--pin]

--database takes a PostgreSQL server URL (postgresql+psycopg://postgres@127.0.0.1:5432): the
benchmark makes a fresh database there and drops it at the end. The default is a SQLite file.
--part-mib sets the part and range size of the big object's transfers (8 MiB: boto3's and aws
cli's default); --size-mib 0, --files 0 or --heads 0 skip that part; --profile OUT profiles
the CPU time of every request (each endpoint worker saves OUT.<pid>; read them with
`python -m pstats`). --workers sets the endpoint's gunicorn processes (8 threads each, as
`gshare serve` runs it; by default one per core the endpoint has, as docs/scaling.md sizes
them: a second process on one core costs about 15% more CPU per small PUT); --no-inline-scan
leaves the uploads to the scan queue instead of clamd during the request. --pin gives the
endpoint and clamd the last CPU core and everything else (the S3 server, the clients) the
others, as where gshare runs on nodes of its own: both paths then give the store and the
clients the same cores, and the endpoint's CPU is no longer taken from the store's (on a
2-core machine, unpinned, every CPU second the endpoint spends is one the store and the
client wait for).

- boto3 puts and gets one object of --size-mib through gshare's S3 endpoint (gunicorn, as
  `gshare serve` runs it) and straight to the backing S3 server, --rounds times, the two
  taking turns at going first (the store spends more CPU on whichever upload comes second, and
  the second upload's ratio is 0.1 to 0.15 lower for it: an even number of rounds is fair);
  each round's ratios and their medians are printed, with the CPU each process spent each way,
  and the endpoint's RSS is sampled.
- `aws s3 sync` of --files files of 4 KiB up (inline scanning by a real clamd), then a sync
  with nothing changed, by the aws cli and by `rclone sync --checksum` (rclone starts in
  milliseconds, the aws cli in half a second).
- HeadObject, one client with its connection kept open, --heads times each way.

Goals (issue 13): big object >= 0.9 of direct both ways, RSS flat; sync up >= 0.7 of direct
files/s; the no-change re-sync under 0.5 s; HeadObject under 3 ms more than the store's.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import multiprocessing
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

import boto3  # noqa: E402
import psutil  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402
from common import MiB, Synthetic, s3_server, scratch_postgres  # noqa: E402

import storage  # noqa: E402
from gshare.accounts import access_keys  # noqa: E402
from gshare.core import db as database  # noqa: E402
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.org import (
    departments,  # noqa: E402
    users,  # noqa: E402
)
from tests.fixtures.clamd import ClamdDaemon  # noqa: E402
from web.serve import S3Server


class Full(Synthetic):
    """A synthetic stream whose reads return all that was asked (boto3 takes short reads for
    the end of the stream)."""

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        return b"".join(super(Full, self).read(MiB) for _ in range(-(-n // MiB)))[:n]


class Counter:
    """A writable that counts what it is given and keeps nothing."""

    def __init__(self):
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


class TreeRSS:
    """Sample the RSS of a process and its children every 50 ms."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.start = self.peak = self.now()
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def now(self) -> int:
        procs = [self.root, *self.root.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.now())

    def stop(self) -> None:
        self._stop.set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client(url: str, key: str, secret: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=BotoConfig(s3={"addressing_style": "path"}, max_pool_connections=16),
    )


def prepare_gshare(
    tmp: Path, endpoint: str, keys, clamd: str, url: str, workers: int = 2, inline: bool = True
) -> tuple[Config, str, str]:
    """Make a database with one person and an access key; return config and the key."""
    config = Config().replace(
        database={"url": url},
        server={
            "data_dir": str(tmp / "var"),
            "s3_listen": f"127.0.0.1:{free_port()}",
            "workers": workers,
        },
        antivirus={"clamd": clamd, "scan_while_uploading": inline},
    )
    database.upgrade(url)
    store = storage.S3Store(endpoint, *keys, bucket=config.storage.bucket)
    store.ensure_bucket()
    gs = Gshare(config, store)
    with gs.unit_of_work() as ctx:
        finance = departments.add_department(ctx, OPERATOR, "Finance")
        person = users.add_user(ctx, OPERATOR, "bench", "Bench", finance)
        new = access_keys.create_key(ctx, OPERATOR, person, "bench")
    gs.engine.dispose()
    return config, new.key.key_id, new.secret


class QuietS3Server(S3Server):
    """The S3 listener as `gshare serve` runs it, without the access log, maybe profiled."""

    profile: str | None = None

    def load_config(self):
        super().load_config()
        self.cfg.set("accesslog", None)

    def load(self):
        app = super().load()
        return Profiled(app, self.profile) if self.profile else app


class Profiled:
    """Profile every request (body included) with cProfile; each worker writes OUT.<pid>."""

    def __init__(self, app, output: str):
        self.app, self.output = app, output
        self.stats, self.lock, self.saved = None, threading.Lock(), time.monotonic()

    def __call__(self, environ, start_response):
        profile = cProfile.Profile(time.thread_time)  # CPU time: waits do not count
        profile.enable()
        return _Closing(self.app(environ, start_response), lambda: self._add(profile))

    def _add(self, profile: cProfile.Profile) -> None:
        profile.disable()
        with self.lock:
            if self.stats is None:
                self.stats = pstats.Stats(profile)
            else:
                self.stats.add(profile)
            if time.monotonic() - self.saved > 2:
                self.stats.dump_stats(f"{self.output}.{os.getpid()}")
                self.saved = time.monotonic()


class _Closing:
    def __init__(self, body, done):
        self.body, self.done = body, done

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.done()


def start_endpoint(
    config: Config, endpoint: str, keys, profile: str | None = None, cores: set | None = None
) -> multiprocessing.Process:
    def serve():
        if cores:
            os.sched_setaffinity(0, cores)  # before gunicorn forks its workers
        server = QuietS3Server(config, endpoint, keys)
        server.profile = profile
        server.run()

    process = multiprocessing.get_context("fork").Process(target=serve, daemon=True)
    process.start()
    host, port = config.server.s3_listen.split(":")
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex((host, int(port))) == 0:
                return process
        time.sleep(0.05)
    raise RuntimeError("the S3 endpoint did not start")


def big_object(
    s3, bucket: str, size: int, transfer: TransferConfig, cpu: CpuMeter
) -> tuple[float, float, str, str]:
    """Return (up MiB/s, down MiB/s, CPU up, CPU down) for one object of size bytes."""
    cpu.lap()
    start = time.perf_counter()
    s3.upload_fileobj(Full(size), bucket, "big.bin", Config=transfer)
    up = time.perf_counter() - start
    up_cpu = cpu.lap()
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == size
    cpu.lap()
    start, sink = time.perf_counter(), Counter()
    s3.download_fileobj(bucket, "big.bin", sink, Config=transfer)
    down = time.perf_counter() - start
    assert sink.size == size
    return size / MiB / up, size / MiB / down, up_cpu, cpu.lap()


def aws_sync(url: str, key: str, secret: str, source: Path, target: str) -> float:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    aws = str(Path(sys.executable).parent / "aws")
    start = time.perf_counter()
    subprocess.run(
        [
            aws,
            "--endpoint-url",
            url,
            "s3",
            "sync",
            "--no-progress",
            "--only-show-errors",
            str(source),
            target,
        ],
        env=env,
        check=True,
    )
    return time.perf_counter() - start


def rclone_resync(url: str, key: str, secret: str, source: Path, target: str, tmp: Path) -> float:
    """Time `rclone sync --checksum` of a folder already synced: one listing, nothing sent.
    rclone starts in milliseconds where the aws cli takes half a second of Python, so this is
    the figure that shows what the endpoint adds to a sync with nothing to do."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        "RCLONE_CONFIG": str(tmp / "rclone.conf"),
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": key,
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": secret,
        "RCLONE_CONFIG_BENCH_ENDPOINT": url,
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
    }
    command = ["rclone", "sync", "--checksum", "--retries", "1", str(source), f"bench:{target}"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"rclone failed:\n{done.stderr}")
    return time.perf_counter() - start


# Files each way synced before the measured sync: every endpoint process has then loaded what
# it loads on first use (libmagic's database, the statements it compiles, its connections), as
# a server that has been up a while has, and the store has made its first volumes.
WARM_FILES = 100


def small_files(root: Path, count: int) -> Path:
    for i in range(count):
        folder = root / f"d{i // 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:04d}.txt").write_bytes(os.urandom(2048).hex().encode())
    return root


def head_phase(count: int, gshare_s3, direct) -> None:
    """Median HeadObject time on one small object, through gshare and straight to the store
    (one client each, its connection kept open: what a sync tool checking files sees)."""
    timings = {}
    for name, s3, bucket in (("gshare", gshare_s3, "finance"), ("direct", direct, "direct")):
        s3.put_object(Bucket=bucket, Key="head/probe.txt", Body=b"probe")
        s3.head_object(Bucket=bucket, Key="head/probe.txt")  # warm the connection
        times = []
        for _ in range(count):
            start = time.perf_counter()
            s3.head_object(Bucket=bucket, Key="head/probe.txt")
            times.append((time.perf_counter() - start) * 1000)
        timings[name] = statistics.median(times)
    print(
        f"HeadObject median: gshare {timings['gshare']:.2f} ms, direct {timings['direct']:.2f} ms,"
        f" overhead {timings['gshare'] - timings['direct']:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=4, help="big object transfers each way (even: fair)"
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--heads", type=int, default=300, help="HeadObject calls each way")
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--profile", help="profile the endpoint's requests into OUT.<pid>")
    parser.add_argument(
        "--workers",
        type=int,
        help="the endpoint's processes (default: one per core it runs on, as docs/scaling.md"
        " sizes them: 1 with --pin)",
    )
    parser.add_argument(
        "--no-inline-scan",
        action="store_true",
        help="leave uploads to the scan queue ([antivirus] scan_while_uploading = false)",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the endpoint and clamd on the last core, the store and the clients on the others",
    )
    args = parser.parse_args()
    if args.workers is None:
        args.workers = len(ENDPOINT_CORES) if args.pin else len(os.sched_getaffinity(0))
    if args.pin:
        os.sched_setaffinity(0, OTHER_CORES)  # inherited by the store, clamd, the clients
    with bench_world(args.database) as world:
        run(args, *world)


ENDPOINT_CORES = {max(os.sched_getaffinity(0))}
OTHER_CORES = os.sched_getaffinity(0) - ENDPOINT_CORES


@contextlib.contextmanager
def bench_world(database: str | None):
    """Yield (a temporary folder, the S3 server's endpoint, its keys, clamd's address, the
    database URL): a fresh S3 server, clamd and database (SQLite, or one made on the PostgreSQL
    server given), all gone at the end."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        s3_server() as (endpoint, *keys),
        database_url(database, Path(tmp)) as url,
    ):
        tmp = Path(tmp)
        (tmp / "clamd").mkdir()
        clamd = ClamdDaemon(tmp / "clamd")
        clamd.start()
        try:
            yield tmp, endpoint, keys, clamd.address, url
        finally:
            clamd.stop()


@contextlib.contextmanager
def database_url(server: str | None, tmp: Path):
    """Yield a SQLite URL under tmp, or a fresh database on a PostgreSQL server, dropped after."""
    if not server:
        yield f"sqlite:///{tmp / 'gshare.db'}"
        return
    with scratch_postgres(server.rstrip("/")) as url:
        yield url


def run(args, tmp: Path, endpoint: str, keys, clamd: str, url: str) -> None:
    config, key_id, secret = prepare_gshare(
        tmp, endpoint, keys, clamd, url, args.workers, not args.no_inline_scan
    )
    process = start_endpoint(
        config, endpoint, keys, args.profile, ENDPOINT_CORES if args.pin else None
    )
    if args.pin:
        for proc in psutil.Process().children(recursive=True):
            if proc.name() == "clamd":
                proc.cpu_affinity(list(ENDPOINT_CORES))
        print(
            f"pinned: endpoint and clamd on cores {sorted(ENDPOINT_CORES)}, the rest on"
            f" {sorted(OTHER_CORES)}"
        )
    url = f"http://{config.server.s3_listen}"
    try:
        gshare_s3, direct = client(url, key_id, secret), client(endpoint, *keys)
        direct.create_bucket(Bucket="direct")
        if args.size_mib:
            big_phase(args.size_mib, args.part_mib, args.rounds, gshare_s3, direct, process.pid)
        if args.files:
            sync_phase(args.files, tmp, (url, key_id, secret), (endpoint, *keys), process.pid)
        if args.heads:
            head_phase(args.heads, gshare_s3, direct)
        print(f"database: {config.database_url.split(':')[0]}")
    finally:
        process.terminate()
        process.join(timeout=30)


def big_phase(size_mib: int, part_mib: int, rounds: int, gshare_s3, direct, pid: int) -> None:
    """Send one object up and read it back, through gshare and straight to the store, rounds
    times. The two take turns at going first: the store spends more CPU on whichever upload
    comes second (as much as 2 s per GiB on `weed mini`), so a fixed order would favour one."""
    transfer = TransferConfig(
        multipart_threshold=part_mib * MiB, multipart_chunksize=part_mib * MiB, max_concurrency=8
    )
    cpu, rss = CpuMeter(pid), TreeRSS(pid)
    size = size_mib * MiB
    ratios: dict[str, list[float]] = {"up": [], "down": []}
    for number in range(rounds):
        paths = [("gshare", gshare_s3, "finance"), ("direct", direct, "direct")]
        if number % 2 == 0:
            paths.reverse()
        speeds = {}
        for name, s3, bucket in paths:
            up, down, up_cpu, down_cpu = big_object(s3, bucket, size, transfer, cpu)
            speeds[name] = {"up": up, "down": down}
            print(f"round {number + 1} {name}: CPU seconds up: {up_cpu}; down: {down_cpu}")
        for way in ("up", "down"):
            ratio = speeds["gshare"][way] / speeds["direct"][way]
            ratios[way].append(ratio)
            print(
                f"round {number + 1} {size_mib} MiB {way}: gshare {speeds['gshare'][way]:7.1f}"
                f" MiB/s  direct {speeds['direct'][way]:7.1f} MiB/s  ratio {ratio:.2f}"
            )
    rss.stop()
    print(f"parts and ranges of {part_mib} MiB, 8 at a time; {rounds} rounds, orders alternating")
    for way in ("up", "down"):
        listed = " ".join(f"{ratio:.2f}" for ratio in ratios[way])
        print(f"{way}: median ratio {statistics.median(ratios[way]):.2f} (rounds: {listed})")
    print(f"endpoint RSS: {rss.start / MiB:.0f} MiB at start, peak {rss.peak / MiB:.0f} MiB")


def sync_phase(files: int, tmp: Path, ours: tuple, theirs: tuple, endpoint_pid: int) -> None:
    source = small_files(tmp / "small", files)
    warm = small_files(tmp / "warm", WARM_FILES)
    aws_sync(*theirs, warm, "s3://direct/warm")
    aws_sync(*ours, warm, "s3://finance/warm")
    cpu = CpuMeter(endpoint_pid)
    d_sync = aws_sync(*theirs, source, "s3://direct/small")
    direct_cpu = cpu.lap()
    g_sync = aws_sync(*ours, source, "s3://finance/small")
    gshare_cpu = cpu.lap()
    again = aws_sync(*ours, source, "s3://finance/small")
    again_direct = aws_sync(*theirs, source, "s3://direct/small")
    rclone_again = rclone_resync(*ours, source, "finance/small", tmp)
    rclone_again_direct = rclone_resync(*theirs, source, "direct/small", tmp)
    print(
        f"aws s3 sync {files} x 4 KiB: gshare {files / g_sync:6.1f} files/s  "
        f"direct {files / d_sync:6.1f} files/s  ratio {d_sync / g_sync:.2f}"
    )
    print(f"no-change re-sync, aws s3 sync: {again:.2f} s (direct: {again_direct:.2f} s)")
    print(
        f"no-change re-sync, rclone sync --checksum: {rclone_again:.2f} s"
        f" (direct: {rclone_again_direct:.2f} s)"
    )
    print(f"CPU seconds, direct sync: {direct_cpu}")
    print(f"CPU seconds, gshare sync: {gshare_cpu}")


class CpuMeter:
    """CPU seconds used, between laps, by the endpoint, the S3 server, clamd and the clients."""

    def __init__(self, endpoint_pid: int):
        self.endpoint = endpoint_pid
        self.last = self._now()

    def lap(self) -> str:
        now = self._now()
        spent = {name: now[name] - self.last.get(name, 0.0) for name in now}
        self.last = now
        return "  ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(spent.items()))

    def _now(self) -> dict[str, float]:
        own = os.times()
        totals = {
            "client": own[0] + own[1],  # boto3 in this process
            "aws cli": own[2] + own[3],
        }  # finished children: the aws runs
        for proc in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                name = "endpoint" if self._in_endpoint(proc) else proc.name()
                times = proc.cpu_times()
                totals[name] = totals.get(name, 0.0) + times.user + times.system
        return totals

    def _in_endpoint(self, proc) -> bool:
        return proc.pid == self.endpoint or any(p.pid == self.endpoint for p in proc.parents())


if __name__ == "__main__":
    main()
