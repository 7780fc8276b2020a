"""The JSON API's routes for spaces, folders, files, grants, links and notices."""

from __future__ import annotations

from flask import abort, jsonify, request

import web.api.payloads as p
from gshare.access import gate
from gshare.activity import notifications
from gshare.core.models import Department
from gshare.files import content as files
from gshare.files import folders, lookup, trash
from gshare.files.search import search_names
from gshare.org import departments, spaces, users
from gshare.sharing import grants as sharing
from gshare.sharing import links
from web.api.blueprint import (
    bp,
    grant_json,
    link_json,
    node_json,
    target_folder,
    version_json,
)
from web.api.schema import document as openapi_document
from web.api.validation import takes
from web.context import ctx, require_actor
from web.downloads import file_response, open_ranged
from web.notices import notice_text


@bp.get("/openapi.json")
def openapi():
    """Describe this API (OpenAPI 3.1)."""
    return jsonify(openapi_document())


@bp.get("/me")
@takes(answer=p.Me)
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
@takes(answer=p.Spaces)
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
@takes(query=p.NotificationsQuery, answer=p.Notices)
def my_notifications(query: p.NotificationsQuery):
    """List the person's notices, newest first (?unread=1: only the unread ones)."""
    items = notifications.list_notifications(
        ctx(), require_actor(), unread_only=query.unread == "1", limit=query.limit
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
@takes(body=p.ReadIn, status=204)
def read_notifications(body: p.ReadIn):
    """Mark notices as read: {"ids": [...]}."""
    notifications.mark_read(ctx(), require_actor(), body.ids)
    return "", 204


@bp.get("/nodes/<int:node_id>")
@takes(answer=p.Node)
def node(node_id: int):
    """Describe a folder or file."""
    user = require_actor()
    found = lookup.get_node(ctx(), user, node_id)
    version = None if found.is_folder else gate.current_version(ctx().db, user, found)
    return jsonify(node_json(found, version, user))


@bp.get("/folders/<int:node_id>/children")
@takes(query=p.ChildrenQuery, answer=p.Nodes)
def children(node_id: int, query: p.ChildrenQuery):
    """List a folder (folders first), sorted and paginated."""
    user = require_actor()
    folder = lookup.get_node(ctx(), user, node_id)
    entries = lookup.list_folder(
        ctx(), user, folder, query.sort, query.desc == "1", query.limit, query.offset
    )
    return jsonify(items=[node_json(e.node, e.version, user) for e in entries])


@bp.get("/folders/<int:node_id>/search")
@takes(query=p.SearchQuery, answer=p.Nodes)
def search(node_id: int, query: p.SearchQuery):
    """Find items below a folder by part of their name."""
    user = require_actor()
    folder = lookup.get_node(ctx(), user, node_id)
    found = search_names(ctx(), user, query.q, folder, limit=200)
    return jsonify(items=[node_json(h.entry.node, h.entry.version, user) for h in found.hits])


@bp.get("/search")
@takes(query=p.SearchEverywhereQuery, answer=p.Hits)
def search_everywhere(query: p.SearchEverywhereQuery):
    """Find files and folders by name (every word, any order) in all the person sees, or
    below one folder (`in`)."""
    user = require_actor()
    folder = lookup.get_node(ctx(), user, query.within) if query.within else None
    found = search_names(ctx(), user, query.q, folder, query.limit, query.offset)
    items = [
        {
            **node_json(h.entry.node, h.entry.version, user),
            "location": list(h.location),
            "folder_id": h.folder_id,
        }
        for h in found.hits
    ]
    return jsonify(items=items, more=found.more)


@bp.post("/folders/<int:node_id>/folders")
@takes(body=p.FolderIn, answer=p.Node, status=201)
def create_folder(node_id: int, body: p.FolderIn):
    """Create a folder (and the folders of `path` on the way, if given)."""
    user = require_actor()
    parent = lookup.get_node(ctx(), user, node_id)
    created = folders.ensure_folders(ctx(), user, parent, f"{body.path}/{body.name}")
    return jsonify(node_json(created, None, user)), 201


@bp.put("/folders/<int:node_id>/files")
@takes(query=p.FileQuery, raw_body=True, answer=p.Node, status=201)
def upload(node_id: int, query: p.FileQuery):
    """Store the request body as a file (query: name, and path for folder uploads)."""
    user = require_actor()
    if request.content_length is None:
        abort(411)
    folder = target_folder(user, node_id, query.path)
    version = files.upload_file(
        ctx(), user, folder, query.name, request.stream, request.content_length
    )
    return jsonify(node_json(version.node, version, user)), 201


@bp.get("/files/<int:node_id>/content")
@takes(query=p.ContentQuery, raw_answer=True)
def content(node_id: int, query: p.ContentQuery):
    """Download a file (or ?version=<id>), with byte ranges."""
    user = require_actor()
    return file_response(
        open_ranged(
            lambda byte_range: files.open_download(ctx(), user, node_id, query.version, byte_range)
        )
    )


@bp.get("/files/<int:node_id>/versions")
@takes(answer=p.Versions)
def versions(node_id: int):
    """List a file's versions the person may see."""
    user = require_actor()
    return jsonify(items=[version_json(v, user) for v in files.list_versions(ctx(), user, node_id)])


@bp.post("/nodes/<int:node_id>/rename")
@takes(body=p.RenameIn, answer=p.Node)
def rename(node_id: int, body: p.RenameIn):
    """Rename a folder or file."""
    user = require_actor()
    return jsonify(node_json(folders.rename_node(ctx(), user, node_id, body.name), None, user))


@bp.post("/nodes/<int:node_id>/<any(move, copy):verb>")
@takes(body=p.MoveIn, answer=p.Node)
def move_or_copy(node_id: int, verb: str, body: p.MoveIn):
    """Move or copy a folder or file into the folder `target`."""
    user = require_actor()
    do = folders.move_node if verb == "move" else folders.copy_node
    result = do(ctx(), user, node_id, body.target, body.name)
    return jsonify(node_json(result, None, user))


@bp.delete("/nodes/<int:node_id>")
@takes(status=204)
def delete(node_id: int):
    """Move a folder or file to the trash."""
    trash.delete_node(ctx(), require_actor(), node_id)
    return "", 204


@bp.post("/nodes/<int:node_id>/restore")
@takes(answer=p.Node)
def restore(node_id: int):
    """Bring an item back from the trash."""
    user = require_actor()
    return jsonify(node_json(trash.restore_node(ctx(), user, node_id), None, user))


@bp.get("/nodes/<int:node_id>/grants")
@takes(answer=p.Accesses)
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
@takes(body=p.GrantIn, answer=p.Grant, status=201)
def grant(node_id: int, body: p.GrantIn):
    """Give a person (`username`) or a department (`department_id`) a role."""
    grantee = (
        {"user": users.find_user(ctx(), body.username)}
        if body.username
        else {"department": ctx().db.get(Department, body.department_id or 0)}
    )
    created = sharing.grant_role(
        ctx(),
        require_actor(),
        node_id,
        body.role,
        include_subdepartments=body.include_subdepartments,
        **grantee,
    )
    return jsonify(grant_json(created)), 201


@bp.delete("/grants/<int:grant_id>")
@takes(status=204)
def revoke_grant(grant_id: int):
    """Take back a grant."""
    sharing.revoke_grant(ctx(), require_actor(), grant_id)
    return "", 204


@bp.get("/nodes/<int:node_id>/links")
@takes(answer=p.Links)
def node_links(node_id: int):
    """List a node's live public links."""
    return jsonify(
        items=[link_json(link) for link in links.list_links(ctx(), require_actor(), node_id)]
    )


@bp.post("/nodes/<int:node_id>/links")
@takes(body=p.LinkIn, answer=p.NewLink, status=201)
def create_link(node_id: int, body: p.LinkIn):
    """Create a public link; the answer holds its token, shown only now."""
    link, token = links.create_link(
        ctx(),
        require_actor(),
        node_id,
        body.mode,
        password=body.password or None,
        expires_at=body.expires_at,
        max_downloads=body.max_downloads,
    )
    return jsonify(dict(link_json(link), token=token)), 201


@bp.delete("/links/<int:link_id>")
@takes(status=204)
def revoke_link(link_id: int):
    """Revoke a public link."""
    links.revoke_link(ctx(), require_actor(), link_id)
    return "", 204
