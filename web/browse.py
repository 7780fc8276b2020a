"""Browsing: the home page of spaces, folders with breadcrumbs, sort, search, shares, trash."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from gshare.access import visibility
from gshare.access.permissions import allowed_actions
from gshare.core.errors import InvalidInput
from gshare.core.models import Department, Space, User
from gshare.files import lookup, search, trash
from gshare.org import departments, spaces
from web.context import ctx, require_actor

bp = Blueprint("browse", __name__)
PAGE_SIZE = 200


@bp.before_request
def _signed_in():
    require_actor()


@bp.get("/")
def home():
    """Show the spaces a person works in and what is shared with them."""
    user = require_actor()
    return render_template(
        "home.html",
        personal=_root(spaces.personal_space(ctx(), user)),
        department=_department_root(user),
        department_spaces=spaces.department_spaces(ctx(), user),
        projects=[(s, _root(s)) for s in spaces.project_spaces(ctx(), user)],
        may_create=ctx().config.spaces.allow_user_spaces,
    )


@bp.post("/spaces/new")
def new_project_space():
    """Create a project space of the person's own and open it."""
    user, form = require_actor(), request.form
    name = form.get("name", "")
    slug = form.get("slug", "").strip().lower() or spaces.slug_from(
        name, f"project-{secrets.token_hex(3)}"
    )
    space = spaces.create_project_space(ctx(), user, name, slug)
    flash(_("The space %(name)s was created.", name=space.name))
    return redirect(url_for(".folder", node_id=_root(space).id))


@bp.post("/spaces/<int:space_id>/rename")
def rename_project_space(space_id: int):
    """Give a project space the person manages a new name; its S3 name stays."""
    user, space = require_actor(), _seen_space(space_id)
    spaces.rename_project_space(ctx(), user, space, request.form.get("name", ""))
    flash(_("The space is now called %(name)s.", name=space.name))
    return redirect(url_for(".folder", node_id=_root(space).id))


@bp.post("/spaces/<int:space_id>/delete")
def delete_project_space(space_id: int):
    """Delete an empty project space the person manages."""
    user, space = require_actor(), _seen_space(space_id)
    name, root_id = space.name, _root(space).id
    try:
        spaces.delete_project_space(ctx(), user, space)
    except InvalidInput as refused:
        if refused.detail.get("reason") != "not_empty":
            raise
        flash(_("The space is not empty. Empty the space and its trash first."))
        return redirect(url_for(".folder", node_id=root_id))
    flash(_("The space %(name)s was deleted.", name=name))
    return redirect(url_for(".home"))


@bp.get("/my")
def my_files():
    """Open the person's own space."""
    return redirect(
        url_for(".folder", node_id=_root(spaces.personal_space(ctx(), require_actor())).id)
    )


@bp.get("/department")
def my_department():
    """Open the space of the person's department."""
    return redirect(url_for(".folder", node_id=_department_root(require_actor()).id))


@bp.get("/spaces")
def department_spaces():
    """List every department space the person may see."""
    return render_template("spaces.html", spaces=spaces.department_spaces(ctx(), require_actor()))


@bp.get("/shared")
def shared_with_me():
    """List what was shared with the person, directly or through their department."""
    return _shared(personal=True)


@bp.get("/shared/department")
def shared_with_department():
    """List what was shared with the person's department."""
    return _shared(personal=False)


@bp.get("/f/<int:node_id>")
def folder(node_id: int):
    """Show a folder: breadcrumbs, sub-folders, then files, sorted and paginated."""
    user = require_actor()
    node = lookup.get_node(ctx(), user, node_id)
    if not node.is_folder:
        return redirect(url_for("files.file_page", node_id=node.id))
    sort, descending, page = _sorting()
    entries = lookup.list_folder(
        ctx(), user, node, sort, descending, PAGE_SIZE + 1, page * PAGE_SIZE
    )
    return render_template(
        "folder.html",
        node=node,
        entries=entries[:PAGE_SIZE],
        more=len(entries) > PAGE_SIZE,
        page=page,
        sort=sort,
        descending=descending,
        view="grid" if request.args.get("view") == "grid" else "list",
        view_links=_view_links(node),
        crumbs=breadcrumbs(node),
        actions=allowed_actions(ctx().db, user, node),
        selected={int(i) for i in request.args.getlist("sel") if i.isdigit() and len(i) < 10},
        managed_space=None
        if node.parent_id
        else spaces.managed_project_space(ctx(), user, node.space),
    )


@bp.get("/search")
def search_everywhere():
    """Find files and folders by name in all the person sees, or below one folder (?in=)."""
    user, within = require_actor(), request.args.get("in", "")
    folder = None
    if within.isdigit() and len(within) < 10:
        folder = lookup.get_node(ctx(), user, int(within))
    return _search_page(folder if folder is None or folder.is_folder else None)


@bp.get("/f/<int:node_id>/search")
def search_folder(node_id: int):
    """Find items below a folder by name (the search page, scoped to the folder)."""
    return _search_page(lookup.get_node(ctx(), require_actor(), node_id))


def _search_page(within):
    user, text = require_actor(), request.args.get("q", "").strip()[:200]
    page = request.args.get("page", "0")
    page = int(page) if page.isdigit() and len(page) < 6 else 0
    found = search.search_names(ctx(), user, text, within, search.PAGE, page * search.PAGE)
    return render_template(
        "search.html",
        within=within,
        hits=found.hits,
        more=found.more,
        page=page,
        q=text,
        crumbs=breadcrumbs(within) if within else [],
    )


@bp.get("/spaces/<int:space_id>/trash")
def trash_page(space_id: int):
    """List the deleted items of a space that the person may restore."""
    user = require_actor()
    root = lookup.get_node(ctx(), user, _space_root_id(space_id))
    items = trash.list_trash(ctx(), user, space_id)
    return render_template("trash.html", root=root, items=items, crumbs=breadcrumbs(root))


def breadcrumbs(node) -> list[tuple[int, str]]:
    """Return (id, name) of the folders above a node that the person may see, then the node."""
    return lookup.breadcrumbs(ctx(), require_actor(), node)


def _seen_space(space_id: int) -> Space:
    """Return the space if the person may see its root folder, else NotFound."""
    lookup.get_node(ctx(), require_actor(), _space_root_id(space_id))
    return ctx().db.get(Space, space_id)


def _space_root_id(space_id: int) -> int:
    space = ctx().db.get(Space, space_id)
    return spaces.root_of(ctx().db, space).id if space else 0


def _view_links(node) -> dict[str, str]:
    """Return the folder's address as a list and as a grid, its other arguments kept."""
    args = {k: v for k, v in request.args.items() if k not in ("view", "sel")}
    return {
        "list": url_for("browse.folder", node_id=node.id, **args),
        "grid": url_for("browse.folder", node_id=node.id, **args, view="grid"),
    }


def _sorting() -> tuple[str, bool, int]:
    sort = request.args.get("sort", "name")
    page = request.args.get("page", "0")
    return (
        sort if sort in lookup.SORTS else "name",
        request.args.get("desc") == "1",
        int(page) if page.isdigit() else 0,
    )


def _shared(personal: bool):
    """List what is shared with the person: everything, each share through a department
    saying which ("via ..."); or only what is shared with their department."""
    user = require_actor()
    items = [
        (node, grant)
        for node, grant in visibility.shared_with(ctx(), user)
        if personal or grant.user_id is None
    ]
    return render_template(
        "shared.html", items=items, personal=personal, owners=_creators(items), via=_via(items)
    )


def _via(items) -> dict:
    """Return the full name of each department a share went through, by department id."""
    ids = {grant.department_id for _, grant in items} - {None}
    return {
        department.id: departments.full_name(ctx(), department)
        for department in ctx().db.scalars(select(Department).where(Department.id.in_(ids)))
    }


def _creators(items) -> dict:
    ids = {grant.created_by for _, grant in items} - {None}
    return {u.id: u for u in ctx().db.scalars(select(User).where(User.id.in_(ids)))}


def _root(space):
    return spaces.root_of(ctx().db, space)


def _department_root(user):
    return _root(departments.department_space(ctx(), user.department))
