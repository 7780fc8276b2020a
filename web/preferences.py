"""A person's own settings that are not about signing in: the time zone times are shown in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from gshare.core.errors import InvalidInput
from gshare.org import users
from web.context import ctx, failed, require_actor

bp = Blueprint("preferences", __name__)


@bp.post("/account/time-zone")
def time_zone():
    """Show the person every time in the zone they chose ("" for the site's)."""
    user = require_actor()
    try:
        users.set_time_zone(ctx(), user, user, request.form.get("time_zone", "").strip())
    except InvalidInput:
        failed()
        flash(_("Choose a time zone from the list."))
        return redirect(url_for("auth.account"))
    flash(
        _("Times are now shown in %(zone)s.", zone=user.time_zone or ctx().config.server.time_zone)
    )
    return redirect(url_for("auth.account"))
