"""Secrets shown once, on the page a form redirects to: a new API token, an S3 access key's
secret, a public link's address.

Flask's session is a cookie that is signed, not encrypted: whoever holds it can read it (the
browser's cookie store on disk, a proxy that logs headers). A secret crosses it for that one
redirect encrypted under a key of the server's (gshare.local.fernet), is good for five minutes,
and is gone from the session once the page has shown it.
"""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from flask import session

from gshare.core import crypto
from web.context import ctx

SHOWN_WITHIN_SECONDS = 300
_PURPOSE = b"gshare shown-once v1"


def keep(name: str, value) -> None:
    """Keep a value (anything JSON can hold) for the next page that takes it."""
    box = crypto.fernet(ctx().config, _PURPOSE)
    session[name] = box.encrypt(json.dumps(value).encode()).decode("ascii")


def take(name: str):
    """Return the value kept under name, once; None if there is none or it is too old."""
    sealed = session.pop(name, None)
    if not isinstance(sealed, str):
        return None
    box = crypto.fernet(ctx().config, _PURPOSE)
    try:
        return json.loads(box.decrypt(sealed.encode("ascii"), ttl=SHOWN_WITHIN_SECONDS))
    except (InvalidToken, ValueError):
        return None
