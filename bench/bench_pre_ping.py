"""What PostgreSQL's pool_pre_ping costs a request: one round trip per connection checkout.

    .venv/bin/python bench/bench_pre_ping.py [--database URL] [--checkouts 3000]

Checks a connection out of the pool and runs one small query, as a request's session does,
with pre-ping on (gshare's setting: a connection PostgreSQL closed, for a restart or an idle
timeout, is replaced before a request uses it) and off; prints the CPU and wall time per
checkout and the difference, the price of the ping. Three rounds, alternating, medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import create_engine, text

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def per_checkout(engine, checkouts: int) -> tuple[float, float]:
    """Return the CPU and wall ms per checkout and query."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(checkouts):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
    return (
        (time.process_time() - cpu) * 1000 / checkouts,
        (time.perf_counter() - wall) * 1000 / checkouts,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=PG)
    parser.add_argument("--checkouts", type=int, default=3000)
    args = parser.parse_args()
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for _ in range(3):
        for ping in (True, False):
            engine = create_engine(args.database, pool_pre_ping=ping, pool_size=1)
            per_checkout(engine, 50)  # warm-up: the connection, the first compilation
            results[ping].append(per_checkout(engine, args.checkouts))
            engine.dispose()
    medians = {
        ping: tuple(statistics.median(r[i] for r in runs) for i in (0, 1))
        for ping, runs in results.items()
    }
    for ping, (cpu, wall) in medians.items():
        state = "on " if ping else "off"
        print(f"pre-ping {state}  {cpu:6.3f} ms CPU  {wall:6.3f} ms wall per checkout")
    cpu = medians[True][0] - medians[False][0]
    wall = medians[True][1] - medians[False][1]
    print(f"the ping costs {cpu:6.3f} ms CPU  {wall:6.3f} ms wall per checkout")


if __name__ == "__main__":
    main()
