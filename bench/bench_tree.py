"""Listing a folder of 10,000 files, resolving a path 10 folders deep, and the permission check
on a deep tree with 1,000 grants: median milliseconds on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_tree.py [--postgres URL]

Goals (issue 2): listing < 50 ms, resolving < 5 ms, permission check < 1 ms.
"""

from __future__ import annotations

import argparse
import uuid

from common import median_ms, on_both_databases
from sqlalchemy import insert, text

from gshare.access import permissions
from gshare.access.permissions import Action
from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Grant, Node, NodeKind, ScanState, User, Version
from gshare.files import folders, lookup
from gshare.org import departments, spaces, users

FILES, DEPTH, GRANTS = 10_000, 10, 1_000


def build(gs: Gshare):
    with gs.unit_of_work() as ctx:
        dep = departments.add_department(
            ctx, OPERATOR, "Bench", slug=f"bench-{uuid.uuid4().hex[:6]}"
        )
        others = [
            departments.add_department(ctx, OPERATOR, f"Other {i}", slug=f"o{i}-{dep.id}")
            for i in range(20)
        ]
        alice = users.add_user(ctx, OPERATOR, f"alice{dep.id}", "Alice", dep)
        root = spaces.root_of(ctx.db, departments.department_space(ctx, dep))
        big = folders.create_folder(ctx, OPERATOR, root, "big")
        deep = root
        for level in range(DEPTH):
            deep = folders.create_folder(ctx, OPERATOR, deep, f"level {level}")
        _files(ctx, alice, big)
        _grants(ctx, deep, others)
        return alice.id, root.id, big.id, deep.id


def _files(ctx, alice, folder):
    rows = [
        dict(
            space_id=folder.space_id,
            parent_id=folder.id,
            path=folder.child_path,
            kind=NodeKind.FILE,
            name=f"file {i:05}.pdf",
            search_name=f"file {i:05}.pdf",
            created_by=alice.id,
        )
        for i in range(FILES)
    ]
    ctx.db.execute(insert(Node), rows)
    ids = ctx.db.scalars(text("SELECT id FROM nodes WHERE parent_id = :p").bindparams(p=folder.id))
    ctx.db.execute(
        insert(Version),
        [
            dict(
                node_id=i,
                number=1,
                blob_key=f"v/{uuid.uuid4().hex}",
                size=1000,
                sha256="0" * 64,
                md5="0" * 32,
                etag="0" * 32,
                content_type="application/pdf",
                uploaded_by=alice.id,
                scan_state=ScanState.CLEAN,
            )
            for i in ids
        ],
    )


def _grants(ctx, deep, departments_):
    chain = [*deep.ancestor_ids, deep.id]
    users_ = (
        ctx.db.execute(
            insert(User).returning(User.id),
            [
                dict(username=f"g{uuid.uuid4().hex[:10]}", display_name="G", department_id=d.id)
                for d in departments_
                for _ in range(GRANTS // len(departments_))
            ],
        )
        .scalars()
        .all()
    )
    ctx.db.execute(
        insert(Grant),
        [
            dict(node_id=chain[i % len(chain)], role="viewer", user_id=u)
            for i, u in enumerate(users_)
        ],
    )


def run(label: str, url: str) -> None:
    config = Config().replace(database={"url": url})
    database.upgrade(url)
    gs = Gshare(config, store=None)
    alice_id, root_id, big_id, deep_id = build(gs)
    with gs.unit_of_work() as ctx:
        db = ctx.db
        alice, root, big, deep = (
            db.get(User, alice_id),
            db.get(Node, root_id),
            db.get(Node, big_id),
            db.get(Node, deep_id),
        )
        path = "/".join(f"level {i}" for i in range(DEPTH))
        listing = median_ms(lambda: lookup.list_folder(ctx, alice, big, limit=None))
        page = median_ms(lambda: lookup.list_folder(ctx, alice, big, limit=100))
        resolve = median_ms(lambda: lookup.resolve_path(ctx, alice, root, path), runs=200)
        check = median_ms(lambda: permissions.require(db, alice, Action.READ, deep), runs=500)
    print(
        f"{label:10} list 10,000: {listing:7.1f} ms   first page of 100: {page:6.2f} ms   "
        f"resolve 10 deep: {resolve:5.2f} ms   permission check (1,000 grants): {check:5.3f} ms"
    )
    gs.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    on_both_databases(lambda label, url, _tmp: run(label, url), args.postgres)


if __name__ == "__main__":
    main()
