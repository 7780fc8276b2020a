"""The server secret (configured, or generated once and kept under data_dir) and the keys
derived from it, one per purpose; also the other secrets gshare makes and keeps for itself."""

from __future__ import annotations

import base64
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gshare.core.config import Config


def secret_key(config: Config) -> str:
    """Return the configured secret key, or one generated once and kept in data_dir."""
    if config.server.secret_key:
        return config.server.secret_key
    return kept_secret(config.data_dir / "secret_key", lambda: secrets.token_urlsafe(48))


def fernet(config: Config, purpose: bytes) -> MultiFernet:
    """Return the Fernet key ring (AES-128-CBC with HMAC-SHA256) of one purpose: its keys
    derived from the server secret and from the retired ones (`[server] old_secret_keys`) with
    HKDF. It encrypts under the current secret and decrypts under any of them, so a secret can
    be rotated (docs/production.md); a new purpose gets keys of its own."""
    secrets_in_use = (secret_key(config), *config.server.old_secret_keys)
    return MultiFernet([_fernet_for(secret, purpose) for secret in secrets_in_use])


def reseal(config: Config, purpose: bytes, sealed: str) -> str | None:
    """Return a value sealed by fernet(config, purpose) sealed again under the current server
    secret (after a rotation); None when it already is, or when no secret in the ring opens
    it (then it stays as it is: what it protects cannot be used)."""
    token = sealed.encode("ascii")
    try:
        _fernet_for(secret_key(config), purpose).decrypt(token)
        return None
    except InvalidToken:
        pass
    try:
        return fernet(config, purpose).rotate(token).decode("ascii")
    except InvalidToken:
        return None


@lru_cache(maxsize=16)
def _fernet_for(server_secret: str, purpose: bytes) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(server_secret.encode())))


def kept_secret(path: Path, make) -> str:
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
