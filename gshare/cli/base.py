"""The `gshare` group and what its commands share: the config, one unit of work per command,
errors reported as one line."""

from __future__ import annotations

import contextlib
import os
import sys

import click
import sqlalchemy.exc

from gshare.core import db as database
from gshare.core import embedded
from gshare.core.config import ConfigError, config_path_from_env, load_config
from gshare.core.context import Gshare
from gshare.core.errors import GshareError


class Obj:
    """What the commands share: the config, and gshare built on demand."""

    def __init__(self, config):
        self.config = config

    @contextlib.contextmanager
    def unit_of_work(self, with_storage: bool = False):
        """Yield a context for one command: one transaction, committed at the end."""
        if self.config.database.auto_upgrade:
            database.upgrade(self.config.database_url)
        stack = contextlib.ExitStack()
        with stack:
            endpoint, keys = "http://127.0.0.1:1", ("unused", "unused")
            if with_storage:
                endpoint, keys = stack.enter_context(embedded.object_store(self.config))
            gs = Gshare.from_config(self.config, storage_endpoint=endpoint, storage_keys=keys)
            with gs.unit_of_work() as ctx:
                yield ctx


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


class Group(click.Group):
    """A group whose commands report gshare's errors as one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (GshareError, ConfigError) as exc:
            fail(str(exc))
        except sqlalchemy.exc.OperationalError as exc:  # the server is away, or refuses us
            url = ctx.obj.config.database_url if isinstance(ctx.obj, Obj) else "?"
            fail(database.unreachable(url, exc))


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $GSHARE_CONFIG, else the built-in defaults).",
)
@click.pass_context
def main(ctx: click.Context, config_path):
    """G-Share: the government file-share."""
    config_path = config_path or config_path_from_env(os.environ)
    try:
        ctx.obj = Obj(load_config(config_path))
    except ConfigError as exc:
        fail(str(exc))
