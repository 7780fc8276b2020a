"""The installed `gshare` command: the operator's commands (gshare/cli/) and `gshare serve`,
which runs the front ends and so is added here, beside them."""

import click

from gshare.cli import main
from web.serve import PortTaken, serve, serve_s3, serve_web


@main.command("serve")
@click.pass_obj
def serve_command(obj):
    """Run the web server, the S3 endpoint and a scan worker (and the embedded S3 server when
    no endpoint is set)."""
    _run(serve, obj.config)


@main.command("web")
@click.pass_obj
def web_command(obj):
    """Run the web server alone (for fleets: one systemd unit per part)."""
    _run(serve_web, obj.config)


@main.command("s3")
@click.pass_obj
def s3_command(obj):
    """Run the S3 endpoint alone (for fleets: one systemd unit per part)."""
    _run(serve_s3, obj.config)


def _run(server, config) -> None:
    try:
        server(config)
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None


__all__ = ["main"]
