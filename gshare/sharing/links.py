"""Public share links: a token that lets anyone holding it view or drop files, no account.

A link is looked up by the SHA-256 digest of its token. The token is also kept encrypted
(Fernet under the server's key ring, purpose "gshare link v1") so that the people who manage the
item can see and copy it again: it is a bearer secret, and whoever reads the database alone
cannot use it; `gshare key reencrypt` moves it under a new server secret. Links made before
this (digest only) cannot be shown again. A link may
carry a password (argon2, guessing limited: link_passwords.py), an expiry and a download limit;
an upload-only link lets outsiders add files (under free names, never over existing ones)
without seeing what is there. Readers through a link see only clean versions, like any other
person but the uploader.

A download limit counts visits, not requests: the first request of a download (whole or a
range) takes one download with one conditional UPDATE, so parallel requests on any number of
nodes never take more than the limit, and gets a resume grant, a signed, short-lived token for
that link and version (12 hours), with which the visitor's later ranged requests resume without
counting. A request for the whole file is a new download, grant or not. A ZIP of a view link's
folder (clean files only) takes one download, whatever it holds; it cannot be resumed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from sqlalchemy import or_, select, update

from gshare.access import gate
from gshare.access.permissions import Action
from gshare.activity import audit
from gshare.core import crypto, paths
from gshare.core.actor import OPERATOR, Actor
from gshare.core.context import Context
from gshare.core.errors import InvalidInput, NotFound, PermissionDenied
from gshare.core.models import LinkMode, Node, ShareLink, Version, utcnow
from gshare.core.names import clean_name
from gshare.files import content, lookup, zipstream
from gshare.sharing.link_passwords import hash_password

RESUME_GRANT_LIFETIME = timedelta(hours=12)
_GRANTS = b"gshare link download resume grant"
_TOKENS = b"gshare link v1"


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
        token_encrypted=_tokens(ctx).encrypt(token.encode()).decode("ascii"),
        mode=mode,
        password_hash=hash_password(password) if password else None,
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


def link_token(ctx: Context, actor: Actor, link: ShareLink) -> str | None:
    """Return a link's token for a manager of its item to see again; None for a link made
    before tokens were kept (or one no key in the ring decrypts)."""
    lookup.get_node(ctx, actor, link.node_id, Action.SHARE)
    if link.token_encrypted is None:
        return None
    try:
        return _tokens(ctx).decrypt(link.token_encrypted.encode("ascii")).decode()
    except InvalidToken:
        return None


def reencrypt_tokens(ctx: Context) -> int:
    """Encrypt every kept link token under the current server secret (after a rotation);
    return how many changed. One no secret in the ring decrypts is left as it is."""
    changed = 0
    for link in ctx.db.scalars(select(ShareLink).where(ShareLink.token_encrypted.is_not(None))):
        if resealed := crypto.reseal(ctx.config, _TOKENS, link.token_encrypted):
            link.token_encrypted, changed = resealed, changed + 1
    return changed


def plan_link_zip(ctx: Context, link: ShareLink, node_id: int | None = None) -> zipstream.ZipPlan:
    """Take one download from the link's limit and list a ZIP of its folder (or a folder
    below it): clean files only, as every reader through a link sees them."""
    folder = link_node(ctx, link, node_id)
    if link.mode != LinkMode.VIEW or not folder.is_folder:
        raise NotFound()
    plan = zipstream.plan_clean_zip(ctx, folder)
    _take_download(ctx, link)
    audit.record(
        ctx, None, "link.download_zip", node=folder, link_id=link.id, files=len(plan.entries)
    )
    return plan


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


@dataclass(frozen=True)
class LinkVisit:
    """One visitor's download of a file through a link, counted once."""

    link: ShareLink
    node: Node
    version: Version
    grant: str  # lets this visitor's ranged requests of this version resume uncounted
    counted: bool


def start_link_download(
    ctx: Context,
    link: ShareLink,
    node_id: int | None = None,
    byte_range: content.ByteRange | None = None,
    grant: str | None = None,
    peek: bool = False,
) -> LinkVisit:
    """Take one download from the link's limit, unless this is a ranged request resuming a
    download of the same version that took one (its grant says so); a whole file counts. A
    peek (a HEAD request: headers, no bytes) takes nothing, but is refused like a download
    once none is left."""
    node = link_node(ctx, link, node_id)
    if link.mode != LinkMode.VIEW or node.is_folder:
        raise NotFound()
    version = gate.current_version(ctx.db, None, node)
    if version is None:
        raise NotFound()
    if byte_range is not None and grant and _grant_holds(ctx, grant, link, version):
        return LinkVisit(link, node, version, grant, counted=False)
    if peek:
        if downloads_left(link) == 0:
            raise PermissionDenied("This link has reached its download limit.")
        return LinkVisit(link, node, version, grant or "", counted=False)
    _take_download(ctx, link)
    return LinkVisit(link, node, version, _make_grant(ctx, link, version), counted=True)


def open_link_download(
    ctx: Context, visit: LinkVisit, byte_range: content.ByteRange | None = None
) -> content.Download:
    """Open the file of a started link download, whole or a range."""
    download = content.open_checked(ctx, visit.node, visit.version, byte_range)
    audit.record(
        ctx,
        None,
        "link.download",
        node=visit.node,
        version=visit.version,
        link_id=visit.link.id,
        counted=visit.counted,
        range=f"{download.start}-{download.end}" if download.partial else None,
    )
    return download


def _take_download(ctx: Context, link: ShareLink) -> None:
    taken = ctx.db.execute(
        update(ShareLink)
        .where(
            ShareLink.id == link.id,
            or_(
                ShareLink.max_downloads.is_(None),
                ShareLink.download_count < ShareLink.max_downloads,
            ),
        )
        .values(download_count=ShareLink.download_count + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise PermissionDenied("This link has reached its download limit.")
    ctx.db.expire(link, ["download_count"])


def _tokens(ctx: Context):
    return crypto.fernet(ctx.config, _TOKENS)


def _make_grant(ctx: Context, link: ShareLink, version: Version) -> str:
    return crypto.fernet(ctx.config, _GRANTS).encrypt(f"{link.id}:{version.id}".encode()).decode()


def _grant_holds(ctx: Context, grant: str, link: ShareLink, version: Version) -> bool:
    lifetime = int(RESUME_GRANT_LIFETIME.total_seconds())
    try:
        held = crypto.fernet(ctx.config, _GRANTS).decrypt(grant.encode(), ttl=lifetime)
    except (InvalidToken, ValueError):
        return False
    return held == f"{link.id}:{version.id}".encode()


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
