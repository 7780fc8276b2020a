"""Public links: create and revoke them, and the plain pages outsiders open without an account."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from gshare.core.errors import InvalidInput
from gshare.core.models import LinkMode, ShareLink
from gshare.files import zipstream
from gshare.sharing import link_passwords, links
from web import shown_once
from web.context import ctx, failed, require_actor
from web.downloads import file_response, open_ranged, zip_response
from web.i18n import parse_day
from web.ranges import requested_range

bp = Blueprint("links", __name__)
RESUME_COOKIE = "gshare_resume"  # a link download's resume grant, scoped to the file's path


@bp.post("/nodes/<int:node_id>/links")
def create(node_id: int):
    """Create a public link and show its address once."""
    form = request.form
    try:
        expires = _date(form.get("expires"))
    except InvalidInput as refused:
        failed()
        flash(str(refused))
        return redirect(url_for("sharing.share_page", node_id=node_id))
    _link, token = links.create_link(
        ctx(),
        require_actor(),
        node_id,
        form.get("mode", LinkMode.VIEW),
        password=form.get("password") or None,
        expires_at=expires,
        max_downloads=form.get("max_downloads", type=int),
    )
    shown_once.keep("new_link", url_for(".public", token=token, _external=True))
    return redirect(url_for("sharing.share_page", node_id=node_id))


@bp.post("/links/<int:link_id>/revoke")
def revoke(link_id: int):
    """Revoke a public link."""
    link = ctx().db.get(ShareLink, link_id)
    links.revoke_link(ctx(), require_actor(), link_id)
    flash(_("The link was revoked; its address no longer works."))
    return redirect(url_for("sharing.share_page", node_id=link.node_id))


@bp.route("/s/<token>", methods=["GET", "POST"])
def public(token: str):
    """Open a link: ask for its password, then list its folder, show its file or take uploads."""
    link = links.resolve_link(ctx(), token)
    if request.method == "POST" and "password" in request.form:
        if link_passwords.check_password(ctx(), link, request.form["password"]):
            session.setdefault("links", [])
            session["links"] = [*session["links"][-20:], link.token_digest]
            return redirect(url_for(".public", token=token))
        return render_template("public_password.html", token=token, wrong=True), 401
    if not _unlocked(link):
        return render_template("public_password.html", token=token, wrong=False)
    return _show(link, token, request.args.get("f", type=int))


@bp.get("/s/<token>/files/<int:node_id>")
def public_download(token: str, node_id: int):
    """Download a file through a view link."""
    link = _open(token)
    visit = links.start_link_download(
        ctx(),
        link,
        node_id,
        requested_range(request.headers.get("Range")),
        request.cookies.get(RESUME_COOKIE),
        peek=request.method == "HEAD",
    )
    response = file_response(
        open_ranged(lambda byte_range: links.open_link_download(ctx(), visit, byte_range))
    )
    if visit.counted:
        response.set_cookie(
            RESUME_COOKIE,
            visit.grant,
            max_age=int(links.RESUME_GRANT_LIFETIME.total_seconds()),
            path=request.path,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.get("/s/<token>/zip")
def public_zip(token: str):
    """Download a view link's folder (or a folder below it) as one ZIP: clean files only; it
    takes one download from the link's limit."""
    plan = links.plan_link_zip(ctx(), _open(token), request.args.get("f", type=int))
    return zip_response(zipstream.stream_zip(plan), plan.name)


@bp.post("/s/<token>/upload")
def public_upload(token: str):
    """Take one file through an upload-only link (raw body, streamed)."""
    link = _open(token)
    if request.content_length is None:
        abort(411)
    version = links.upload_to_link(
        ctx(), link, request.args.get("name", ""), request.stream, request.content_length
    )
    return jsonify(name=version.node.name, size=version.size), 201


def _open(token: str) -> ShareLink:
    link = links.resolve_link(ctx(), token)
    if not _unlocked(link):
        abort(404)
    return link


def _unlocked(link: ShareLink) -> bool:
    return link.password_hash is None or link.token_digest in session.get("links", [])


def _show(link: ShareLink, token: str, node_id: int | None):
    node = links.link_node(ctx(), link, node_id)
    if link.mode == LinkMode.UPLOAD:
        return render_template("public_upload.html", token=token, node=node)
    entries = links.list_link_folder(ctx(), link, node) if node.is_folder else []
    return render_template(
        "public_view.html",
        token=token,
        node=node,
        entries=entries,
        link=link,
        left=links.downloads_left(link),
        root_id=link.node_id,
    )


def _date(text: str | None) -> datetime | None:
    """Read the expiry typed as dd/mm/yyyy: the end of that day in the reader's time zone."""
    if not text or not text.strip():
        return None
    moment = parse_day(text)
    if moment is None:
        raise InvalidInput(_("Give the expiry date as day/month/year, for example 31/12/2025."))
    return moment
