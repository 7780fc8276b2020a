"""The share dialog: who has access to a folder or file, grant and revoke roles and links."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from gshare.access.permissions import Role, allowed_actions
from gshare.core.models import Department, Grant, User
from gshare.files import lookup
from gshare.org import departments, grantees
from gshare.sharing import grants, link_passwords, links
from web import shown_once
from web.browse import breadcrumbs
from web.context import ctx, failed, require_actor

bp = Blueprint("sharing", __name__)


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/nodes/<int:node_id>/share")
def share_page(node_id: int):
    """Show who has access and the forms to share and to create links."""
    return _share_page(node_id)


@bp.get("/grantees")
def suggest():
    """Suggest people and departments whose names contain what was typed (the picker)."""
    found = grantees.suggest_grantees(ctx(), require_actor(), request.args.get("q", ""))
    return jsonify(
        suggestions=[
            {"ref": g.ref, "kind": g.kind, "label": g.label, "detail": g.detail} for g in found
        ]
    )


@bp.post("/nodes/<int:node_id>/grants")
def grant(node_id: int):
    """Give a person or a department a role on a folder or file; a name that matches no one,
    or several, shows the form again as typed, with a sentence saying what is wrong."""
    user = require_actor()
    lookup.get_node(ctx(), user, node_id)
    try:
        grantee = _grantee()
    except (grantees.GranteeUnknown, grantees.GranteeAmbiguous) as refused:
        failed()
        return _share_page(node_id, typed=request.form, problem=_problem(refused)), 400
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


def _share_page(node_id: int, typed=None, problem: str | None = None):
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    access = grants.list_access(ctx(), user, node.id)
    actions = allowed_actions(ctx().db, user, node)
    node_links = links.list_links(ctx(), user, node.id) if "share" in actions else []
    addresses = {link.id: _address(links.link_token(ctx(), user, link)) for link in node_links}
    return render_template(
        "share.html",
        node=node,
        access=access,
        links=node_links,
        link_addresses=addresses,
        link_qr={i: _qr(address) for i, address in addresses.items() if address},
        min_password_length=link_passwords.MIN_PASSWORD_LENGTH,
        roles=list(Role),
        names=_grantee_names(access),
        actions=actions,
        crumbs=breadcrumbs(node),
        new_link=shown_once.take("new_link"),
        typed=typed or {},
        problem=problem,
    )


def _address(token: str | None) -> str | None:
    return url_for("links.public", token=token, _external=True) if token else None


def _qr(address: str) -> str:
    return segno.make(address, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def _grantee() -> dict:
    """Read the chosen suggestion, else the name typed (`username` and `department`: the
    fields of older forms and scripts)."""
    form = request.form
    department = form.get("department", "")
    ref = form.get("grantee") or (f"department:{department}" if department else "")
    return grantees.resolve_grantee(
        ctx(), require_actor(), ref, form.get("who") or form.get("username", "")
    )


def _problem(refused) -> str:
    typed = " ".join((request.form.get("who") or request.form.get("username") or "").split())
    if not typed:
        return _("Choose a person or a department to share with.")
    if isinstance(refused, grantees.GranteeAmbiguous):
        return _(
            "Several people or departments match “%(name)s”. Choose one from the suggestions.",
            name=typed,
        )
    return _(
        "No active person or department is called “%(name)s”. Check the spelling, or type "
        "part of the name and choose from the suggestions.",
        name=typed,
    )


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
