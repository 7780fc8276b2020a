"""Files and folders: download, preview, ZIP, new folder, rename, move, copy, trash, versions."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from gshare.access.permissions import allowed_actions
from gshare.core.errors import GshareError, InvalidInput, NotFound
from gshare.files import content, folders, lookup, previews, trash, zipstream
from web.browse import breadcrumbs
from web.context import ctx, failed, require_actor
from web.downloads import file_response, open_ranged, preview_kind, zip_response
from web.errors import STATUS, sentence

bp = Blueprint("files", __name__)
# The sentence shown in a preview box instead of a preview: no scripts, the site's stylesheet.
SHORT_CSP = "sandbox; default-src 'none'; style-src 'self'; font-src 'self'"


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/files/<int:node_id>")
def file_page(node_id: int):
    """Show a file: its preview, versions and what the person may do with it."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    if node.is_folder:
        return redirect(url_for("browse.folder", node_id=node.id))
    versions = content.list_versions(ctx(), user, node.id)
    return render_template(
        "file.html",
        node=node,
        versions=versions,
        current=versions[0],
        preview=previews.describe_preview(ctx(), user, node, versions[0]),
        crumbs=breadcrumbs(node),
        actions=allowed_actions(ctx().db, user, node),
    )


@bp.get("/files/<int:node_id>/download")
def download(node_id: int):
    """Send a file (or one version of it) as an attachment, streamed, with byte ranges."""
    user, version_id = require_actor(), request.args.get("version", type=int)
    return file_response(
        open_ranged(
            lambda byte_range: content.open_download(ctx(), user, node_id, version_id, byte_range)
        )
    )


@bp.get("/files/<int:node_id>/raw")
def raw(node_id: int):
    """Send a file for a sandboxed preview (images and text only: a PDF is previewed as
    pictures of its pages, never served inline); when it cannot be shown, a sentence that fits
    in the preview box, not a whole page."""
    try:
        opened = content.open_download(ctx(), require_actor(), node_id)
    except GshareError as refused:
        failed()
        status = next((s for cls, s in STATUS.items() if isinstance(refused, cls)), 400)
        return (
            render_template("preview_failed.html"),
            status,
            {"Content-Security-Policy": SHORT_CSP},
        )
    if preview_kind(opened.version.content_type) not in ("image", "text"):
        if opened.stream:
            opened.stream.close()
        return redirect(url_for(".download", node_id=node_id))
    return file_response(opened, inline=True)


@bp.get("/files/<int:node_id>/thumbnail/<int:version_id>")
def thumbnail(node_id: int, version_id: int):
    """Send the thumbnail of a version (made on first request), through the same check as a
    download; a version with none answers 404."""
    picture = previews.open_thumbnail(ctx(), require_actor(), node_id, version_id)
    return _picture(picture)


@bp.get("/files/<int:node_id>/pages/<int:version_id>/<int:page>")
def page_picture(node_id: int, version_id: int, page: int):
    """Send a page of a PDF (or a TIFF or HEIC image) drawn as a picture for its preview."""
    picture = previews.draw_page(ctx(), require_actor(), node_id, version_id, page)
    return _picture(picture)


def _picture(picture):
    if picture is None:
        return (
            render_template("preview_failed.html"),
            404,
            {"Content-Security-Policy": SHORT_CSP},
        )
    response = Response(picture.data, mimetype="image/webp")
    # The URL names the version, whose bytes never change: the browser keeps it, privately.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = SHORT_CSP
    return response


@bp.get("/f/<int:node_id>/zip")
def folder_zip(node_id: int):
    """Send a folder as a ZIP built on the fly from what the person may read."""
    plan = zipstream.plan_zip(ctx(), require_actor(), node_id)
    return zip_response(zipstream.stream_zip(plan), plan.name)


@bp.get("/zip")
def items_zip():
    """Send the chosen files and folders as one ZIP built on the fly."""
    plan = zipstream.plan_zip_of(ctx(), require_actor(), _chosen())
    return zip_response(zipstream.stream_zip(plan), plan.name)


@bp.route("/items/<any(move, copy):verb>", methods=["GET", "POST"])
def move_or_copy_items(verb: str):
    """Pick a target folder, then move or copy the chosen files and folders into it."""
    user, ids = require_actor(), _chosen()
    if not ids:
        raise InvalidInput("Choose at least one file or folder.")
    items = [lookup.get_node(ctx(), user, node_id) for node_id in ids]
    if request.method == "POST":
        target_id = request.form.get("target", type=int) or 0
        do = folders.move_nodes if verb == "move" else folders.copy_nodes
        try:
            done = do(ctx(), user, ids, target_id)
        except GshareError as refused:
            picker = url_for(".move_or_copy_items", verb=verb, id=ids, to=target_id)
            return _refused(refused, _back(ids) if "folder" in request.form else picker)
        names = ", ".join(n.name for n in done)
        flash(
            _("Moved: %(names)s.", names=names)
            if verb == "move"
            else _("Copied: %(names)s.", names=names)
        )
        return redirect(
            _back([]) if "folder" in request.form else url_for("browse.folder", node_id=target_id)
        )
    target = lookup.get_node(ctx(), user, request.args.get("to", type=int) or items[0].parent_id)
    return render_template(
        "pick_items.html",
        items=items,
        verb=verb,
        target=target,
        subfolders=[e.node for e in lookup.list_folder(ctx(), user, target) if e.node.is_folder],
        crumbs=breadcrumbs(target),
    )


@bp.post("/items/delete")
def delete_items():
    """Move the chosen files and folders to the trash."""
    ids = _chosen()
    try:
        done = trash.delete_nodes(ctx(), require_actor(), ids)
    except GshareError as refused:
        return _refused(refused, _back(ids))
    flash(_("Moved to the trash: %(names)s.", names=", ".join(n.name for n in done)))
    return redirect(_back([]))


@bp.post("/f/<int:node_id>/folders")
def new_folder(node_id: int):
    """Create a folder inside a folder."""
    user = require_actor()
    parent = lookup.get_node(ctx(), user, node_id)
    created = folders.create_folder(ctx(), user, parent, request.form.get("name", ""))
    return redirect(url_for("browse.folder", node_id=created.id))


@bp.post("/nodes/<int:node_id>/rename")
def rename(node_id: int):
    """Rename a folder or file."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    try:
        node = folders.rename_node(ctx(), user, node_id, request.form.get("name", ""))
    except GshareError as refused:
        failed()
        flash(sentence(refused))
        return redirect(_parent_url(node))
    flash(_("Renamed to %(name)s.", name=node.name))
    return redirect(_parent_url(node))


@bp.route("/nodes/<int:node_id>/<any(move, copy):verb>", methods=["GET", "POST"])
def move_or_copy(node_id: int, verb: str):
    """Pick a target folder, then move or copy a folder or file into it."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    if request.method == "POST":
        do = folders.move_node if verb == "move" else folders.copy_node
        result = do(ctx(), user, node.id, request.form.get("target", type=int) or 0)
        flash(_("Moved.") if verb == "move" else _("Copied."))
        return redirect(_parent_url(result))
    target = lookup.get_node(ctx(), user, request.args.get("to", type=int) or node.parent_id)
    subfolders = [e.node for e in lookup.list_folder(ctx(), user, target) if e.node.is_folder]
    return render_template(
        "pick_folder.html",
        node=node,
        verb=verb,
        target=target,
        subfolders=subfolders,
        crumbs=breadcrumbs(target),
    )


@bp.post("/nodes/<int:node_id>/delete")
def delete(node_id: int):
    """Move a folder or file to the trash."""
    node = trash.delete_node(ctx(), require_actor(), node_id)
    flash(_("%(name)s was moved to the trash.", name=node.name))
    return redirect(_parent_url(node))


@bp.post("/nodes/<int:node_id>/restore")
def restore(node_id: int):
    """Bring an item back from the trash."""
    node = trash.restore_node(ctx(), require_actor(), node_id)
    flash(_("%(name)s was restored.", name=node.name))
    return redirect(_parent_url(node))


@bp.post("/nodes/<int:node_id>/purge")
def purge(node_id: int):
    """Delete an item in the trash for good."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id, trashed=True)
    space_id = node.space_id
    trash.purge_node(ctx(), user, node_id)
    flash(_("Deleted for good."))
    return redirect(url_for("browse.trash_page", space_id=space_id))


@bp.post("/files/<int:node_id>/versions/<int:version_id>/restore")
def restore_version(node_id: int, version_id: int):
    """Make an older version the current one again."""
    content.restore_version(ctx(), require_actor(), node_id, version_id)
    flash(_("The older version is now the current one."))
    return redirect(url_for(".file_page", node_id=node_id))


def _chosen() -> list[int]:
    """Return the ids of the items chosen in a listing (repeated `id` fields)."""
    source = request.form if request.method == "POST" else request.args
    return [int(i) for i in source.getlist("id") if i.isdigit() and len(i) < 10]


def _back(selected: list[int]) -> str:
    """Return the folder the request came from, with the items still chosen."""
    return url_for("browse.folder", node_id=request.form.get("folder", type=int) or 0, sel=selected)


def _refused(refused: GshareError, back: str):
    """Undo the whole batch, say why, and go back with the selection kept; an item the person
    may not see answers 404 as everywhere."""
    if isinstance(refused, NotFound):
        raise refused
    failed()
    flash(sentence(refused))
    return redirect(back)


def _parent_url(node) -> str:
    return url_for("browse.folder", node_id=node.parent_id or node.id)
