"""The share form's picker and share notices: median milliseconds of a suggestion (part of a Lao
name, part of a user name, a department) among 20,000 people in 300 departments, and of sharing
a folder with a department of 2,000 members (one notice each).

    PYTHONPATH=. .venv/bin/python bench/bench_grantees.py [--postgres URL]

Goal: a suggestion well under 100 ms (it is asked as a person types).
"""

from __future__ import annotations

import argparse
import uuid

from common import median_ms, on_both_databases
from sqlalchemy import insert

from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Department, User
from gshare.core.names import person_search_key
from gshare.files import folders
from gshare.org import departments, grantees, spaces, users
from gshare.sharing import grants

PEOPLE, UNITS, BIG_UNIT = 20_000, 300, 2_000
GIVEN = ["ສົມສັກ", "ຄຳລາ", "ນ້ອຍ", "ບຸນມີ", "ວັນນາ", "ສຸກສະຫວັນ", "ພອນ", "ແສງ", "ອຳໄພ", "ທອງ"]
FAMILY = ["ພົມມະວົງ", "ສີສຸວັນ", "ວົງສາ", "ແກ້ວມະນີ", "ຈັນທະລາ", "ອິນທະວົງ", "ສຸລິຍະ"]


def build(gs: Gshare) -> tuple[int, int, int]:
    with gs.unit_of_work() as ctx:
        tag = uuid.uuid4().hex[:6]
        ministry = departments.add_department(ctx, OPERATOR, f"ກະຊວງ {tag}", slug=f"m-{tag}")
        units = [ministry]
        for i in range(UNITS - 1):
            parent = units[i // 10]
            units.append(
                departments.add_department(
                    ctx, OPERATOR, f"ກົມ {i} {tag}", parent, slug=f"u{i}-{tag}"
                )
            )
        owner = users.add_user(ctx, OPERATOR, f"owner{tag}", "Owner", ministry)
        folder = folders.create_folder(
            ctx, OPERATOR, spaces.root_of(ctx.db, spaces.personal_space(ctx, owner)), "ແຜນງານ"
        )
        big = units[1]
        rows = []
        for n in range(PEOPLE):
            unit = big if n < BIG_UNIT else units[n % len(units)]
            name = f"{GIVEN[n % len(GIVEN)]} {FAMILY[n // 10 % len(FAMILY)]} {n}"
            username = f"p{n:05d}{tag}"
            key = person_search_key(name, username)  # a bulk insert skips the model's hook
            rows.append(
                dict(username=username, display_name=name, search_name=key, department_id=unit.id)
            )
        ctx.db.execute(insert(User), rows)
        return owner.id, folder.id, big.id


def run(label: str, url: str) -> None:
    config = Config().replace(database={"url": url})
    database.upgrade(url)
    gs = Gshare(config, store=None)
    owner_id, folder_id, big_id = build(gs)
    with gs.unit_of_work() as ctx:
        owner = ctx.db.get(User, owner_id)
        lao = median_ms(lambda: grantees.suggest_grantees(ctx, owner, "ພົມມະ"), runs=30)
        username = median_ms(lambda: grantees.suggest_grantees(ctx, owner, "p1234"), runs=30)
        unit = median_ms(lambda: grantees.suggest_grantees(ctx, owner, "ກົມ 29"), runs=30)
        none = median_ms(lambda: grantees.suggest_grantees(ctx, owner, "ບໍ່ມີຜູ້ນີ້"), runs=30)
    with gs.unit_of_work() as ctx:
        owner = ctx.db.get(User, owner_id)
        big = ctx.db.get(Department, big_id)
        share = median_ms(
            lambda: grants.grant_role(ctx, owner, folder_id, "viewer", department=big), runs=5
        )
        ctx.db.rollback()
    print(
        f"{label:10} suggest (20,000 people, 300 units): Lao part {lao:6.1f} ms   "
        f"user name {username:6.1f} ms   unit {unit:6.1f} ms   no match {none:6.1f} ms   "
        f"share with 2,000 members (2,000 notices): {share:7.1f} ms"
    )
    gs.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL server URL, to run there too"
    )
    args = parser.parse_args()
    on_both_databases(lambda label, url, _tmp: run(label, url), args.postgres)


if __name__ == "__main__":
    main()
