"""The embedded object store for one machine: the local S3 server under data_dir, its keys made
on first use, or the configured store when there is one."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from collections.abc import Iterator

import storage
from gshare.core.config import Config
from gshare.core.crypto import kept_secret


def embedded_credentials(config: Config) -> tuple[str, str]:
    """Return the access and secret key of the embedded S3 server, made on first use."""
    path = config.data_dir / "s3" / "credentials.json"
    text = kept_secret(
        path,
        lambda: json.dumps(
            {"access_key": "gshare" + secrets.token_hex(6), "secret_key": secrets.token_urlsafe(30)}
        ),
    )
    data = json.loads(text)
    return data["access_key"], data["secret_key"]


@contextlib.contextmanager
def object_store(config: Config) -> Iterator[tuple[str, tuple[str, str]]]:
    """Yield (endpoint, keys) of the object store, starting the embedded one when needed.

    When the embedded server already runs (under `gshare serve`), it is used as it is.
    """
    if not config.embedded_storage:
        yield config.storage.endpoint, (config.storage.access_key, config.storage.secret_key)
        return
    keys = embedded_credentials(config)
    port = config.storage.embedded_port
    if _listening(port):
        yield f"http://127.0.0.1:{port}", keys
        return
    server = storage.EmbeddedS3Server(config.data_dir / "s3", *keys, port=port)
    server.start()
    try:
        yield server.endpoint, keys
    finally:
        server.stop()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
