"""The installed `gshare` command: the operator's commands (gshare/cli/) and `gshare serve`,
which runs the front ends and so is added here, beside them."""

import click

from gshare.cli import main
from web.serve import serve


@main.command("serve")
@click.pass_obj
def serve_command(obj):
    """Run the web server, the S3 endpoint and a scan worker (and the embedded S3 server when
    no endpoint is set)."""
    serve(obj.config)


__all__ = ["main"]
