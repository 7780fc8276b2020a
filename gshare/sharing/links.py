"""Public share links: a token that lets anyone holding it view or drop files, no account.

A link is stored only as the SHA-256 digest of its token; the token is shown once. A link may
carry a password (argon2), an expiry and a download limit; an upload-only link lets outsiders
add files (under free names, never over existing ones) without seeing what is there. Readers
through a link see only clean versions, like any other person but the uploader.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from gshare.access import gate
from gshare.access.permissions import Action
from gshare.activity import audit
from gshare.core import paths
from gshare.core.actor import OPERATOR, Actor
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, NotFound, PermissionDenied
from gshare.core.models import LinkMode, Node, ShareLink, utcnow
from gshare.core.names import clean_name
from gshare.files import content, lookup

_hasher = PasswordHasher()


def create_link(
    ctx: Context,
    actor: Actor,
    node_id: int,
    mode: str = LinkMode.VIEW,
    password: str | None = None,
    expires_at: datetime | None = None,
    max_downloads: int | None = None,
) -> tuple[ShareLink, str]:
    """Create a link to a folder or file; return it and its token (shown only now)."""
    node = lookup.get_node(ctx, actor, node_id, Action.SHARE)
    mode = _check(node, mode, expires_at, max_downloads)
    token = secrets.token_urlsafe(24)
    link = ShareLink(
        node_id=node.id,
        token_digest=digest(token),
        mode=mode,
        password_hash=_hasher.hash(password) if password else None,
        expires_at=expires_at,
        max_downloads=max_downloads,
        created_by=actor.id,
    )
    ctx.db.add(link)
    ctx.db.flush()
    audit.record(
        ctx,
        actor,
        "link.create",
        node=node,
        link_id=link.id,
        mode=str(mode),
        password=bool(password),
        max_downloads=max_downloads,
    )
    return link, token


def list_links(ctx: Context, actor: Actor, node_id: int) -> list[ShareLink]:
    """Return the live links of a node, newest first."""
    node = lookup.get_node(ctx, actor, node_id, Action.SHARE)
    return list(
        ctx.db.scalars(
            select(ShareLink)
            .where(ShareLink.node_id == node.id, ShareLink.revoked_at.is_(None))
            .order_by(ShareLink.id.desc())
        )
    )


def revoke_link(ctx: Context, actor: Actor, link_id: int) -> None:
    """Revoke a link: its token stops working at once."""
    link = ctx.db.get(ShareLink, link_id)
    if link is None or link.revoked_at is not None:
        raise NotFound()
    node = lookup.get_node(ctx, actor, link.node_id, Action.SHARE)
    link.revoked_at = utcnow()
    audit.record(ctx, actor, "link.revoke", node=node, link_id=link.id)


def digest(token: str) -> str:
    """Return the stored form of a link token."""
    return hashlib.sha256(token.encode()).hexdigest()


def resolve_link(ctx: Context, token: str) -> ShareLink:
    """Return the live link for a token, else NotFound (unknown, revoked, expired, trashed)."""
    link = ctx.db.scalar(select(ShareLink).where(ShareLink.token_digest == digest(token or "")))
    if link is None or link.revoked_at is not None or _expired(link):
        raise NotFound("This link does not exist, has expired or was revoked.")
    node = ctx.db.get(Node, link.node_id)
    if node is None or paths.in_trash(ctx.db, node):
        raise NotFound("This link does not exist, has expired or was revoked.")
    return link


def check_password(link: ShareLink, password: str) -> bool:
    """Return whether the password opens the link (always True for links without one)."""
    if link.password_hash is None:
        return True
    try:
        return _hasher.verify(link.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def downloads_left(link: ShareLink) -> int | None:
    """Return how many downloads the link still allows (None: no limit)."""
    if link.max_downloads is None:
        return None
    return max(link.max_downloads - link.download_count, 0)


def link_node(ctx: Context, link: ShareLink, node_id: int | None = None) -> Node:
    """Return the link's node, or a live node below it that readers of the link may see."""
    root = ctx.db.get(Node, link.node_id)
    if node_id is None or node_id == root.id:
        node = root
    else:
        node = ctx.db.get(Node, node_id)
        if node is None or root.id not in node.ancestor_ids or paths.in_trash(ctx.db, node):
            raise NotFound()
    if link.mode != LinkMode.VIEW and node.id != root.id:
        raise NotFound()
    if not node.is_folder and gate.current_version(ctx.db, None, node) is None:
        raise NotFound()
    return node


def list_link_folder(ctx: Context, link: ShareLink, folder: Node) -> list[lookup.Entry]:
    """List a folder seen through a view link: clean files only."""
    if link.mode != LinkMode.VIEW:
        raise PermissionDenied("This link only lets you add files.")
    return lookup.list_clean(ctx, folder)


def open_link_download(
    ctx: Context,
    link: ShareLink,
    node_id: int | None = None,
    byte_range: content.ByteRange | None = None,
) -> content.Download:
    """Open a file below a view link for reading; each whole download counts against the limit."""
    node = link_node(ctx, link, node_id)
    if link.mode != LinkMode.VIEW or node.is_folder:
        raise NotFound()
    if downloads_left(link) == 0:
        raise PermissionDenied("This link has reached its download limit.")
    download = content.open_checked(ctx, node, gate.current_version(ctx.db, None, node), byte_range)
    if download.start == 0:
        link.download_count += 1
    audit.record(ctx, None, "link.download", node=node, version=download.version, link_id=link.id)
    return download


def upload_to_link(ctx: Context, link: ShareLink, name: str, stream, size: int | None = None):
    """Add a file through an upload link, under a free name; owners see it once it is clean."""
    folder = ctx.db.get(Node, link.node_id)
    if link.mode != LinkMode.UPLOAD or not folder.is_folder:
        raise PermissionDenied("This link does not accept files.")
    name = content.free_name(ctx.db, folder, clean_name(name))
    version = content.upload_file(ctx, OPERATOR, folder, name, stream, size)
    audit.record(ctx, None, "link.upload", node=version.node, version=version, link_id=link.id)
    return version


def _check(node: Node, mode: str, expires_at, max_downloads) -> LinkMode:
    try:
        mode = LinkMode(mode)
    except ValueError:
        raise InvalidInput("A link either lets people view or only upload.") from None
    if mode == LinkMode.UPLOAD and not node.is_folder:
        raise InvalidInput("An upload link can only point to a folder.")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("The expiry date must be in the future.")
    if max_downloads is not None and max_downloads < 1:
        raise InvalidInput("The download limit must be at least 1.")
    return mode


def _expired(link: ShareLink) -> bool:
    return link.expires_at is not None and link.expires_at <= utcnow()
