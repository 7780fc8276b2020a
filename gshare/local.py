"""The embedded defaults for one machine: generated secrets and the local S3 server under var/."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import storage
from gshare.config import Config


def secret_key(config: Config) -> str:
    """Return the configured secret key, or one generated once and kept in data_dir."""
    if config.server.secret_key:
        return config.server.secret_key
    return _kept_secret(config.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))


def fernet(config: Config, purpose: bytes) -> Fernet:
    """Return the Fernet (AES-128-CBC with HMAC-SHA256) of one purpose, its key derived from
    the server secret with HKDF: a new purpose gets a key of its own, and a new server secret
    makes what was encrypted under the old one unreadable."""
    return _fernet_for(secret_key(config), purpose)


@lru_cache(maxsize=16)
def _fernet_for(server_secret: str, purpose: bytes) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(server_secret.encode())))


def embedded_credentials(config: Config) -> tuple[str, str]:
    """Return the access and secret key of the embedded S3 server, made on first use."""
    path = config.data_dir / "s3" / "credentials.json"
    text = _kept_secret(path, lambda: json.dumps(
        {"access_key": "gshare" + secrets.token_hex(6), "secret_key": secrets.token_urlsafe(30)}))
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


def _kept_secret(path: Path, make) -> str:
    """Return the secret kept in a file, made and written first if there is none (read once
    per process: the S3 endpoint asks for it on every request)."""
    if path not in _KEPT:
        _KEPT[path] = _read_or_make(path, make)
    return _KEPT[path]


_KEPT: dict[Path, str] = {}


def _read_or_make(path: Path, make) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs is the one
        for _ in range(100):
            if kept := path.read_text().strip():
                return kept
            time.sleep(0.02)  # created, not yet written
        raise
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0
