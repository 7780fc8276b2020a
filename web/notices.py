"""Notifications: the unread count in the header, the list of notices, and what each one says.

The scanner leaves notices (gshare.scanning): an upload found infected or blocked tells its
uploader; a shared version found infected later tells the uploader and the folder's managers.
A share tells the person, or each member of the department, it was given to
(gshare.sharing.grants); its item is named and linked only while the reader may see it (a
file not yet clean to them is named nowhere, as the scan gate wants).
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from gshare.access.permissions import allowed_actions
from gshare.activity import notifications
from gshare.sharing import grants
from web.context import actor, ctx, require_actor

bp = Blueprint("notices", __name__)


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/notifications")
def notices():
    """List the person's notices, newest first, the unread ones marked."""
    items = notifications.list_notifications(ctx(), require_actor(), limit=100)
    return render_template("notifications.html", items=items)


@bp.post("/notifications/read")
def mark_read():
    """Mark the notices shown on the page as read."""
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    notifications.mark_read(ctx(), require_actor(), ids)
    flash(_("Marked as read."))
    return redirect(url_for(".notices"))


@bp.app_context_processor
def _header():
    return {"unread_notices": _unread}


def _unread() -> int:
    user = actor()
    if g.get("uow_failed"):  # an error page: the unit of work may be unusable
        return 0
    return notifications.count_unread(ctx(), user) if user is not None else 0


@bp.app_template_filter("notice_link")
def notice_link(notice) -> str | None:
    """Return where a share notice leads (its folder or file), if the reader may see it."""
    node = _shared_item(notice) if notice.kind == grants.SHARED_NOTICE else None
    if node is None or "see" not in allowed_actions(ctx().db, require_actor(), node):
        return None
    if node.is_folder:
        return url_for("browse.folder", node_id=node.id)
    return url_for("files.file_page", node_id=node.id)


ROLE_NAMES = {
    "viewer": _l("Viewer"),
    "editor": _l("Editor"),
    "manager": _l("Manager"),
    "uploader": _l("Uploader"),
}


def share_text(notice) -> str:
    """Say what was shared, by whom, with what role, and through which department."""
    params = notice.params or {}
    node = _shared_item(notice)
    if node is None:
        return _(
            "Something was shared with you that you cannot open now: it is still being "
            "checked for viruses, or the share was taken back."
        )
    facts = {
        "by": params.get("by") or _("An administrator"),
        "name": node.name or node.space.name,
        "role": str(ROLE_NAMES.get(params.get("role"), params.get("role", ""))),
    }
    if params.get("via"):
        return _(
            "%(by)s shared “%(name)s” with %(department)s, your department (role: %(role)s).",
            department=params["via"],
            **facts,
        )
    return _("%(by)s shared “%(name)s” with you (role: %(role)s).", **facts)


def _shared_item(notice):
    seen = g.setdefault("shared_items", {})
    if notice.id not in seen:
        seen[notice.id] = grants.shared_item(ctx(), require_actor(), notice.node_id)
    return seen[notice.id]


@bp.app_template_filter("notice_text")
def notice_text(notice) -> str:
    """Say what a notice means, in the reader's language."""
    params = notice.params or {}
    if notice.kind == grants.SHARED_NOTICE:
        return share_text(notice)
    name, signature = params.get("name", ""), params.get("signature") or ""
    if notice.kind == "scan.infected":
        return _(
            "Your upload %(name)s was found infected (%(signature)s). It is quarantined "
            "and nobody else can see it.",
            name=name,
            signature=signature,
        )
    if notice.kind == "scan.blocked":
        return _(
            "Your upload %(name)s was blocked: %(reason)s. Nobody else can see it.",
            name=name,
            reason=blocked_reason(signature),
        )
    if notice.kind == "scan.pulled_back":
        return _(
            "%(name)s was found infected (%(signature)s) after it had been shared, and "
            "was withdrawn. Anyone who downloaded it before should delete their copy.",
            name=name,
            signature=signature,
        )
    if notice.kind == "alert.infected":
        return _(
            "Security alert: %(path)s, uploaded by %(uploader)s, was found infected "
            "(%(signature)s) and is quarantined.",
            path=params.get("path", name),
            uploader=params.get("uploader", ""),
            signature=signature,
        )
    if notice.kind == "alert.pulled_back":
        return _(
            "Security alert: %(path)s, uploaded by %(uploader)s, was found infected "
            "(%(signature)s) after it had been shared, and was withdrawn.",
            path=params.get("path", name),
            uploader=params.get("uploader", ""),
            signature=signature,
        )
    return _("Notice: %(kind)s %(name)s", kind=notice.kind, name=name)


_PROGRAM = re.compile(r"^programs and scripts \((?P<type>[^)]*)\) may not be shared$")
_EXTENSION = re.compile(r"^files ending in (?P<ext>\S+) may not be shared$")
_MACROS = re.compile(r"^documents with macros \((?P<type>[^)]*)\) may not be shared$")
_DISGUISED = re.compile(
    r"^the content is a program \((?P<type>[^)]*)\) but the name says "
    r"(?P<claimed>\S+)$"
)


@bp.app_template_filter("blocked_reason")
def blocked_reason(reason: str | None) -> str:
    """Translate the content policy's reasons (gshare.content_policy); others stay as they are."""
    reason = reason or ""
    if match := _PROGRAM.match(reason):
        return _("programs and scripts (%(type)s) may not be shared", type=match["type"])
    if match := _EXTENSION.match(reason):
        return _("files ending in %(ext)s may not be shared", ext=match["ext"])
    if match := _MACROS.match(reason):
        return _("documents with macros (%(type)s) may not be shared", type=match["type"])
    if match := _DISGUISED.match(reason):
        return _(
            "the content is a program (%(type)s) but the name says %(claimed)s",
            type=match["type"],
            claimed=match["claimed"],
        )
    return reason
