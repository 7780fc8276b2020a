"""The call every open page makes every few seconds (web/static/live.js): GET /api/v1/live for
a folder of 10,000 files, asking about 200 versions (a page's worth), and with no folder (the
notices count alone), through the Flask app on SQLite and PostgreSQL: median milliseconds and
SQL statements per call. The versions asked about are being scanned (what a page asks about),
then all clean at once (the worst case: every badge is drawn).

    .venv/bin/python bench/bench_live.py [--postgres URL]

Goal (issue 12, item 8): cheap enough to ask every few seconds from every open tab; a few
statements, a few milliseconds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from bench_tree import _files  # noqa: E402
from bench_web import _CSRF, PASSWORD, prepare  # noqa: E402
from common import median_ms, on_both_databases  # noqa: E402
from sqlalchemy import event, select, update  # noqa: E402

from gshare.core.context import Gshare  # noqa: E402
from gshare.core.models import Node, Version  # noqa: E402
from gshare.org import users  # noqa: E402

ASKED = 200  # versions a page asks about at most (gshare.files.live.MOST_VERSIONS)


def live_bench(label: str, url: str, tmp: Path) -> None:
    """Print the median time and the statements of one /api/v1/live call."""
    from web import create_app

    config, names = prepare(tmp, url)
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        big = ctx.db.get(Node, names["big"])
        _files(ctx, users.find_user(ctx, names["username"]), big)
        ids = list(ctx.db.scalars(select(Version.id).limit(ASKED)))
        ctx.db.execute(update(Version).where(Version.id.in_(ids)).values(scan_state="pending"))
    web = create_app(config, gs).test_client()
    page = web.get("/login").get_data(as_text=True)
    web.post(
        "/login",
        data={
            "username": names["username"],
            "password": PASSWORD,
            "csrf_token": _CSRF.search(page).group(1),
        },
    )
    statements = []
    event.listen(gs.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    folder = f"?folder={names['big']}&versions={','.join(map(str, ids))}"
    _measure(web, statements, label, "notices only", "")
    few = f"?folder={names['big']}&versions={','.join(map(str, ids[:3]))}"
    _measure(web, statements, label, "folder, 3 being scanned", few)
    _measure(web, statements, label, f"folder, {ASKED} being scanned", folder)
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(Version).where(Version.id.in_(ids)).values(scan_state="clean"))
    _measure(web, statements, label, f"folder, {ASKED} just clean", folder)
    gs.engine.dispose()


def _measure(web, statements: list, label: str, what: str, query: str) -> None:
    statements.clear()
    answer = web.get(f"/api/v1/live{query}")
    assert answer.status_code == 200, answer.status_code
    count = len(statements)
    if "-v" in sys.argv:
        print(*statements, sep="\n")
    ms = median_ms(lambda: web.get(f"/api/v1/live{query}"))
    print(f"{label:10} {what:28} {ms:6.1f} ms median   {count} SQL statements per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    on_both_databases(live_bench, args.postgres)


if __name__ == "__main__":
    main()
