"""`gshare directory sync` of N directory people, and what an LDAP sign-in costs.

    PYTHONPATH=. .venv/bin/python bench/bench_directory.py [--people 50000] [--postgres URL]

Starts a slapd of its own (tests/fixtures/ldap.py), loads N people with slapadd (spread over
department and province OUs, a few in the admin groups), then runs `gshare directory sync` as a
command of its own twice: the first run creates everyone, the second finds nothing to change.
It prints each run's time and the command's own peak RSS (ru_maxrss). The directory serves at most
500 entries to a search that is not paged, so the sync only works by paging.

Then the median time of a sign-in (gshare.accounts.login.sign_in, one unit of work each) for a
local account (argon2 at production cost) and for a directory account (StartTLS, service bind,
search, user bind, group checks), and the difference.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import median_ms
from sqlalchemy import create_engine, text

from gshare.accounts import login
from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.org import departments, users
from tests.fixtures.ldap import (
    PEOPLE,
    SlapdServer,
    base_entries,
    entry,
    group,
    password_of,
)

DEPARTMENTS = ["Finance", "Planning", "ICT", "Legal", "Personnel", "Inspection", "Posts", "Radio"]
PROVINCES = ["Vientiane", "Luang Prabang", "Champasak", "Savannakhet", "Xiengkhouang", "Oudomxay"]
LOCAL_PASSWORD = "a local password of the break-glass admin"


def people_ldif(count: int) -> str:
    """Return the ministry with `count` people under department/province OUs."""
    parts = [base_entries()]
    for dep in DEPARTMENTS:
        parts.append(entry(f"ou={dep},{PEOPLE}", objectClass="organizationalUnit", ou=dep))
        for prov in PROVINCES:
            dn = f"ou={prov},ou={dep},{PEOPLE}"
            parts.append(entry(dn, objectClass="organizationalUnit", ou=prov))
    admins = []
    for n in range(count):
        dep, prov = DEPARTMENTS[n % len(DEPARTMENTS)], PROVINCES[n // 7 % len(PROVINCES)]
        uid = f"p{n:06d}"
        dn = f"uid={uid},ou={prov},ou={dep},{PEOPLE}"
        if n % 1000 == 0:
            admins.append(dn)
        parts.append(
            entry(
                dn,
                objectClass="inetOrgPerson",
                uid=uid,
                cn=f"Person {n}",
                sn=str(n),
                displayName=f"ພະນັກງານ {n}",
                mail=f"{uid}@mtc.gov.la",
                userPassword=password_of(uid),
            )
        )
    parts.append(group("gshare-admins", *admins[:3]))
    parts.append(group("gshare-department-admins", *admins))
    return "".join(parts)


def write_config(path: Path, db_url: str, data_dir: Path, settings: dict) -> None:
    lines = "".join(
        f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}\n"
        for key, value in settings.items()
    )
    path.write_text(
        f'[server]\ndata_dir = "{data_dir}"\n[database]\nurl = "{db_url}"\n[ldap]\n{lines}'
    )


# The sync command, reporting its own peak RSS on stderr when it exits.
SYNC_WITH_RSS = (
    "import atexit, resource, sys; "
    "atexit.register(lambda: print(f'RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', "
    "file=sys.stderr)); "
    "from web.cli import main; main()"
)


def run_sync(config_path: Path) -> tuple[float, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SYNC_WITH_RSS, "--config", str(config_path), "directory", "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        skipped = [line for line in done.stdout.splitlines() if line.startswith("skip")][:5]
        raise SystemExit(f"sync failed ({done.returncode}): {done.stderr[-1500:]}{skipped}")
    rss = next(line for line in done.stderr.splitlines() if line.startswith("RSS "))
    return seconds, done.stdout.strip().splitlines()[-1], int(rss.split()[1]) / 1024


def sign_in_medians(config: Config, runs: int) -> tuple[float, float]:
    gs = Gshare.from_config(config, storage_endpoint="http://127.0.0.1:1", storage_keys=("x", "y"))
    with gs.unit_of_work() as ctx:
        ops = departments.add_department(ctx, OPERATOR, "Break glass")
        users.add_user(ctx, OPERATOR, "root", "Root", ops, password=LOCAL_PASSWORD)

    def sign_in(username: str, password: str):
        def once():
            with gs.unit_of_work() as ctx:
                assert login.sign_in(ctx, username, password).outcome == login.Outcome.OK

        return once

    local = median_ms(sign_in("root", LOCAL_PASSWORD), runs)
    directory = median_ms(sign_in("p000042", password_of("p000042")), runs)
    gs.engine.dispose()
    return local, directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--sign-ins", type=int, default=30)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as tmp:
        root = Path(tmp)
        (root / "slapd").mkdir()
        slapd = SlapdServer(root / "slapd")
        db_url, drop = _database(args.postgres, root)
        try:
            started = time.monotonic()
            slapd.load(people_ldif(args.people))
            print(f"loaded {args.people} people into slapd in {time.monotonic() - started:.1f} s")
            settings = slapd.settings(department_root="MTC", page_size=1000)
            config_path = root / "config.toml"
            write_config(config_path, db_url, root / "var", settings)
            first, summary, rss = run_sync(config_path)
            print(
                f"first sync (creates everyone): {first:.1f} s, peak RSS {rss:.0f} MiB ({summary})"
            )
            second, summary, rss = run_sync(config_path)
            print(f"second sync (no change): {second:.1f} s, peak RSS {rss:.0f} MiB ({summary})")
            config = Config().replace(database={"url": db_url}, ldap=settings)
            local, ldap = sign_in_medians(config, args.sign_ins)
            print(f"sign-in median: local password {local:.1f} ms, directory {ldap:.1f} ms")
            print(f"an LDAP sign-in adds {ldap - local:+.1f} ms over a local-password sign-in")
        finally:
            slapd.stop()
            drop()


def _database(postgres: str | None, root: Path):
    if not postgres:
        url = f"sqlite:///{root / 'gshare.db'}"
        database.upgrade(url)
        return url, lambda: None
    name = f"bench_directory_{int(time.time())}"
    admin = create_engine(f"{postgres}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{postgres}/{name}"
    database.upgrade(url)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    return url, drop


if __name__ == "__main__":
    main()
