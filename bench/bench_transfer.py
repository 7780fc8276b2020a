"""1 GiB up and down through gshare's service layer vs. the minio SDK straight to the same S3
server, in one run: throughput (MiB/s), the ratio, and peak RSS growth of this process.

    .venv/bin/python bench/bench_transfer.py [--size-mib 1024]

Goals (issue 2): ratio >= 0.9 both ways; RSS growth < 100 MB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).parent))

from common import MiB, PeakRSS, Synthetic, s3_server, timed  # noqa: E402

import storage  # noqa: E402
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


def direct(endpoint, access, secret, size):
    from minio import Minio

    url = urlparse(endpoint)
    client = Minio(url.netloc, access, secret, secure=url.scheme == "https")
    if not client.bucket_exists("direct"):
        client.make_bucket("direct")
    with PeakRSS() as up_rss:
        up = timed(
            lambda: client.put_object("direct", "big", Synthetic(size), size, part_size=16 * MiB)
        )

    def fetch():
        response = client.get_object("direct", "big")
        for _ in response.stream(256 * 1024):
            pass
        response.close()
        response.release_conn()

    with PeakRSS() as down_rss:
        down = timed(fetch)
    return up, down, up_rss.growth_mb, down_rss.growth_mb


def through_gshare(endpoint, access, secret, size, tmp):
    url = f"sqlite:///{tmp}/bench.db"
    database.upgrade(url)
    config = Config().replace(database={"url": url}, quota={"personal_gb": 0.0})
    store = storage.S3Store(endpoint, access, secret, bucket="gshare", part_size=16 * MiB)
    store.ensure_bucket()
    gs = Gshare(config, store)
    with gs.unit_of_work() as ctx:
        dep = departments.add_department(ctx, OPERATOR, "Bench", slug="bench")
        alice = users.add_user(ctx, OPERATOR, "alice", "Alice", dep)
    result = {}

    def upload():
        with gs.unit_of_work() as ctx:
            ctx.db.add(alice)
            home = spaces.root_of(ctx.db, spaces.personal_space(ctx, alice))
            result["v"] = content.upload_file(ctx, alice, home, "big.bin", Synthetic(size), size)

    def download():
        with gs.unit_of_work() as ctx:
            ctx.db.add(alice)
            dl = content.open_download(ctx, alice, result["v"].node_id)
            with dl.stream as stream:
                for _ in stream:
                    pass

    with PeakRSS() as up_rss:
        up = timed(upload)
    with PeakRSS() as down_rss:
        down = timed(download)
    return up, down, up_rss.growth_mb, down_rss.growth_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    size = parser.parse_args().size_mib * MiB
    with s3_server() as (endpoint, access, secret), tempfile.TemporaryDirectory() as tmp:
        d_up, d_down, d_up_rss, d_down_rss = direct(endpoint, access, secret, size)
        g_up, g_down, g_up_rss, g_down_rss = through_gshare(endpoint, access, secret, size, tmp)
    mib = size / MiB
    print(f"{mib:.0f} MiB       direct (minio SDK)      gshare services        ratio")
    print(
        f"upload     {mib / d_up:8.1f} MiB/s {d_up_rss:6.1f} MB   {mib / g_up:8.1f} MiB/s "
        f"{g_up_rss:6.1f} MB   {d_up / g_up:5.2f}"
    )
    print(
        f"download   {mib / d_down:8.1f} MiB/s {d_down_rss:6.1f} MB   {mib / g_down:8.1f} MiB/s "
        f"{g_down_rss:6.1f} MB   {d_down / g_down:5.2f}"
    )
    print("(MB = peak RSS growth of this process during the transfer)")


if __name__ == "__main__":
    main()
