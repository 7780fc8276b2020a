"""The JSON API's routes for spaces, folders, files, grants, links and notices."""

from __future__ import annotations

from datetime import datetime

from flask import abort, jsonify, request

from gshare.access import gate
from gshare.activity import notifications
from gshare.core.models import Department
from gshare.files import content as files
from gshare.files import folders, lookup, trash
from gshare.org import departments, spaces, users
from gshare.sharing import grants as sharing
from gshare.sharing import links
from web.api.blueprint import (
    bp,
    grant_json,
    json_body,
    link_json,
    node_json,
    target_folder,
    version_json,
)
from web.api.schema import document as openapi_document
from web.context import ctx, require_actor
from web.downloads import file_response, open_ranged
from web.notices import notice_text


@bp.get("/openapi.json")
def openapi():
    """Describe this API (OpenAPI 3.1)."""
    return jsonify(openapi_document())


@bp.get("/me")
def me():
    """Say who is signed in and where their spaces are."""
    user = require_actor()
    db = ctx().db
    personal = spaces.root_of(db, spaces.personal_space(ctx(), user))
    department = spaces.root_of(db, departments.department_space(ctx(), user.department))
    return jsonify(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        department=departments.full_name(ctx(), user.department),
        personal_folder=personal.id,
        department_folder=department.id,
    )


@bp.get("/spaces")
def my_spaces():
    """List the spaces the person works in: their own, their department's, the other
    department spaces they may see into and the project spaces they made."""
    user = require_actor()
    db = ctx().db
    personal = spaces.personal_space(ctx(), user)
    listed = [
        (personal, spaces.root_of(db, personal)),
        *spaces.department_spaces(ctx(), user),
        *((s, spaces.root_of(db, s)) for s in spaces.project_spaces(ctx(), user)),
    ]
    return jsonify(
        items=[
            {
                "id": space.id,
                "name": space.name,
                "slug": space.slug,
                "kind": space.kind,
                "folder_id": root.id,
                "used_bytes": space.used_bytes,
                "quota_bytes": space.quota_bytes,
            }
            for space, root in listed
        ]
    )


@bp.get("/notifications")
def my_notifications():
    """List the person's notices, newest first (?unread=1: only the unread ones)."""
    items = notifications.list_notifications(
        ctx(),
        require_actor(),
        unread_only=request.args.get("unread") == "1",
        limit=min(request.args.get("limit", 50, int), 500),
    )
    return jsonify(
        items=[
            {
                "id": n.id,
                "kind": n.kind,
                "text": notice_text(n),
                "node_id": n.node_id,
                "version_id": n.version_id,
                "params": n.params or {},
                "created_at": n.created_at.isoformat(),
                "read_at": n.read_at.isoformat() if n.read_at else None,
            }
            for n in items
        ]
    )


@bp.post("/notifications/read")
def read_notifications():
    """Mark notices as read: {"ids": [...]}."""
    ids = [i for i in json_body().get("ids", []) if isinstance(i, int)]
    notifications.mark_read(ctx(), require_actor(), ids)
    return "", 204


@bp.get("/nodes/<int:node_id>")
def node(node_id: int):
    """Describe a folder or file."""
    user = require_actor()
    found = lookup.get_node(ctx(), user, node_id)
    version = None if found.is_folder else gate.current_version(ctx().db, user, found)
    return jsonify(node_json(found, version, user))


@bp.get("/folders/<int:node_id>/children")
def children(node_id: int):
    """List a folder (folders first), sorted and paginated."""
    user = require_actor()
    folder = lookup.get_node(ctx(), user, node_id)
    args = request.args
    entries = lookup.list_folder(
        ctx(),
        user,
        folder,
        args.get("sort", "name"),
        args.get("desc") == "1",
        min(args.get("limit", 500, int), 5000),
        args.get("offset", 0, int),
    )
    return jsonify(items=[node_json(e.node, e.version, user) for e in entries])


@bp.get("/folders/<int:node_id>/search")
def search(node_id: int):
    """Find items below a folder by part of their name."""
    user = require_actor()
    folder = lookup.get_node(ctx(), user, node_id)
    entries = lookup.search(ctx(), user, folder, request.args.get("q", ""))
    return jsonify(items=[node_json(e.node, e.version, user) for e in entries])


@bp.post("/folders/<int:node_id>/folders")
def create_folder(node_id: int):
    """Create a folder (and the folders of `path` on the way, if given)."""
    user = require_actor()
    parent = lookup.get_node(ctx(), user, node_id)
    body = json_body()
    created = folders.ensure_folders(
        ctx(), user, parent, f"{body.get('path', '')}/{body.get('name', '')}"
    )
    return jsonify(node_json(created, None, user)), 201


@bp.put("/folders/<int:node_id>/files")
def upload(node_id: int):
    """Store the request body as a file (query: name, and path for folder uploads)."""
    user = require_actor()
    if request.content_length is None:
        abort(411)
    folder = target_folder(user, node_id, request.args.get("path", ""))
    version = files.upload_file(
        ctx(), user, folder, request.args.get("name", ""), request.stream, request.content_length
    )
    return jsonify(node_json(version.node, version, user)), 201


@bp.get("/files/<int:node_id>/content")
def content(node_id: int):
    """Download a file (or ?version=<id>), with byte ranges."""
    user, version_id = require_actor(), request.args.get("version", type=int)
    return file_response(
        open_ranged(
            lambda byte_range: files.open_download(ctx(), user, node_id, version_id, byte_range)
        )
    )


@bp.get("/files/<int:node_id>/versions")
def versions(node_id: int):
    """List a file's versions the person may see."""
    user = require_actor()
    return jsonify(items=[version_json(v, user) for v in files.list_versions(ctx(), user, node_id)])


@bp.post("/nodes/<int:node_id>/rename")
def rename(node_id: int):
    """Rename a folder or file."""
    user = require_actor()
    return jsonify(
        node_json(
            folders.rename_node(ctx(), user, node_id, json_body().get("name", "")), None, user
        )
    )


@bp.post("/nodes/<int:node_id>/<any(move, copy):verb>")
def move_or_copy(node_id: int, verb: str):
    """Move or copy a folder or file into the folder `target`."""
    user = require_actor()
    do = folders.move_node if verb == "move" else folders.copy_node
    result = do(ctx(), user, node_id, int(json_body().get("target") or 0), json_body().get("name"))
    return jsonify(node_json(result, None, user))


@bp.delete("/nodes/<int:node_id>")
def delete(node_id: int):
    """Move a folder or file to the trash."""
    trash.delete_node(ctx(), require_actor(), node_id)
    return "", 204


@bp.post("/nodes/<int:node_id>/restore")
def restore(node_id: int):
    """Bring an item back from the trash."""
    user = require_actor()
    return jsonify(node_json(trash.restore_node(ctx(), user, node_id), None, user))


@bp.get("/nodes/<int:node_id>/grants")
def grants(node_id: int):
    """List who has access to a node (own and inherited grants)."""
    access = sharing.list_access(ctx(), require_actor(), node_id)
    return jsonify(
        items=[
            dict(grant_json(a.grant), inherited_from=getattr(a.inherited_from, "id", None))
            for a in access
        ]
    )


@bp.post("/nodes/<int:node_id>/grants")
def grant(node_id: int):
    """Give a person (`username`) or a department (`department_id`) a role."""
    body = json_body()
    grantee = (
        {"user": users.find_user(ctx(), body["username"])}
        if body.get("username")
        else {"department": ctx().db.get(Department, int(body.get("department_id") or 0))}
    )
    created = sharing.grant_role(
        ctx(),
        require_actor(),
        node_id,
        body.get("role", ""),
        include_subdepartments=bool(body.get("include_subdepartments")),
        **grantee,
    )
    return jsonify(grant_json(created)), 201


@bp.delete("/grants/<int:grant_id>")
def revoke_grant(grant_id: int):
    """Take back a grant."""
    sharing.revoke_grant(ctx(), require_actor(), grant_id)
    return "", 204


@bp.get("/nodes/<int:node_id>/links")
def node_links(node_id: int):
    """List a node's live public links."""
    return jsonify(
        items=[link_json(link) for link in links.list_links(ctx(), require_actor(), node_id)]
    )


@bp.post("/nodes/<int:node_id>/links")
def create_link(node_id: int):
    """Create a public link; the answer holds its token, shown only now."""
    body = json_body()
    expires = datetime.fromisoformat(body["expires_at"]) if body.get("expires_at") else None
    link, token = links.create_link(
        ctx(),
        require_actor(),
        node_id,
        body.get("mode", "view"),
        password=body.get("password") or None,
        expires_at=expires,
        max_downloads=body.get("max_downloads"),
    )
    return jsonify(dict(link_json(link), token=token)), 201


@bp.delete("/links/<int:link_id>")
def revoke_link(link_id: int):
    """Revoke a public link."""
    links.revoke_link(ctx(), require_actor(), link_id)
    return "", 204
