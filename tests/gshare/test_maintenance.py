"""fsck and gc: rows and blobs are matched in byte order, whatever the database's collation."""

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from gshare.accounts import sessions
from gshare.core.models import (
    LinkPasswordThrottle,
    Node,
    SignInFailures,
    Space,
    UserSession,
    Version,
    utcnow,
)
from gshare.ops import maintenance
from tests.fixtures.world import World

LOCALE_COLLATIONS = ("en-x-icu", "und-x-icu", "en_US.utf8", "en_US")


class Undo(Exception):
    """Raised to roll a unit of work back (and with it a collation changed for the test)."""


def locale_collation(db) -> str:
    """Give the blob_key column a locale's collation on PostgreSQL (undone at rollback)."""
    found = db.scalars(
        text("SELECT collname FROM pg_collation WHERE collname = ANY(:names)"),
        {"names": list(LOCALE_COLLATIONS)},
    ).all()
    if not found:
        pytest.skip("this PostgreSQL has no locale collation")
    name = min(found, key=LOCALE_COLLATIONS.index)
    db.execute(
        text(f'ALTER TABLE versions ALTER COLUMN blob_key TYPE VARCHAR(64) COLLATE "{name}"')
    )
    return name


def add_versions(ctx, version: Version, keys: list[str], with_blobs: bool) -> list[Version]:
    """Add versions of the same file under the given blob keys, storing a blob for each or not."""
    added, latest = (
        [],
        ctx.db.scalar(select(func.max(Version.number)).filter_by(node_id=version.node_id)),
    )
    for number, key in enumerate(keys, start=latest + 1):
        added.append(
            Version(
                node_id=version.node_id,
                number=number,
                blob_key=key,
                size=1,
                etag="0" * 32,
                content_type="text/plain",
            )
        )
        if with_blobs:
            ctx.store.put(key, io.BytesIO(b"x"), 1)
    ctx.db.add_all(added)
    ctx.db.flush()
    return added


def stored_keys(store) -> set[str]:
    return {blob.key for blob in store.list()}


def test_fsck_finds_orphans_and_missing_blobs_whose_keys_a_locale_sorts_otherwise(gs, db_url):
    with pytest.raises(Undo), gs.unit_of_work() as ctx:
        if db_url.startswith("postgresql"):
            collation = locale_collation(ctx.db)
            locale_order = ctx.db.scalars(
                text(
                    "SELECT k FROM (VALUES ('v/a-b'), ('v/a_B'), ('v/A_b')) AS t(k) "
                    f'ORDER BY k COLLATE "{collation}"'
                )
            ).all()
            assert locale_order != sorted(locale_order), "the test needs a non-byte order"
        world = World(ctx)
        alice = world.user("alice")
        first = world.upload(alice, world.home(alice), "report.txt", b"report")
        kept = add_versions(ctx, first, ["v/Report-A", "v/report_a", "v/a-b"], with_blobs=True)
        lost = add_versions(ctx, first, ["v/report-a", "v/REPORT_A", "v/a_B"], with_blobs=False)
        for key in ("v/Report_a", "v/report-A", "v/A_b", "v/a_b"):
            ctx.store.put(key, io.BytesIO(b"orphan"), 6)

        report = maintenance.fsck(ctx)

        assert sorted(b.key for b in report.orphan_blobs) == [
            "v/A_b",
            "v/Report_a",
            "v/a_b",
            "v/report-A",
        ]
        assert [(v.id, path.rsplit("/", 1)[-1]) for v, path in report.missing_blobs] == [
            (v.id, "report.txt") for v in sorted(lost, key=lambda v: v.blob_key)
        ]
        assert maintenance.gc(ctx, grace=timedelta(0)).orphans_removed == 4
        assert stored_keys(ctx.store) == {first.blob_key, *(v.blob_key for v in kept)}
        raise Undo


def test_fsck_matches_keys_the_store_lists_out_of_byte_order(ctx, world):
    # SeaweedFS lists the keys under 'v/a/' right after 'v/a', before 'v/a-c' and 'v/a.d'.
    alice = world.user("alice")
    first = world.upload(alice, world.home(alice), "notes.txt", b"notes")
    add_versions(ctx, first, ["v/a-c", "v/a/b", "v/a/d/e"], with_blobs=True)
    lost = add_versions(ctx, first, ["v/a/c", "v/a.d"], with_blobs=False)
    for key in ("v/a", "v/a/a", "v/a0", "v/a/d/f"):
        ctx.store.put(key, io.BytesIO(b"orphan"), 6)

    report = maintenance.fsck(ctx)

    assert sorted(b.key for b in report.orphan_blobs) == ["v/a", "v/a/a", "v/a/d/f", "v/a0"]
    assert sorted(v.blob_key for v, _ in report.missing_blobs) == sorted(v.blob_key for v in lost)


def test_fsck_of_a_consistent_site_reports_nothing(ctx, world):
    alice = world.user("alice")
    for n in range(5):
        world.upload(alice, world.home(alice), f"file {n}.txt", b"same name, other key")
    assert maintenance.fsck(ctx).ok


def test_fsck_stops_when_the_database_sorts_keys_in_another_order(gs, db_url, monkeypatch):
    monkeypatch.setitem(maintenance.BYTE_ORDER, "sqlite", "NOCASE")
    with pytest.raises(Undo), gs.unit_of_work() as ctx:
        if db_url.startswith("postgresql"):
            monkeypatch.delitem(maintenance.BYTE_ORDER, "postgresql")
            locale_collation(ctx.db)
        world = World(ctx)
        alice = world.user("alice")
        first = world.upload(alice, world.home(alice), "report.txt", b"report")
        add_versions(ctx, first, ["v/a_B", "v/a-b", "v/A_b", "v/b"], with_blobs=True)
        with pytest.raises(maintenance.KeysOutOfOrder):
            maintenance.fsck(ctx)
        raise Undo


def test_two_gc_runs_at_once_purge_once_and_keep_the_quota_exact(gs, world):
    """Two nodes' timers start `gshare gc` together: both finish, each expired item is purged
    once, and the space's usage is what is left (given back once, not twice)."""
    alice = world.user("alice")
    home = world.home(alice)
    kept = world.upload(alice, home, "kept.txt", b"k" * 10)
    for n in range(40):
        world.upload(alice, home, f"old{n}.txt", b"o" * 100)
    world.ctx.db.commit()
    space_id = kept.node.space_id
    long_ago = utcnow() - timedelta(days=365)
    with gs.unit_of_work() as ctx:
        used_before = ctx.db.get(Space, space_id).used_bytes
        ctx.db.execute(
            update(Node)
            .where(Node.space_id == space_id, Node.name.like("old%"))
            .values(deleted_at=long_ago)
        )
    assert used_before == 10 + 40 * 100  # presence: the trashed files still count

    errors = []

    def run_gc():
        try:
            with gs.unit_of_work() as ctx:
                maintenance.gc(ctx)
        except Exception as exc:  # reported below, with the other run's
            errors.append(exc)

    runs = [threading.Thread(target=run_gc) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=120)
    assert errors == []
    with gs.unit_of_work() as ctx:
        names = set(ctx.db.scalars(select(Node.name).where(Node.space_id == space_id)))
        assert "kept.txt" in names and not any(n.startswith("old") for n in names)
        assert ctx.db.get(Space, space_id).used_bytes == 10


def test_gc_forgets_sessions_ended_a_month_ago_and_quiet_throttle_counts_but_keeps_live_ones(
    gs, world
):
    alice = world.user("alice")
    ctx, now = world.ctx, utcnow()
    live = sessions.start_session(ctx, alice, now=now).session
    ended_today = sessions.start_session(ctx, alice, now=now - timedelta(days=2)).session
    ended_today.revoked_at = now - timedelta(days=1)
    old = sessions.start_session(ctx, alice, now=now - timedelta(days=60)).session
    ctx.db.add_all(
        [
            SignInFailures(ip="192.0.2.1", username="alice", failures=3, last_failed_at=now),
            SignInFailures(
                ip="192.0.2.2", username="alice", failures=3, last_failed_at=now - timedelta(days=3)
            ),
            LinkPasswordThrottle(
                scope="address", subject="192.0.2.1", failures=5, window_started_at=now
            ),
            LinkPasswordThrottle(
                scope="address",
                subject="192.0.2.2",
                failures=5,
                window_started_at=now - timedelta(days=3),
                locked_until=now - timedelta(days=2),
            ),
        ]
    )
    ctx.db.commit()
    assert ctx.db.scalar(select(func.count()).select_from(UserSession)) == 3

    with gs.unit_of_work() as unit:
        report = maintenance.gc(unit)

    assert report.rows_forgotten == 3
    kept = {row.id for row in ctx.db.scalars(select(UserSession))}
    assert kept == {live.id, ended_today.id} and old.id not in kept
    assert [row.ip for row in ctx.db.scalars(select(SignInFailures))] == ["192.0.2.1"]
    assert [row.subject for row in ctx.db.scalars(select(LinkPasswordThrottle))] == ["192.0.2.1"]
