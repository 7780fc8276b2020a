"""Whom to share with, found by name: people (active ones) and departments, by part of a
display name in Lao or English, a user name, or a department's name.

The share form's picker asks `suggest_grantees` as the person types; a name typed without
choosing a suggestion is read by `resolve_grantee`, which accepts an exact user name or
department name, or a text that matches exactly one person or department, and otherwise says
what is wrong in a sentence (no one matches, or several do).

Names match as in the search, through its key (gshare.core.names.search_key): ໜ typed as
ຫ + ນ, and Lao tone marks typed before or after a vowel mark, find the same people.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gshare.core.actor import Actor
from gshare.core.collation import sort_by_name
from gshare.core.context import Context
from gshare.core.errors import InvalidInput
from gshare.core.models import Department, User
from gshare.core.names import search_key
from gshare.org import departments

SUGGESTIONS = 8
MAX_TEXT = 100


@dataclass(frozen=True)
class Grantee:
    """A person or a department as the picker shows it."""

    kind: str  # "user" or "department"
    id: int
    label: str  # the display name, or the department's full name
    detail: str  # the user name and department, or "" for a department

    @property
    def ref(self) -> str:
        """Return the form value that names this grantee ("user:7", "department:3")."""
        return f"{self.kind}:{self.id}"


class GranteeUnknown(InvalidInput):
    """No person or department matches the name typed."""


class GranteeAmbiguous(InvalidInput):
    """Several people or departments match the name typed."""


def suggest_grantees(
    ctx: Context, actor: Actor, text: str, limit: int = SUGGESTIONS
) -> list[Grantee]:
    """Return up to `limit` active people and departments whose names contain the text."""
    key = search_key(" ".join((text or "").split())[:MAX_TEXT])
    if not key:
        return []
    people = _matching_people(ctx, key, limit)
    found = [_person(ctx, user) for user in people]
    found += [
        Grantee("department", d.id, full, "")
        for d, full in departments.list_departments(ctx)
        if key in search_key(full)
    ][: max(limit - len(found), 0)]
    return found


def resolve_grantee(ctx: Context, actor: Actor, ref: str, text: str) -> dict:
    """Return {"user": ...} or {"department": ...} for a chosen suggestion ("user:7") or, when
    none was chosen, for the text typed; raise GranteeUnknown or GranteeAmbiguous."""
    if chosen := _chosen(ctx, ref):
        return chosen
    typed = " ".join((text or "").split())
    if not typed:
        raise GranteeUnknown("Choose a person or a department to share with.")
    exact = _exact(ctx, typed)
    if exact:
        return exact
    matches = suggest_grantees(ctx, actor, typed, limit=2)
    if not matches:
        raise GranteeUnknown(f"No active person or department is called '{typed}'.")
    if len(matches) > 1:
        raise GranteeAmbiguous(f"Several people or departments match '{typed}'; choose one.")
    return _chosen(ctx, matches[0].ref)


def department_member_ids(ctx: Context, department: Department, below: bool) -> list[int]:
    """Return the ids of the active members of a department (and of those below it, if
    `below`)."""
    ids = {department.id}
    if below:
        children: dict[int | None, list[int]] = {}
        for d in ctx.db.scalars(select(Department)):
            children.setdefault(d.parent_id, []).append(d.id)
        todo = [department.id]
        while todo:
            for child in children.get(todo.pop(), []):
                if child not in ids:
                    ids.add(child)
                    todo.append(child)
    query = select(User.id).where(User.department_id.in_(ids), User.disabled.is_(False))
    return list(ctx.db.scalars(query.order_by(User.id)))


def _matching_people(ctx: Context, key: str, limit: int) -> list[User]:
    pattern = f"%{_escaped(key)}%"
    query = select(User).where(
        User.search_name.like(pattern, escape="\\"), User.disabled.is_(False)
    )
    return sort_by_name(
        ctx.db.scalars(query.order_by(User.display_name).limit(limit)),
        lambda user: user.display_name,
    )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _person(ctx: Context, user: User) -> Grantee:
    where = departments.full_name(ctx, ctx.db.get(Department, user.department_id))
    return Grantee("user", user.id, user.display_name, f"{user.username} · {where}")


def _chosen(ctx: Context, ref: str) -> dict | None:
    kind, _, number = (ref or "").partition(":")
    if not number.isdigit() or len(number) > 12:
        return None
    if kind == "user":
        user = ctx.db.get(User, int(number))
        return {"user": user} if user is not None and not user.disabled else None
    if kind == "department":
        department = ctx.db.get(Department, int(number))
        return {"department": department} if department is not None else None
    return None


def _exact(ctx: Context, typed: str) -> dict | None:
    user = ctx.db.scalar(
        select(User).where(User.username == typed.lower(), User.disabled.is_(False))
    )
    if user is not None:
        return {"user": user}
    named = [d for d, full in departments.list_departments(ctx) if typed in (full, d.name)]
    return {"department": named[0]} if len(named) == 1 else None
