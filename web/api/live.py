"""What an open page shows that changes on its own (web/static/live.js asks every few seconds):
the unread notices, the scan badges of a folder's files being scanned, the space's use."""

from __future__ import annotations

from flask import jsonify, render_template

import web.api.payloads as p
from gshare.activity import notifications
from gshare.files.live import watch_folder
from web.api.blueprint import bp
from web.api.validation import takes
from web.context import ctx, require_actor


@bp.get("/live")
@takes(query=p.LiveQuery, answer=p.Live)
def live(query: p.LiveQuery):
    """Answer a page's question in one call: unread notices, and for a folder its badges and
    its space's use (404 for a folder the person may not see)."""
    user = require_actor()
    answer: dict = {"unread": notifications.count_unread(ctx(), user)}
    if query.folder is not None:
        ids = [int(i) for i in query.versions.split(",") if i]
        watched = watch_folder(ctx(), user, query.folder, ids)
        answer["badges"] = {str(v.id): _badge(v, state) for v, state in watched.versions}
        if watched.may_edit:
            space = watched.folder.space
            answer["space_use"] = render_template(
                "_space_use.html", space=space, folder_id=watched.folder.id
            ).strip()
    return jsonify(answer)


def _badge(version, state: str) -> dict:
    """The state, and the badge drawn only once the scan is over (a page replaces a badge only
    when the state changed, and most answers say "still being scanned")."""
    settled = state != "pending"
    html = render_template("_badge.html", version=version).strip() if settled else ""
    return {"state": state, "html": html}
