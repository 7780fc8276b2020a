"""The `gshare` command: run the server, manage the schema, departments, people and shares."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import timedelta

import click

from gshare import db as database
from gshare import departments, maintenance, sharing, spaces, users
from gshare.config import ConfigError, GiB, config_path_from_env, load_config
from gshare.errors import GshareError
from gshare.models import UserRole
from gshare.permissions import SYSTEM
from gshare.tree import resolve_path


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


# -- departments -----------------------------------------------------------------------------

@main.group(cls=Group)
def department():
    """Departments (ministry > department > division)."""


@department.command("add")
@click.argument("name")
@click.option("--parent", help="Parent department: id, full name or space name.")
@click.option("--slug", help="Space name for sync tools (S3 bucket rules).")
@click.pass_obj
def department_add(obj, name, parent, slug):
    """Add a department with its space."""
    with obj.unit_of_work() as ctx:
        parent_dep = departments.find_department(ctx.db, parent) if parent else None
        dep = departments.add_department(ctx, SYSTEM, name, parent_dep, slug=slug)
        space = departments.department_space(ctx.db, dep)
        click.echo(f"{dep.id}\t{departments.full_name(ctx.db, dep)}\t{space.slug}")


@department.command("list")
@click.pass_obj
def department_list(obj):
    """List departments: id, full name, space name."""
    with obj.unit_of_work() as ctx:
        for dep, name in departments.list_departments(ctx.db):
            click.echo(f"{dep.id}\t{name}\t{departments.department_space(ctx.db, dep).slug}")


@department.command("move")
@click.argument("ref")
@click.option("--parent", help="New parent department; leave out to move to the top.")
@click.pass_obj
def department_move(obj, ref, parent):
    """Move a department under another one."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx.db, ref)
        new_parent = departments.find_department(ctx.db, parent) if parent else None
        departments.move_department(ctx, SYSTEM, dep, new_parent)
        click.echo(departments.full_name(ctx.db, dep))


@department.command("rename")
@click.argument("ref")
@click.argument("name")
@click.pass_obj
def department_rename(obj, ref, name):
    """Rename a department."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx.db, ref)
        departments.rename_department(ctx, SYSTEM, dep, name)
        click.echo(departments.full_name(ctx.db, dep))


# -- users -----------------------------------------------------------------------------------

def read_password(username: str, from_stdin: bool) -> str:
    """Read a password from a hidden prompt, or one line of stdin; never from argv."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


@main.group(cls=Group)
def user():
    """People's accounts."""


@user.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name as shown to others.")
@click.option("--department", "department_ref", required=True)
@click.option("--role", type=click.Choice([r.value for r in UserRole]), default="member",
              show_default=True)
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="Create without a password (set one later).")
@click.pass_obj
def user_add(obj, username, display_name, department_ref, role, email, password_stdin,
             no_password):
    """Add a person with their personal space."""
    password = None if no_password else read_password(username, password_stdin)
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx.db, department_ref)
        new = users.add_user(ctx, SYSTEM, username, display_name, dep, role=UserRole(role),
                             password=password, email=email)
        click.echo(f"{new.id}\t{new.username}\t{spaces.personal_space(ctx.db, new).slug}")


@user.command("list")
@click.option("--department", "department_ref")
@click.pass_obj
def user_list(obj, department_ref):
    """List people: username, name, department, role, state."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx.db, department_ref) if department_ref else None
        for u in users.list_users(ctx.db, dep):
            state = "disabled" if u.disabled else "active"
            dep_name = departments.full_name(ctx.db, u.department)
            click.echo(f"{u.username}\t{u.display_name}\t{dep_name}\t{u.role}\t{state}")


@user.command("disable")
@click.argument("username")
@click.pass_obj
def user_disable(obj, username):
    """Disable an account; its sessions end at once."""
    with obj.unit_of_work() as ctx:
        users.set_disabled(ctx, SYSTEM, users.find_user(ctx.db, username), True)
        click.echo(f"{username} disabled")


@user.command("enable")
@click.argument("username")
@click.pass_obj
def user_enable(obj, username):
    """Enable a disabled account."""
    with obj.unit_of_work() as ctx:
        users.set_disabled(ctx, SYSTEM, users.find_user(ctx.db, username), False)
        click.echo(f"{username} enabled")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_set_password(obj, username, password_stdin):
    """Set a person's password; their sessions end."""
    password = read_password(username, password_stdin)
    with obj.unit_of_work() as ctx:
        users.set_password(ctx, SYSTEM, users.find_user(ctx.db, username), password)
        click.echo(f"password of {username} set")


@user.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.pass_obj
def user_import(obj, csv_file):
    """Create people from a CSV file (username,display_name,department[,role][,email]).

    Prints username,initial_password for each new account: hand them out, then keep no copy.
    """
    with obj.unit_of_work() as ctx:
        created = users.import_users(ctx, SYSTEM, csv_file)
    click.echo("username,initial_password")
    for item in created:
        click.echo(f"{item.username},{item.initial_password}")


# -- spaces and shares -----------------------------------------------------------------------

@main.group(cls=Group)
def space():
    """Spaces and their quotas."""


@space.command("quota")
@click.argument("slug")
@click.argument("gigabytes", type=float)
@click.pass_obj
def space_quota(obj, slug, gigabytes):
    """Set a space's quota in GB (0 = unlimited)."""
    with obj.unit_of_work() as ctx:
        target = spaces.get_space(ctx.db, SYSTEM, slug)
        spaces.set_quota(ctx, SYSTEM, target, int(gigabytes * GiB) or None)
        click.echo(f"{slug}\t{target.quota_bytes or 'unlimited'}")


def find_node(ctx, path: str):
    """Return the node at 'space-slug/folder/file'."""
    slug, _, rest = path.strip("/").partition("/")
    target = spaces.get_space(ctx.db, SYSTEM, slug)
    return resolve_path(ctx.db, SYSTEM, spaces.root_of(ctx.db, target), rest)


def grantee(ctx, user_ref, department_ref):
    """Return (user, department) from the options; exactly one must be given."""
    if bool(user_ref) == bool(department_ref):
        fail("give exactly one of --user or --department")
    if user_ref:
        return users.find_user(ctx.db, user_ref), None
    return None, departments.find_department(ctx.db, department_ref)


@main.group(cls=Group)
def share():
    """Share folders and files with people and departments."""


@share.command("grant")
@click.argument("path")
@click.option("--role", type=click.Choice(["viewer", "editor", "manager", "uploader"]),
              required=True)
@click.option("--user", "user_ref")
@click.option("--department", "department_ref")
@click.option("--with-subdepartments", is_flag=True)
@click.pass_obj
def share_grant(obj, path, role, user_ref, department_ref, with_subdepartments):
    """Grant a role on SPACE/PATH to a person or a department."""
    with obj.unit_of_work() as ctx:
        node = find_node(ctx, path)
        who, dep = grantee(ctx, user_ref, department_ref)
        sharing.grant_role(ctx, SYSTEM, node.id, role, user=who, department=dep,
                           include_subdepartments=with_subdepartments)
        click.echo(f"{path}\t{role}\t{user_ref or department_ref}")


@share.command("revoke")
@click.argument("path")
@click.option("--user", "user_ref")
@click.option("--department", "department_ref")
@click.pass_obj
def share_revoke(obj, path, user_ref, department_ref):
    """Revoke what a person or a department was granted on SPACE/PATH."""
    with obj.unit_of_work() as ctx:
        node = find_node(ctx, path)
        who, dep = grantee(ctx, user_ref, department_ref)
        for access in sharing.list_access(ctx, SYSTEM, node.id):
            grant = access.grant
            if access.inherited_from is None and (
                    (who and grant.user_id == who.id) or (dep and grant.department_id == dep.id)):
                sharing.revoke_grant(ctx, SYSTEM, grant.id)
                click.echo(f"revoked {grant.role} on {path}")
                return
        fail(f"no grant on {path} for {user_ref or department_ref}")


@share.command("list")
@click.argument("path")
@click.pass_obj
def share_list(obj, path):
    """List who has access to SPACE/PATH (inherited grants included)."""
    from gshare.models import Department, User

    with obj.unit_of_work() as ctx:
        for access in sharing.list_access(ctx, SYSTEM, find_node(ctx, path).id):
            g = access.grant
            who = (ctx.db.get(User, g.user_id).username if g.user_id else
                   departments.full_name(ctx.db, ctx.db.get(Department, g.department_id))
                   + (" (+sub-departments)" if g.include_subdepartments else ""))
            where = "here" if access.inherited_from is None else f"from #{g.node_id}"
            click.echo(f"{g.role}\t{who}\t{where}")


# -- quarantine ------------------------------------------------------------------------------

@main.group(cls=Group)
def quarantine():
    """Versions found infected or blocked, kept out of every path."""


@quarantine.command("list")
@click.pass_obj
def quarantine_list(obj):
    """List quarantined versions: id, when, uploader, path, signature or reason."""
    from gshare import quarantine as q

    with obj.unit_of_work() as ctx:
        for item in q.list_quarantine(ctx, SYSTEM):
            v = item.version
            who = item.uploader.username if item.uploader else "-"
            click.echo(f"{v.id}\t{v.uploaded_at:%Y-%m-%d %H:%M}\t{who}\t{item.path}\t"
                       f"{v.scan_state}: {v.scan_signature}")


@quarantine.command("show")
@click.argument("version_id", type=int)
@click.pass_obj
def quarantine_show(obj, version_id):
    """Show one quarantined version."""
    from gshare import quarantine as q

    with obj.unit_of_work() as ctx:
        item = q.show_quarantined(ctx, SYSTEM, version_id)
        v = item.version
        for label, value in (("path", item.path), ("version", v.number), ("state", v.scan_state),
                             ("signature", v.scan_signature), ("size", v.size),
                             ("sha256", v.sha256), ("type", v.content_type),
                             ("uploader", item.uploader.username if item.uploader else "-"),
                             ("uploaded", v.uploaded_at), ("scanned", v.scanned_at),
                             ("signatures", v.scan_db_version)):
            click.echo(f"{label}:\t{value}")


@quarantine.command("release")
@click.argument("version_id", type=int)
@click.option("--reason", required=True, help="Why it is safe (goes into the audit log).")
@click.pass_obj
def quarantine_release(obj, version_id, reason):
    """Release a quarantined version (e.g. a false positive)."""
    from gshare import quarantine as q

    with obj.unit_of_work() as ctx:
        q.release_version(ctx, SYSTEM, version_id, reason)
        click.echo(f"version {version_id} released")


@quarantine.command("delete")
@click.argument("version_id", type=int)
@click.pass_obj
def quarantine_delete(obj, version_id):
    """Delete a quarantined version for good."""
    from gshare import quarantine as q

    with obj.unit_of_work(with_storage=True) as ctx:
        q.delete_quarantined(ctx, SYSTEM, version_id)
        click.echo(f"version {version_id} deleted")


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


# -- access keys for the S3 endpoint ---------------------------------------------------------

@main.group(cls=Group)
def key():
    """Create, list and revoke people's S3 access keys."""


@key.command("create")
@click.argument("username")
@click.option("--label", default="", help="What the key is for (a machine, a script).")
@click.option("--read-only", is_flag=True, help="Allow only reads (list, download).")
@click.option("--space", "slug", help="Limit the key to one space (its S3 bucket name).")
@click.pass_obj
def key_create(obj, username, label, read_only, slug):
    """Create an access key for USERNAME; the secret is shown this once."""
    from gshare import access_keys

    with obj.unit_of_work() as ctx:
        person = users.find_user(ctx.db, username)
        target = spaces.get_space(ctx.db, SYSTEM, slug) if slug else None
        new = access_keys.create_key(ctx, SYSTEM, person, label, read_only, target)
    click.echo(f"access key id:     {new.key.key_id}")
    click.echo(f"secret access key: {new.secret}")
    click.echo("The secret is shown only now; keep it somewhere safe.")


@key.command("list")
@click.argument("username", required=False)
@click.option("--revoked", is_flag=True, help="Include revoked keys.")
@click.pass_obj
def key_list(obj, username, revoked):
    """List the access keys of USERNAME (everyone's without it)."""
    from gshare import access_keys
    from gshare.models import Space, User

    with obj.unit_of_work() as ctx:
        person = users.find_user(ctx.db, username) if username else None
        for k in access_keys.list_keys(ctx, SYSTEM, person, revoked=revoked):
            owner = ctx.db.get(User, k.user_id).username
            where = ctx.db.get(Space, k.space_id).slug if k.space_id else "all spaces"
            state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            used = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
            mode = "read-only" if k.read_only else "read-write"
            click.echo(f"{k.key_id}\t{owner}\t{mode}\t{where}\t{state}\t{used}\t{k.label}")


@key.command("revoke")
@click.argument("key_id")
@click.pass_obj
def key_revoke(obj, key_id):
    """Revoke the access key KEY_ID; requests signed with it are refused at once."""
    from gshare import access_keys

    with obj.unit_of_work() as ctx:
        access_keys.revoke_key(ctx, SYSTEM, key_id)
    click.echo(f"revoked {key_id}")
