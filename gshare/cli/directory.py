"""`gshare directory sync`: bring the people of the ministry's directory into gshare (run from a
timer; docs/identity.md)."""

from __future__ import annotations

import sys

import click

from gshare.accounts import directory_people
from gshare.cli.base import Group, fail, main


@main.group(cls=Group)
def directory():
    """The ministry's directory (LDAP / Active Directory)."""


@directory.command("sync")
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.pass_obj
def directory_sync(obj, dry_run):
    """Create, move and disable directory people; exit 1 when any entry was skipped."""
    if not obj.config.ldap.enabled:
        fail("no directory is configured: set [ldap] url (docs/identity.md)")
    with obj.unit_of_work() as ctx:
        prefix = "would " if dry_run else ""
        report = directory_people.sync_directory(ctx, say=lambda line: click.echo(prefix + line))
        if dry_run:
            ctx.db.rollback()
        click.echo(("dry run, nothing changed: " if dry_run else "") + report.summary())
    if report.skipped:
        sys.exit(1)
