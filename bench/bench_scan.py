"""The scan gate's speed: how soon a clean upload is readable by someone else, what the inline
scan costs an upload, the worker against `clamdscan --stream`, and the worker's memory.

    .venv/bin/python bench/bench_scan.py [--big-mib 2047]

Runs its own clamd (test signatures, StreamMaxLength 2100 MiB, no result cache) and its own
S3 server.
Goals (issue 3): < 1 s from the end of a 100 MB upload to readable; inline/plain upload
throughput >= 0.85; worker/clamdscan scan throughput >= 0.8; worker RSS flat (< 100 MB).
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from common import TEXT_BLOCK, MiB, PeakRSS, Synthetic, s3_server  # noqa: E402

import storage  # noqa: E402
from antivirus import ClamdScanner  # noqa: E402
from gshare.access.permissions import Role
from gshare.core import db as database  # noqa: E402
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.files import content  # noqa: E402
from gshare.org import (
    departments,  # noqa: E402
    spaces,  # noqa: E402
    users,  # noqa: E402
)
from gshare.scanning.queue import Backoff, claim, scan_version
from gshare.sharing import grants  # noqa: E402
from tests.fixtures.clamd import ClamdDaemon  # noqa: E402


class BigClamd(ClamdDaemon):
    """clamd with high limits and no result cache (the cache would flatter repeated scans)."""

    stream_max_length = 2100 * MiB  # a 2 GiB file is scanned whole

    def _config(self) -> str:
        scan_size = f"MaxScanSize {4 * self.stream_max_length // MiB}M"
        return super()._config().replace(scan_size, "MaxScanSize 4000M") + "DisableCache yes\n"


class EndMarked(Synthetic):
    """A synthetic upload that notes when its last byte has been read."""

    ended_at: float | None = None

    def read(self, n=-1):
        data = super().read(n)
        if not self.left and self.ended_at is None:
            self.ended_at = time.perf_counter()
        return data


def setup(tmp: Path, endpoint, access, secret, clamd) -> tuple[Gshare, object, object, object]:
    url = f"sqlite:///{tmp}/bench.db"
    database.upgrade(url)
    config = Config().replace(
        database={"url": url},
        quota={"personal_gb": 0.0, "department_gb": 0.0},
        antivirus={"clamd": clamd.address, "max_scan_size_mb": 2047, "timeout_seconds": 600},
    )
    store = storage.S3Store(endpoint, access, secret, bucket="gshare", part_size=16 * MiB)
    store.ensure_bucket()
    gs = Gshare(config, store, scanner=ClamdScanner(clamd.address, timeout=600))
    with gs.unit_of_work() as ctx:
        finance = departments.add_department(ctx, OPERATOR, "Finance", slug="finance")
        audit = departments.add_department(ctx, OPERATOR, "Audit", slug="audit")
        alice = users.add_user(ctx, OPERATOR, "alice", "Alice", finance)
        bob = users.add_user(ctx, OPERATOR, "bob", "Bob", audit)
        root = spaces.root_of(ctx.db, departments.department_space(ctx, finance))
        grants.grant_role(ctx, OPERATOR, root.id, Role.VIEWER, department=audit)
    return gs, alice, bob, root


def upload(gs, alice, root, name, stream, size, inline: bool):
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": inline})
    with gs.unit_of_work() as ctx:
        ctx.db.add_all([alice, root])
        return content.upload_file(ctx, alice, root, name, stream, size)


def readable_by(gs, bob, node_id) -> bool:
    with gs.unit_of_work() as ctx:
        ctx.db.add(bob)
        try:
            content.open_download(ctx, bob, node_id).stream.close()
        except Exception:
            return False
        return True


def drain_queue(gs):
    while (version_id := claim(gs, "bench", None)) is not None:
        scan_version(gs, version_id, "bench", Backoff())


def time_to_readable(gs, alice, bob, root, size, inline: bool, block=None) -> float:
    stream = EndMarked(size, block)
    version = upload(gs, alice, root, f"ready-{inline}.bin", stream, size, inline)
    if not inline:
        drain_queue(gs)
    while not readable_by(gs, bob, version.node_id):
        time.sleep(0.005)
    return time.perf_counter() - stream.ended_at


def upload_rate(gs, alice, root, size, inline: bool, block=None) -> float:
    start = time.perf_counter()
    upload(gs, alice, root, f"rate-{inline}-{start}.bin", Synthetic(size, block), size, inline)
    return size / MiB / (time.perf_counter() - start)


def scan_rates(gs, alice, root, clamd, tmp: Path, count: int, size: int) -> tuple[float, float]:
    """Scan the same blobs with the worker and with clamdscan, alternating, best of three."""
    blobs = tmp / "blobs"
    blobs.mkdir()
    ids = []
    for i in range(count):
        data = _file_bytes(size)
        (blobs / f"{i}.bin").write_bytes(data)
        ids.append(upload(gs, alice, root, f"scan-{i}.bin", io.BytesIO(data), size, False).id)
    command = [
        "clamdscan",
        "--stream",
        "--no-summary",
        f"--config-file={clamd.root}/clamd.conf",
        *map(str, sorted(blobs.iterdir())),
    ]
    worker, direct = [], []
    for _ in range(3):
        _requeue(gs, ids)
        start = time.perf_counter()
        drain_queue(gs)
        worker.append(count * size / MiB / (time.perf_counter() - start))
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        direct.append(count * size / MiB / (time.perf_counter() - start))
    return max(worker), max(direct)


def _requeue(gs, ids):
    from sqlalchemy import update

    from gshare.core.models import Version

    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(Version).where(Version.id.in_(ids)).values(scan_state="pending"))


def _file_bytes(size: int) -> bytes:
    source = Synthetic(size)
    return b"".join(iter(lambda: source.read(MiB), b""))


def worker_rss(gs, alice, root, size: int) -> tuple[float, float, str]:
    upload(gs, alice, root, "big.bin", Synthetic(size), size, inline=False)
    version_id = claim(gs, "bench", None)
    with PeakRSS() as rss:
        start = time.perf_counter()
        outcome = scan_version(gs, version_id, "bench", Backoff())
        seconds = time.perf_counter() - start
    return rss.growth_mb, size / MiB / seconds, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--big-mib",
        type=int,
        default=2047,
        help="size of the big file (clamd scans at most 2 GiB - 1 byte)",
    )
    args = parser.parse_args()
    if not shutil.which("clamdscan"):
        sys.exit("clamdscan is missing (Debian package clamav)")
    with tempfile.TemporaryDirectory() as tmp_name, s3_server() as (endpoint, access, secret):
        tmp = Path(tmp_name)
        (tmp / "clamd").mkdir()
        clamd = BigClamd(tmp / "clamd")
        clamd.start()
        try:
            gs, alice, bob, root = setup(tmp, endpoint, access, secret, clamd)
            report(gs, alice, bob, root, clamd, tmp, args.big_mib * MiB)
        finally:
            clamd.stop()


def clamd_seconds(gs, size, block) -> float:
    """Return how long clamd alone takes to scan these bytes (sent from memory)."""
    source = Synthetic(size, block)
    start = time.perf_counter()
    gs.scanner.scan(iter(lambda: source.read(MiB), b""))
    return time.perf_counter() - start


def report(gs, alice, bob, root, clamd, tmp, big):
    hundred = 100 * MiB
    for label, block in (("text-like", TEXT_BLOCK), ("random (compressed-like)", None)):
        scan_only = clamd_seconds(gs, hundred, block)
        inline_ready = time_to_readable(gs, alice, bob, root, hundred, True, block)
        queued_ready = time_to_readable(gs, alice, bob, root, hundred, False, block)
        print(
            f"100 MiB {label}: end of upload -> readable by another department: "
            f"{inline_ready:.3f} s inline, {queued_ready:.3f} s via worker "
            f"(clamd alone scans it in {scan_only:.3f} s)"
        )
        plain = upload_rate(gs, alice, root, 4 * hundred, False, block)
        inline = upload_rate(gs, alice, root, 4 * hundred, True, block)
        print(
            f"400 MiB {label} upload: {plain:.1f} MiB/s without scan, {inline:.1f} MiB/s "
            f"with inline scan, ratio {inline / plain:.2f}"
        )
    worker, direct = scan_rates(gs, alice, root, clamd, tmp, 10, 20 * MiB)
    print(
        f"10 x 20 MiB: worker {worker:.1f} MiB/s, clamdscan --stream {direct:.1f} MiB/s, "
        f"ratio {worker / direct:.2f}"
    )
    growth, rate, outcome = worker_rss(gs, alice, root, big)
    print(
        f"worker scanning {big // MiB} MiB: peak RSS growth {growth:.1f} MB, {rate:.1f} MiB/s "
        f"({outcome})"
    )


if __name__ == "__main__":
    main()
