"""Search by name over 100,000 files a person can see (their department's space, their own
and 30 folders other departments shared with them) among 40,000 they cannot: median
milliseconds of several queries on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_search.py [--postgres URL]

Goal (issue 12, item 3): well under a second for a page of results.
"""

from __future__ import annotations

import argparse
import itertools
import uuid

from common import median_ms, on_both_databases
from sqlalchemy import insert, select, text

from gshare.core import db as database
from gshare.core.actor import OPERATOR
from gshare.core.collation import sort_key
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import Node, NodeKind, ScanState, User, Version
from gshare.core.names import search_key
from gshare.files import folders, search
from gshare.org import departments, spaces, users
from gshare.sharing import grants

WORDS = [
    "report", "budget", "minutes", "plan", "letter", "ບົດລາຍງານ", "ງົບປະມານ", "ກອງປະຊຸມ",
    "ແຜນການ", "ໜັງສືແຈ້ງການ", "ກະຊວງ", "ພະແນກ", "staff", "ພະນັກງານ", "contract", "photo",
]  # fmt: skip
QUERIES = [
    ("common word", "report"),
    ("two words, any order", "2026 budget"),
    ("Lao, inside a word", "ປະຊຸມ"),
    ("Lao + year", "ແຜນການ 2025"),
    ("one file", "047123"),
    ("nothing", "zzzz"),
]


def _names(start: int):
    for i in itertools.count(start):
        a, b = WORDS[i % len(WORDS)], WORDS[(i // 7) % len(WORDS)]
        yield f"{a} {b} {2020 + i % 7} {i:06}.pdf"


def _files(ctx, owner_id: int, folder: Node, count: int, names) -> None:
    rows = []
    for _, name in zip(range(count), names, strict=False):
        rows.append(
            dict(
                space_id=folder.space_id,
                parent_id=folder.id,
                path=folder.child_path,
                kind=NodeKind.FILE,
                name=name,
                search_name=search_key(name),
                sort_key=sort_key(name),
                created_by=owner_id,
            )
        )
    ctx.db.execute(insert(Node), rows)
    ids = ctx.db.scalars(select(Node.id).where(Node.parent_id == folder.id))
    version = dict(number=1, size=1000, sha256="0" * 64, md5="0" * 32, etag="0" * 32)
    ctx.db.execute(
        insert(Version),
        [
            dict(
                node_id=i,
                blob_key=f"v/{uuid.uuid4().hex}",
                content_type="application/pdf",
                uploaded_by=owner_id,
                scan_state=ScanState.CLEAN,
                **version,
            )
            for i in ids
        ],
    )


def build(gs: Gshare) -> tuple[int, int]:
    """Return alice's id and one folder of her department's, to search in."""
    names = _names(0)
    with gs.unit_of_work() as ctx:
        mine = departments.add_department(ctx, OPERATOR, "Bench", slug=f"b-{uuid.uuid4().hex[:6]}")
        alice = users.add_user(ctx, OPERATOR, f"alice{mine.id}", "Alice", mine)
        root = spaces.root_of(ctx.db, departments.department_space(ctx, mine))
        for f in range(60):  # 60,000 in her department's space
            _files(
                ctx, alice.id, folders.create_folder(ctx, OPERATOR, root, f"ກົມ {f}"), 1000, names
            )
        home = spaces.root_of(ctx.db, spaces.personal_space(ctx, alice))
        for f in range(10):  # 10,000 of her own
            _files(ctx, alice.id, folders.create_folder(ctx, alice, home, f"mine {f}"), 1000, names)
        for d in range(10):  # 30,000 shared with her, 40,000 not
            other = departments.add_department(ctx, OPERATOR, f"Other {d}", slug=f"o{d}-{mine.id}")
            bob = users.add_user(ctx, OPERATOR, f"bob{d}-{mine.id}", "Bob", other)
            top = spaces.root_of(ctx.db, departments.department_space(ctx, other))
            for f in range(7):
                folder = folders.create_folder(ctx, OPERATOR, top, f"shared {f}")
                _files(ctx, bob.id, folder, 1000, names)
                if f < 3:
                    grants.grant_role(ctx, OPERATOR, folder.id, "viewer", user=alice)
        first = ctx.db.scalar(select(Node).where(Node.parent_id == root.id).limit(1))
        return alice.id, first.id


def run(label: str, url: str) -> None:
    config = Config().replace(database={"url": url})
    database.upgrade(url)
    gs = Gshare(config, store=None)
    alice_id, folder_id = build(gs)
    if url.startswith("postgresql"):
        with gs.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    with gs.unit_of_work() as ctx:
        alice, folder = ctx.db.get(User, alice_id), ctx.db.get(Node, folder_id)
        seen = len(search.search_names(ctx, alice, ".pdf", limit=200_000).hits)
        figures = []
        for what, q in QUERIES:
            found = search.search_names(ctx, alice, q)
            ms = median_ms(lambda q=q: search.search_names(ctx, alice, q), runs=15)
            figures.append(f"  {what:22} {q!r:16} {len(found.hits):3} hits  {ms:7.1f} ms")
        ms = median_ms(lambda: search.search_names(ctx, alice, "report", folder), runs=15)
        figures.append(f"  {'in one folder':22} {'report':16}          {ms:7.1f} ms")
        deep = median_ms(lambda: search.search_names(ctx, alice, "report", offset=1000), runs=5)
        figures.append(f"  {'page 21 (offset 1000)':22} {'report':16}          {deep:7.1f} ms")
    print(f"{label}: {seen:,} files visible to the person (median of 15 runs, 50 hits a page)")
    print("\n".join(figures))
    gs.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    on_both_databases(lambda label, url, _tmp: run(label, url), args.postgres)


if __name__ == "__main__":
    main()
