"""`gshare department|user|space|share`: the organisation from the command line."""

from __future__ import annotations

import sys

import click

from gshare.accounts import factors, login, sessions
from gshare.cli.base import Group, fail, main
from gshare.core.actor import OPERATOR
from gshare.core.config import GiB
from gshare.core.context import Context
from gshare.core.models import Department, User, UserRole
from gshare.files.lookup import resolve_path
from gshare.org import departments, spaces, users
from gshare.sharing import grants

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
        parent_dep = departments.find_department(ctx, parent) if parent else None
        dep = departments.add_department(ctx, OPERATOR, name, parent_dep, slug=slug)
        space = departments.department_space(ctx, dep)
        click.echo(f"{dep.id}\t{departments.full_name(ctx, dep)}\t{space.slug}")


@department.command("list")
@click.pass_obj
def department_list(obj):
    """List departments: id, full name, space name."""
    with obj.unit_of_work() as ctx:
        for dep, name in departments.list_departments(ctx):
            click.echo(f"{dep.id}\t{name}\t{departments.department_space(ctx, dep).slug}")


@department.command("move")
@click.argument("ref")
@click.option("--parent", help="New parent department; leave out to move to the top.")
@click.pass_obj
def department_move(obj, ref, parent):
    """Move a department under another one."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx, ref)
        new_parent = departments.find_department(ctx, parent) if parent else None
        departments.move_department(ctx, OPERATOR, dep, new_parent)
        click.echo(departments.full_name(ctx, dep))


@department.command("rename")
@click.argument("ref")
@click.argument("name")
@click.pass_obj
def department_rename(obj, ref, name):
    """Rename a department."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx, ref)
        departments.rename_department(ctx, OPERATOR, dep, name)
        click.echo(departments.full_name(ctx, dep))


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
@click.option(
    "--role", type=click.Choice([r.value for r in UserRole]), default="member", show_default=True
)
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--no-password", is_flag=True, help="Create without a password (set one later).")
@click.pass_obj
def user_add(obj, username, display_name, department_ref, role, email, password_stdin, no_password):
    """Add a person with their personal space."""
    password = None if no_password else read_password(username, password_stdin)
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx, department_ref)
        new = users.add_user(
            ctx,
            OPERATOR,
            username,
            display_name,
            dep,
            role=UserRole(role),
            password=password,
            email=email,
        )
        click.echo(f"{new.id}\t{new.username}\t{spaces.personal_space(ctx, new).slug}")


@user.command("list")
@click.option("--department", "department_ref")
@click.pass_obj
def user_list(obj, department_ref):
    """List people: username, name, department, role, state."""
    with obj.unit_of_work() as ctx:
        dep = departments.find_department(ctx, department_ref) if department_ref else None
        for u in users.list_users(ctx, dep):
            state = "disabled" if u.disabled else "active"
            dep_name = departments.full_name(ctx, u.department)
            click.echo(f"{u.username}\t{u.display_name}\t{dep_name}\t{u.role}\t{state}")


@user.command("disable")
@click.argument("username")
@click.pass_obj
def user_disable(obj, username):
    """Disable an account; its sessions end at once."""
    with obj.unit_of_work() as ctx:
        users.set_disabled(ctx, OPERATOR, users.find_user(ctx, username), True)
        click.echo(f"{username} disabled")


@user.command("enable")
@click.argument("username")
@click.pass_obj
def user_enable(obj, username):
    """Enable a disabled account."""
    with obj.unit_of_work() as ctx:
        users.set_disabled(ctx, OPERATOR, users.find_user(ctx, username), False)
        click.echo(f"{username} enabled")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def user_set_password(obj, username, password_stdin):
    """Set a person's password; their sessions end."""
    password = read_password(username, password_stdin)
    with obj.unit_of_work() as ctx:
        users.set_password(ctx, OPERATOR, users.find_user(ctx, username), password)
        click.echo(f"password of {username} set")


@user.command("sessions-end")
@click.argument("username")
@click.pass_obj
def user_sessions_end(obj, username):
    """End every session of a person; they must sign in again everywhere."""
    with obj.unit_of_work() as ctx:
        ended = sessions.end_all_sessions(ctx, OPERATOR, users.find_user(ctx, username))
        click.echo(f"{ended} sessions of {username} ended")


@user.command("unlock")
@click.argument("username")
@click.pass_obj
def user_unlock(obj, username):
    """Lift a sign-in lock after too many wrong passwords (and every address's wait)."""
    with obj.unit_of_work() as ctx:
        login.unlock_account(ctx, OPERATOR, users.find_user(ctx, username))
        click.echo(f"{username} unlocked")


@user.command("reset-factors")
@click.argument("username")
@click.pass_obj
def user_reset_factors(obj, username):
    """Remove a person's second factors and recovery codes (a lost phone); their sessions end."""
    with obj.unit_of_work() as ctx:
        removed = factors.reset_factors(ctx, OPERATOR, users.find_user(ctx, username))
        click.echo(f"{removed} second factors of {username} removed; sessions ended")


@user.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.pass_obj
def user_import(obj, csv_file):
    """Create people from a CSV file (username,display_name,department[,role][,email]).

    Prints username,initial_password for each new account: hand them out, then keep no copy.
    """
    with obj.unit_of_work() as ctx:
        created = users.import_users(ctx, OPERATOR, csv_file)
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
        target = spaces.get_space(ctx, OPERATOR, slug)
        spaces.set_quota(ctx, OPERATOR, target, int(gigabytes * GiB) or None)
        click.echo(f"{slug}\t{target.quota_bytes or 'unlimited'}")


def find_node(ctx: Context, path: str):
    """Return the node at 'space-slug/folder/file'."""
    slug, _, rest = path.strip("/").partition("/")
    target = spaces.get_space(ctx, OPERATOR, slug)
    return resolve_path(ctx, OPERATOR, spaces.root_of(ctx.db, target), rest)


def grantee(ctx: Context, user_ref, department_ref):
    """Return (user, department) from the options; exactly one must be given."""
    if bool(user_ref) == bool(department_ref):
        fail("give exactly one of --user or --department")
    if user_ref:
        return users.find_user(ctx, user_ref), None
    return None, departments.find_department(ctx, department_ref)


@main.group(cls=Group)
def share():
    """Share folders and files with people and departments."""


@share.command("grant")
@click.argument("path")
@click.option(
    "--role", type=click.Choice(["viewer", "editor", "manager", "uploader"]), required=True
)
@click.option("--user", "user_ref")
@click.option("--department", "department_ref")
@click.option("--with-subdepartments", is_flag=True)
@click.pass_obj
def share_grant(obj, path, role, user_ref, department_ref, with_subdepartments):
    """Grant a role on SPACE/PATH to a person or a department."""
    with obj.unit_of_work() as ctx:
        node = find_node(ctx, path)
        who, dep = grantee(ctx, user_ref, department_ref)
        grants.grant_role(
            ctx,
            OPERATOR,
            node.id,
            role,
            user=who,
            department=dep,
            include_subdepartments=with_subdepartments,
        )
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
        for access in grants.list_access(ctx, OPERATOR, node.id):
            grant = access.grant
            if access.inherited_from is None and (
                (who and grant.user_id == who.id) or (dep and grant.department_id == dep.id)
            ):
                grants.revoke_grant(ctx, OPERATOR, grant.id)
                click.echo(f"revoked {grant.role} on {path}")
                return
        fail(f"no grant on {path} for {user_ref or department_ref}")


@share.command("list")
@click.argument("path")
@click.pass_obj
def share_list(obj, path):
    """List who has access to SPACE/PATH (inherited grants included)."""

    with obj.unit_of_work() as ctx:
        for access in grants.list_access(ctx, OPERATOR, find_node(ctx, path).id):
            g = access.grant
            who = (
                ctx.db.get(User, g.user_id).username
                if g.user_id
                else departments.full_name(ctx, ctx.db.get(Department, g.department_id))
                + (" (+sub-departments)" if g.include_subdepartments else "")
            )
            where = "here" if access.inherited_from is None else f"from #{g.node_id}"
            click.echo(f"{g.role}\t{who}\t{where}")
