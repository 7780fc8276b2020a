"""The share dialog: who has access to a folder or file, grant and revoke roles and links."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from gshare.access.permissions import Role, allowed_actions
from gshare.core.errors import InvalidInput
from gshare.core.models import Department, Grant, User
from gshare.files import lookup
from gshare.org import departments, users
from gshare.sharing import grants, link_passwords, links
from web import shown_once
from web.browse import breadcrumbs
from web.context import ctx, require_actor

bp = Blueprint("sharing", __name__)


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/nodes/<int:node_id>/share")
def share_page(node_id: int):
    """Show who has access and the forms to share and to create links."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    access = grants.list_access(ctx(), user, node.id)
    actions = allowed_actions(ctx().db, user, node)
    node_links = links.list_links(ctx(), user, node.id) if "share" in actions else []
    return render_template(
        "share.html",
        node=node,
        access=access,
        links=node_links,
        min_password_length=link_passwords.MIN_PASSWORD_LENGTH,
        roles=list(Role),
        departments=departments.list_departments(ctx()),
        names=_grantee_names(access),
        actions=actions,
        crumbs=breadcrumbs(node),
        new_link=shown_once.take("new_link"),
    )


@bp.post("/nodes/<int:node_id>/grants")
def grant(node_id: int):
    """Give a person or a department a role on a folder or file."""
    user = require_actor()
    grantee = _grantee()
    grants.grant_role(
        ctx(),
        user,
        node_id,
        request.form.get("role", ""),
        **grantee,
        include_subdepartments=request.form.get("subdepartments") == "1",
    )
    flash(_("Shared."))
    return redirect(url_for(".share_page", node_id=node_id))


@bp.post("/grants/<int:grant_id>/revoke")
def revoke(grant_id: int):
    """Take back a grant."""
    grant_row = ctx().db.get(Grant, grant_id)
    node_id = grant_row.node_id if grant_row else 0
    grants.revoke_grant(ctx(), require_actor(), grant_id)
    flash(_("Access was taken back."))
    return redirect(url_for(".share_page", node_id=node_id))


def _grantee() -> dict:
    username = request.form.get("username", "").strip()
    department_id = request.form.get("department", type=int)
    if username:
        return {"user": users.find_user(ctx(), username)}
    department = ctx().db.get(Department, department_id or 0)
    if department is None:
        raise InvalidInput(_("Choose a person or a department to share with."))
    return {"department": department}


def _grantee_names(access) -> dict:
    db, names = ctx().db, {}
    for item in access:
        grant_row = item.grant
        if grant_row.user_id:
            person = db.get(User, grant_row.user_id)
            names[grant_row.id] = f"{person.display_name} ({person.username})"
        else:
            names[grant_row.id] = departments.full_name(
                ctx(), db.get(Department, grant_row.department_id)
            )
    return names
