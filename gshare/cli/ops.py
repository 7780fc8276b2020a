"""Running and keeping gshare: the scan worker, the database schema, fsck and gc."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from gshare.cli.base import Group, main
from gshare.core import db as database
from gshare.ops import maintenance
from gshare.scanning.worker import run_workers


@main.command()
@click.option(
    "--threads", type=int, help="Scan threads (default: [server] scan_workers; always 1 on SQLite)."
)
@click.pass_obj
def worker(obj, threads):
    """Scan uploads with clamd until stopped (run on as many machines as you like)."""
    run_workers(obj.config, threads)


@main.group(cls=Group)
def db():
    """Database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade(obj, revision):
    """Create or upgrade the database schema."""
    database.upgrade(obj.config.database_url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.pass_obj
def fsck(obj):
    """Report version rows whose blob is missing and blobs no row points to."""
    with obj.unit_of_work(with_storage=True) as ctx:
        report = maintenance.fsck(ctx)
        for version, path in report.missing_blobs:
            click.echo(f"missing blob\t{version.blob_key}\t{path} (version {version.number})")
        for blob in report.orphan_blobs:
            click.echo(f"orphan blob\t{blob.key}\t{blob.size} bytes\t{blob.last_modified}")
    click.echo(
        "ok"
        if report.ok
        else f"{len(report.missing_blobs)} missing, {len(report.orphan_blobs)} orphans"
    )
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option(
    "--grace-hours",
    type=float,
    help="Keep orphans younger than this (default: [retention] orphan_grace_hours).",
)
@click.pass_obj
def gc(obj, grace_hours):
    """Remove orphan blobs and abandoned uploads; purge trash past its retention."""
    grace = timedelta(hours=grace_hours) if grace_hours is not None else None
    with obj.unit_of_work(with_storage=True) as ctx:
        report = maintenance.gc(ctx, grace)
    click.echo(
        f"removed {report.orphans_removed} orphan blobs, aborted "
        f"{report.uploads_aborted} uploads, purged {report.trash_purged} trashed items, "
        f"forgot {report.rows_forgotten} ended sessions and old sign-in counts"
    )
