"""What an open page shows that changes on its own (web/static/live.js asks every few seconds):
the unread notices, the scan badges of a folder's files being scanned, the space's use."""

from __future__ import annotations

from flask import jsonify, render_template

import web.api.payloads as p
from gshare.access.permissions import Action, allowed_actions
from gshare.activity import notifications
from gshare.files import live as watched
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
        folder, versions = watched.watch_folder(ctx(), user, query.folder, ids)
        answer["badges"] = {
            str(v.id): {"state": state, "html": render_template("_badge.html", version=v).strip()}
            for v, state in versions
        }
        if Action.EDIT in allowed_actions(ctx().db, user, folder):
            answer["space_use"] = render_template(
                "_space_use.html", space=folder.space, folder_id=folder.id
            ).strip()
    return jsonify(answer)
