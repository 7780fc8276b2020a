"""`gshare quarantine|key`: review quarantined versions, manage S3 access keys."""

from __future__ import annotations

import click

from gshare.accounts import access_keys
from gshare.cli.base import Group, main
from gshare.core.actor import OPERATOR
from gshare.core.models import Space, User
from gshare.org import spaces, users
from gshare.scanning import quarantine
from gshare.sharing import links

# -- quarantine ------------------------------------------------------------------------------


@main.group("quarantine", cls=Group)
def quarantine_group():
    """Versions found infected or blocked, kept out of every path."""


@quarantine_group.command("list")
@click.pass_obj
def quarantine_list(obj):
    """List quarantined versions: id, when, uploader, path, signature or reason."""
    with obj.unit_of_work() as ctx:
        for item in quarantine.list_quarantine(ctx, OPERATOR):
            v = item.version
            who = item.uploader.username if item.uploader else "-"
            click.echo(
                f"{v.id}\t{v.uploaded_at:%Y-%m-%d %H:%M}\t{who}\t{item.path}\t"
                f"{v.scan_state}: {v.scan_signature}"
            )


@quarantine_group.command("show")
@click.argument("version_id", type=int)
@click.pass_obj
def quarantine_show(obj, version_id):
    """Show one quarantined version."""
    with obj.unit_of_work() as ctx:
        item = quarantine.show_quarantined(ctx, OPERATOR, version_id)
        v = item.version
        for label, value in (
            ("path", item.path),
            ("version", v.number),
            ("state", v.scan_state),
            ("signature", v.scan_signature),
            ("size", v.size),
            ("sha256", v.sha256),
            ("type", v.content_type),
            ("uploader", item.uploader.username if item.uploader else "-"),
            ("uploaded", v.uploaded_at),
            ("scanned", v.scanned_at),
            ("signatures", v.scan_db_version),
        ):
            click.echo(f"{label}:\t{value}")


@quarantine_group.command("release")
@click.argument("version_id", type=int)
@click.option("--reason", required=True, help="Why it is safe (goes into the audit log).")
@click.pass_obj
def quarantine_release(obj, version_id, reason):
    """Release a quarantined version (e.g. a false positive)."""
    with obj.unit_of_work() as ctx:
        quarantine.release_version(ctx, OPERATOR, version_id, reason)
        click.echo(f"version {version_id} released")


@quarantine_group.command("delete")
@click.argument("version_id", type=int)
@click.pass_obj
def quarantine_delete(obj, version_id):
    """Delete a quarantined version for good."""
    with obj.unit_of_work(with_storage=True) as ctx:
        quarantine.delete_quarantined(ctx, OPERATOR, version_id)
        click.echo(f"version {version_id} deleted")


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
    with obj.unit_of_work() as ctx:
        person = users.find_user(ctx, username)
        target = spaces.get_space(ctx, OPERATOR, slug) if slug else None
        new = access_keys.create_key(ctx, OPERATOR, person, label, read_only, target)
    click.echo(f"access key id:     {new.key.key_id}")
    click.echo(f"secret access key: {new.secret}")
    click.echo("The secret is shown only now; keep it somewhere safe.")


@key.command("list")
@click.argument("username", required=False)
@click.option("--revoked", is_flag=True, help="Include revoked keys.")
@click.pass_obj
def key_list(obj, username, revoked):
    """List the access keys of USERNAME (everyone's without it)."""

    with obj.unit_of_work() as ctx:
        person = users.find_user(ctx, username) if username else None
        for k in access_keys.list_keys(ctx, OPERATOR, person, revoked=revoked):
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
    with obj.unit_of_work() as ctx:
        access_keys.revoke_key(ctx, OPERATOR, key_id)
    click.echo(f"revoked {key_id}")


@key.command("reencrypt")
@click.pass_obj
def key_reencrypt(obj):
    """Encrypt every key's secret and every public link's kept token under the current
    [server] secret_key (after a rotation; then the old secret can leave old_secret_keys)."""
    with obj.unit_of_work() as ctx:
        changed = access_keys.reencrypt_secrets(ctx)
        tokens = links.reencrypt_tokens(ctx)
    click.echo(f"{changed} key secret(s) now under the current server secret")
    click.echo(f"{tokens} link token(s) now under the current server secret")
