"""Administration: people, departments, quotas, quarantine, the audit log, scanner health."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from gshare.access import accounts
from gshare.accounts import factors, login, sessions
from gshare.activity import audit
from gshare.core.collation import sort_by_name
from gshare.core.config import GiB
from gshare.core.errors import InvalidInput, NotFound
from gshare.core.models import Department, Space, User, UserRole
from gshare.ops import health
from gshare.org import departments, spaces, users
from gshare.scanning import quarantine
from web.audit_words import describe
from web.context import ctx, gshare, require_actor
from web.i18n import parse_day, when

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _administrators_only():
    accounts.require_administrator(require_actor())


@bp.get("/")
def overview():
    """Show the administration start page with the scanner's health."""
    user = require_actor()
    people = users.list_manageable(ctx(), user)
    return render_template(
        "admin/overview.html", scanner=health.scanner_status(gshare()), people=len(people)
    )


@bp.get("/users")
def people():
    """List the people the administrator manages, with the form to add one."""
    return _people_page(require_actor(), imported=None)


@bp.post("/users")
def add_person():
    """Add an account."""
    form = request.form
    users.add_user(
        ctx(),
        require_actor(),
        form.get("username", ""),
        form.get("display_name", ""),
        _department(form.get("department", type=int)),
        role=_role(form.get("role")),
        password=form.get("password") or None,
        email=form.get("email") or None,
    )
    flash(_("The account was created."))
    return redirect(url_for(".people"))


@bp.post("/users/import")
def import_people():
    """Create accounts from a CSV file and show their initial passwords once."""
    user = require_actor()
    created = users.import_users(ctx(), user, io.StringIO(_csv_text(request.files.get("csv"))))
    return _people_page(user, imported=created)


CSV_LIMIT = 1024 * 1024  # 1 MiB: some 10,000 people per file


def _csv_text(upload) -> str:
    """Return the text of an uploaded CSV file, or say why it cannot be read (whole or not at
    all: a file cut short would import its first rows only)."""
    data = upload.read(CSV_LIMIT + 1) if upload else b""
    if not data:
        raise InvalidInput("Choose a CSV file first.", reason="csv_missing")
    if len(data) > CSV_LIMIT:
        raise InvalidInput("The CSV file is larger than 1 MB: split it.", reason="csv_too_large")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The file is not UTF-8 text: save it from the spreadsheet as 'CSV UTF-8'.",
            reason="csv_encoding",
        ) from None


def _people_page(user: User, imported):
    people = users.list_manageable(ctx(), user)
    return render_template(
        "admin/users.html",
        people=people,
        with_factors=factors.with_factors(ctx(), people),
        departments=departments.list_departments(ctx()),
        roles=list(UserRole),
        imported=imported,
    )


@bp.post("/users/<int:user_id>/<any(disable, enable):verb>")
def disable(user_id: int, verb: str):
    """Disable an account (its sessions end at once) or enable it again."""
    users.set_disabled(ctx(), require_actor(), _person(user_id), verb == "disable")
    flash(_("The account was disabled.") if verb == "disable" else _("The account was enabled."))
    return redirect(url_for(".people"))


@bp.post("/users/<int:user_id>/place")
def place_person(user_id: int):
    """Move a person to another department and give them a role."""
    person, form = _person(user_id), request.form
    changed = users.place_user(
        ctx(),
        require_actor(),
        person,
        _department(form.get("department", type=int)),
        _role(form.get("role")),
    )
    if changed:
        flash(
            _(
                "%(name)s is now in %(department)s as %(role)s.",
                name=person.display_name,
                department=person.department.name,
                role=role_label(person.role),
            )
        )
    else:
        flash(_("Nothing was changed for %(name)s.", name=person.display_name))
    return redirect(url_for(".people"))


def role_label(role: str) -> str:
    """Return the name of a person's role in the reader's language."""
    return {
        UserRole.MEMBER: _("Member"),
        UserRole.DEPARTMENT_ADMIN: _("Department administrator"),
        UserRole.SYSTEM_ADMIN: _("System administrator"),
    }.get(role, role)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set a new password for an account."""
    users.set_password(ctx(), require_actor(), _person(user_id), request.form.get("password", ""))
    flash(_("The password was set; the person's sessions were ended."))
    return redirect(url_for(".people"))


@bp.post("/users/<int:user_id>/end-sessions")
def end_sessions(user_id: int):
    """End every session of a person (they must sign in again everywhere)."""
    sessions.end_all_sessions(ctx(), require_actor(), _person(user_id))
    flash(_("The person's sessions were ended."))
    return redirect(url_for(".people"))


@bp.post("/users/<int:user_id>/reset-factors")
def reset_factors(user_id: int):
    """Remove a person's second factors and recovery codes (a lost phone or key)."""
    person = _person(user_id)
    factors.reset_factors(ctx(), require_actor(), person)
    flash(
        _(
            "The second factors of %(name)s were removed and their sessions ended. They sign in "
            "with their password and add a factor again.",
            name=person.display_name,
        )
    )
    return redirect(url_for(".people"))


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id: int):
    """Lift a sign-in lock after too many wrong passwords."""
    login.unlock_account(ctx(), require_actor(), _person(user_id))
    flash(_("The account's sign-in lock was lifted."))
    return redirect(url_for(".people"))


@bp.get("/departments")
def department_tree():
    """Show the department tree with forms to add, rename and move."""
    require_actor()
    return render_template(
        "admin/departments.html", departments=departments.list_departments(ctx())
    )


@bp.post("/departments")
def add_department():
    """Add a department (and its space)."""
    parent_id = request.form.get("parent", type=int)
    departments.add_department(
        ctx(),
        require_actor(),
        request.form.get("name", ""),
        _department(parent_id) if parent_id else None,
    )
    flash(_("The department was added."))
    return redirect(url_for(".department_tree"))


@bp.post("/departments/<int:department_id>/rename")
def rename_department(department_id: int):
    """Rename a department."""
    departments.rename_department(
        ctx(), require_actor(), _department(department_id), request.form.get("name", "")
    )
    return redirect(url_for(".department_tree"))


@bp.post("/departments/<int:department_id>/move")
def move_department(department_id: int):
    """Move a department under another one (or to the top)."""
    parent_id = request.form.get("parent", type=int)
    departments.move_department(
        ctx(),
        require_actor(),
        _department(department_id),
        _department(parent_id) if parent_id else None,
    )
    return redirect(url_for(".department_tree"))


@bp.get("/spaces")
def space_list():
    """Show every space with its usage and quota."""
    return render_template("admin/spaces.html", spaces=spaces.list_spaces(ctx(), require_actor()))


@bp.post("/spaces/<int:space_id>/quota")
def set_quota(space_id: int):
    """Set a space's quota in GB (empty: unlimited)."""
    space = ctx().db.get(Space, space_id)
    if space is None:
        raise NotFound()
    text = request.form.get("quota_gb", "").strip()
    try:
        quota = int(float(text) * GiB) if text else None
    except ValueError:
        raise InvalidInput(_("Give the quota as a number of GB.")) from None
    spaces.set_quota(ctx(), require_actor(), space, quota)
    if quota is None:
        flash(_("%(space)s now has no quota.", space=space.name))
    else:
        flash(_("The quota of %(space)s is now %(gb)s GB.", space=space.name, gb=text))
    return redirect(url_for(".space_list"))


@bp.get("/quarantine")
def quarantine_list():
    """List the quarantined versions."""
    items = quarantine.list_quarantine(ctx(), require_actor())
    return render_template("admin/quarantine.html", items=items)


@bp.post("/quarantine/<int:version_id>/release")
def release(version_id: int):
    """Release a quarantined version with a reason."""
    quarantine.release_version(ctx(), require_actor(), version_id, request.form.get("reason", ""))
    flash(_("The version was released."))
    return redirect(url_for(".quarantine_list"))


@bp.post("/quarantine/<int:version_id>/delete")
def delete_quarantined(version_id: int):
    """Delete a quarantined version for good."""
    quarantine.delete_quarantined(ctx(), require_actor(), version_id)
    flash(_("The version was deleted."))
    return redirect(url_for(".quarantine_list"))


@bp.get("/audit")
def audit_log():
    """Show the audit log in words, filtered by person, space, action and time."""
    events = audit.search_events(ctx(), require_actor(), **_audit_filters(), limit=500)
    who = _people_by_id(events)
    items = audit.items_in_words(ctx(), events)
    return render_template(
        "admin/audit.html",
        events=[(e, describe(e.action, who.get(e.actor_id), items[e.id])) for e in events],
        people=users.list_users(ctx()),
        spaces=sort_by_name(ctx().db.query(Space), lambda space: space.name),
        args=request.args,
    )


@bp.get("/audit.csv")
def audit_csv():
    """Export the filtered audit log as CSV, streamed row by row."""
    events = audit.search_events(ctx(), require_actor(), **_audit_filters(), limit=100_000)
    who = _people_by_id(events)
    items = audit.items_in_words(ctx(), events)
    rows = [
        (
            e.id,
            when(e.at),
            who.get(e.actor_id, ""),
            describe(e.action, who.get(e.actor_id), items[e.id]),
            e.action,
            e.target,  # the item as stored (space slug and path), like the action code
            e.ip or "",
            e.detail or "",
        )
        for e in events
    ]
    head = (
        _("Number"),
        _("When"),
        _("Person"),
        _("What happened"),
        _("Action code"),
        _("Item"),
        _("Address"),
        _("Details"),
    )
    return Response(
        _csv_lines([head, *rows]),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


def _csv_lines(rows):
    """Yield CSV text one row at a time (a byte-order mark first, for spreadsheets)."""
    yield "\ufeff"
    for row in rows:
        out = io.StringIO()
        csv.writer(out).writerow(row)
        yield out.getvalue()


def _audit_filters() -> dict:
    args = request.args
    person = args.get("person", "").strip()
    return {
        "actor_id": _person_named(person).id if person else None,
        "action": args.get("action") or None,
        "space_id": args.get("space", type=int),
        "since": _moment(args.get("since"), time(0)),
        "until": _moment(args.get("until"), time(23, 59, 59, 999999)),
    }


def _moment(text: str | None, at: time) -> datetime | None:
    """Read a day typed as dd/mm/yyyy (or year-month-day, as older links have it) in the
    reader's time zone: its first moment for "from", its last for "until"."""
    if not text or not text.strip():
        return None
    moment = parse_day(text, at)
    if moment is None:
        try:
            moment = parse_day(date.fromisoformat(text.strip()).strftime("%d/%m/%Y"), at)
        except ValueError:
            raise InvalidInput(_("Give dates as day/month/year, e.g. 31/12/2025.")) from None
    return moment


def _people_by_id(events) -> dict:
    ids = {e.actor_id for e in events} - {None}
    return {
        u.id: f"{u.display_name} ({u.username})"
        for u in ctx().db.query(User).filter(User.id.in_(ids))
    }


def _person_named(text: str) -> User:
    """Find a person by user name or full name, as typed or chosen from the list."""
    username = text.rsplit("(", 1)[-1].rstrip(")").strip() if text.endswith(")") else text
    found = (
        ctx()
        .db.query(User)
        .filter((User.username == username) | (User.display_name == text))
        .first()
    )
    if found is None:
        raise NotFound(_("Nobody is called %(name)s.", name=text))
    return found


def _person(user_id: int) -> User:
    person = ctx().db.get(User, user_id)
    if person is None:
        raise NotFound()
    return person


def _department(department_id: int | None) -> Department:
    department = ctx().db.get(Department, department_id or 0)
    if department is None:
        raise NotFound(_("Choose a department."))
    return department


def _role(text: str | None) -> UserRole:
    try:
        return UserRole(text or UserRole.MEMBER)
    except ValueError:
        raise InvalidInput(_("Unknown role.")) from None
