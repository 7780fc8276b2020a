"""The `gshare` command: the group, its shared helpers, and the server, worker, schema and
maintenance commands. The organisation's commands are in cli_people.py; quarantine and access
keys in cli_security.py."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import timedelta

import click

from gshare import db as database
from gshare import maintenance
from gshare.config import ConfigError, config_path_from_env, load_config
from gshare.errors import GshareError


class Obj:
    """What the commands share: the config, and gshare built on demand."""

    def __init__(self, config):
        self.config = config

    @contextlib.contextmanager
    def unit_of_work(self, with_storage: bool = False):
        """Yield a context for one command: one transaction, committed at the end."""
        from gshare import local
        from gshare.runtime import Gshare

        if self.config.database.auto_upgrade:
            database.upgrade(self.config.database_url)
        stack = contextlib.ExitStack()
        with stack:
            endpoint, keys = "http://127.0.0.1:1", ("unused", "unused")
            if with_storage:
                endpoint, keys = stack.enter_context(local.object_store(self.config))
            gs = Gshare.from_config(self.config, storage_endpoint=endpoint, storage_keys=keys)
            with gs.unit_of_work() as ctx:
                yield ctx


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


class Group(click.Group):
    """A group whose commands report gshare's errors as one line, not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (GshareError, ConfigError) as exc:
            fail(str(exc))


@click.group(cls=Group)
@click.option("--config", "config_path", metavar="PATH",
              help="Config file (default: $GSHARE_CONFIG, else the built-in defaults).")
@click.pass_context
def main(ctx, config_path):
    """G-Share: the government file-share."""
    config_path = config_path or config_path_from_env(os.environ)
    try:
        ctx.obj = Obj(load_config(config_path))
    except ConfigError as exc:
        fail(str(exc))


@main.command()
@click.pass_obj
def serve(obj):
    """Run the web server (and the embedded S3 server when no endpoint is set)."""
    from gshare.server import serve as run

    run(obj.config)


@main.command()
@click.option("--threads", type=int, help="Scan threads (default: [server] scan_workers; "
              "always 1 on SQLite).")
@click.pass_obj
def worker(obj, threads):
    """Scan uploads with clamd until stopped (run on as many machines as you like)."""
    from gshare.worker import run_workers

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


# -- maintenance -----------------------------------------------------------------------------

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
    click.echo("ok" if report.ok else
               f"{len(report.missing_blobs)} missing, {len(report.orphan_blobs)} orphans")
    sys.exit(0 if report.ok else 1)


@main.command()
@click.option("--grace-hours", type=float,
              help="Keep orphans younger than this (default: [retention] orphan_grace_hours).")
@click.pass_obj
def gc(obj, grace_hours):
    """Remove orphan blobs and abandoned uploads; purge trash past its retention."""
    grace = timedelta(hours=grace_hours) if grace_hours is not None else None
    with obj.unit_of_work(with_storage=True) as ctx:
        report = maintenance.gc(ctx, grace)
    click.echo(f"removed {report.orphans_removed} orphan blobs, aborted "
               f"{report.uploads_aborted} uploads, purged {report.trash_purged} trashed items")


from gshare import cli_people, cli_security  # noqa: E402, F401  (they add their commands to main)
