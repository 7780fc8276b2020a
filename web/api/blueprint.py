"""The JSON API under /api/v1: the pages' scripts and people's own scripts (personal tokens).

Same services as the pages. A call made with a session cookie that changes something needs the
CSRF token (header X-CSRFToken); a call with `Authorization: Bearer <token>` does not. This
module holds the blueprint and what its routes share (routes.py, uploads.py).
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from gshare.access import gate
from gshare.core.models import Grant, Node, Version
from gshare.files import folders, lookup
from web.context import ctx, require_actor
from web.security import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def _checks():
    if request.endpoint == "api.openapi":
        return
    require_actor()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not current_user.by_token:
        csrf.protect()


def target_folder(user, node_id: int, path: str) -> Node:
    """Return the folder an upload goes to: a folder, or a path below it (made as needed)."""
    folder = lookup.get_node(ctx(), user, node_id)
    return folders.ensure_folders(ctx(), user, folder, path) if path.strip("/") else folder


def node_json(node: Node, version: Version | None, user) -> dict:
    """Describe a node; the scan state only to the person who uploaded that version."""
    data = {
        "id": node.id,
        "name": node.name,
        "kind": node.kind,
        "parent_id": node.parent_id,
        "space_id": node.space_id,
        "updated_at": node.updated_at.isoformat(),
    }
    if version is not None:
        data.update(version_json(version, user), version_id=version.id)
        data["id"] = node.id
    return data


def version_json(version: Version, user) -> dict:
    """Describe a version."""
    data = {
        "id": version.id,
        "number": version.number,
        "size": version.size,
        "content_type": version.content_type,
        "uploaded_at": version.uploaded_at.isoformat(),
    }
    if gate.is_own_version(user, version):
        data["scan_state"] = version.scan_state
    return data


def grant_json(row: Grant) -> dict:
    """Describe a grant."""
    return {
        "id": row.id,
        "node_id": row.node_id,
        "role": row.role,
        "user_id": row.user_id,
        "department_id": row.department_id,
        "include_subdepartments": row.include_subdepartments,
    }


def link_json(link) -> dict:
    """Describe a public link (never its token)."""
    return {
        "id": link.id,
        "node_id": link.node_id,
        "mode": link.mode,
        "password": link.password_hash is not None,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "max_downloads": link.max_downloads,
        "download_count": link.download_count,
    }
