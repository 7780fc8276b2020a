"""The `gshare` command for operators: people and departments, sharing, quarantine, access
keys, the scan worker, the schema, fsck and gc. Each module adds its commands to `main`
(base.py); `gshare serve`, which runs the front ends, is added by web/cli.py."""

from gshare.cli import directory, ops, people, security  # noqa: F401  (each adds its commands to main)
from gshare.cli.base import main

__all__ = ["main"]
