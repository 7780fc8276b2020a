"""People from the directory: sign-in with a directory password, the mapping of entries to
departments and roles, and `gshare directory sync`, which creates, moves and disables people.

The mapping ([ldap] department_from, docs/identity.md): "ou" takes the OUs between the
person's entry and department_base as the department path; "group" takes the first of
department_groups the person is in; "attribute" reads department_attribute ("Finance / Tax").
Roles come from system_admin_group and department_admin_group when either is set.
Nothing is ever deleted: a person who is gone or disabled in the directory is disabled here,
which ends their sessions, API tokens and S3 access keys; when the directory lists them as
active again (the same entry), they are enabled again, unless an administrator disabled them by
hand (users.disabled_by).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from gshare.accounts import access_keys, api_tokens, sessions
from gshare.accounts.directory import (
    Directory,
    DirectoryError,
    DirectoryPerson,
    normal_dn,
    ou_path,
)
from gshare.activity import audit
from gshare.core.actor import OPERATOR
from gshare.core.context import Context
from gshare.core.errors import Conflict, InvalidInput
from gshare.core.models import Department, Space, User, UserRole, utcnow
from gshare.org import departments, spaces, users

LDAP = "ldap"
_COUNTERS = {
    "create": "created",
    "move": "moved",
    "role": "roles",
    "disable": "disabled",
    "enable": "enabled",
}
DISABLED_BY_DIRECTORY = "directory"


class Mapping:
    """Departments and roles of directory people, per [ldap]; departments found once."""

    def __init__(self, ctx: Context, directory: Directory):
        self.ctx, self.directory, self.settings = ctx, directory, ctx.config.ldap
        self.groups = [_group_line(line) for line in self.settings.department_groups]
        self._members: dict[str, set[str]] | None = None
        self._departments: dict[tuple[str, ...], Department] = {}

    def load_groups(self) -> None:
        """Read every mapped group's members once (for a sync of everyone)."""
        names = [dn for dn, _ in self.groups] + self._admin_groups()
        self._members = {dn: self.directory.group_members(dn) for dn in names}

    def department_of(self, person: DirectoryPerson) -> Department:
        """Return the person's gshare department, creating it where the settings allow."""
        path = self._path(person)
        if not path:
            raise DirectoryError(
                f"The directory puts '{person.username}' in no department gshare knows "
                "(set [ldap] default_department or the mapping)."
            )
        return self._department(tuple(path))

    def role_of(self, person: DirectoryPerson) -> UserRole | None:
        """Return the role the admin groups give, or None when roles are left to gshare."""
        s = self.settings
        if not (s.system_admin_group or s.department_admin_group):
            return None
        if s.system_admin_group and self._in_group(person, s.system_admin_group):
            return UserRole.SYSTEM_ADMIN
        if s.department_admin_group and self._in_group(person, s.department_admin_group):
            return UserRole.DEPARTMENT_ADMIN
        return UserRole.MEMBER

    def _path(self, person: DirectoryPerson) -> list[str]:
        s = self.settings
        found: list[str] = []
        if s.department_from == "ou":
            ous = ou_path(person.dn, s.department_base or s.user_base)
            found = (_split(s.department_root) + ous) if ous else []
        elif s.department_from == "group":
            name = next((n for dn, n in self.groups if self._in_group(person, dn)), "")
            found = _split(name)
        elif person.department:
            found = _split(person.department)
        return found or _split(s.default_department)

    def _in_group(self, person: DirectoryPerson, group_dn: str) -> bool:
        if self._members is not None:
            return normal_dn(person.dn) in self._members[group_dn]
        return self.directory.is_member(person, group_dn)

    def _admin_groups(self) -> list[str]:
        s = self.settings
        return [dn for dn in (s.system_admin_group, s.department_admin_group) if dn]

    def _department(self, path: tuple[str, ...]) -> Department:
        if path in self._departments:
            return self._departments[path]
        parent = self._department(path[:-1]) if len(path) > 1 else None
        parent_id = parent.id if parent else None
        department = self.ctx.db.scalar(
            select(Department).where(
                Department.name == path[-1],
                Department.parent_id.is_(None)
                if parent_id is None
                else Department.parent_id == parent_id,
            )
        )
        if department is None:
            if not self.settings.create_departments:
                raise DirectoryError(
                    f"The directory names the department '{' / '.join(path)}', which gshare "
                    "does not have: add it (gshare department add) or set [ldap] "
                    "create_departments = true."
                )
            slug = _free_slug(self.ctx, spaces.slug_from("-".join(path), "department"))
            department = departments.add_department(self.ctx, OPERATOR, path[-1], parent, slug=slug)
        self._departments[path] = department
        return department


def apply_person(
    ctx: Context, mapping: Mapping, person: DirectoryPerson, now: datetime
) -> tuple[User, list[str]]:
    """Create or update the gshare account of a directory entry; return it and what changed."""
    user = _linked_user(ctx, person)
    if user is not None:
        user.directory_seen_at = now
    department = mapping.department_of(person)
    role = mapping.role_of(person)
    if user is None:
        return _add_person(ctx, person, department, role, now)
    changes = _enable_returning(ctx, user)
    if user.department_id != department.id:
        old = departments.full_name(ctx, ctx.db.get(Department, user.department_id))
        new = departments.full_name(ctx, department)
        user.department_id = department.id
        audit.record(ctx, OPERATOR, "directory.move", target=user.username, old=old, new=new)
        changes.append(f"move {user.username}: {old} -> {new}")
    if role is not None and user.role != role:
        audit.record(ctx, OPERATOR, "directory.role", target=user.username, old=user.role, new=role)
        changes.append(f"role {user.username}: {user.role} -> {role}")
        user.role = role
    _update(user, display_name=person.display_name or user.username, email=person.email)
    _update(user, directory_dn=person.dn)
    return user, changes


def _update(user: User, **values) -> None:
    """Set only what differs, so an unchanged person costs no UPDATE."""
    for name, value in values.items():
        if getattr(user, name) != value:
            setattr(user, name, value)


def _enable_returning(ctx: Context, user: User) -> list[str]:
    """Enable again a person the directory disabled and now lists as active; one disabled
    by an administrator's hand stays disabled."""
    if not user.disabled or user.disabled_by != DISABLED_BY_DIRECTORY:
        return []
    user.disabled, user.disabled_by = False, None
    audit.record(ctx, OPERATOR, "directory.enable", target=user.username)
    return [f"enable {user.username}: active in the directory again"]


def disable_person(ctx: Context, user: User, reason: str) -> list[str]:
    """Disable a person gone or disabled in the directory: sessions, tokens and keys end."""
    user.disabled, user.disabled_by = True, DISABLED_BY_DIRECTORY
    ended = sessions.end_sessions(ctx, user)
    tokens = api_tokens.revoke_all_tokens(ctx, user)
    keys = access_keys.revoke_all_keys(ctx, OPERATOR, user)
    audit.record(
        ctx,
        OPERATOR,
        "directory.disable",
        target=user.username,
        reason=reason,
        sessions_ended=ended,
        tokens_revoked=tokens,
        keys_revoked=keys,
    )
    return [f"disable {user.username}: {reason}"]


def authenticate(ctx: Context, username: str, password: str) -> User | None:
    """Check a password against the directory; create or update the person's account.

    Return None for an unknown name, a wrong password or a disabled person; raise
    DirectoryUnavailable when the directory cannot be asked, DirectoryError when the entry
    cannot be used (two entries match, no department)."""
    with Directory(ctx.config.ldap) as directory:
        person = directory.find_person(username)
        if person is None or not directory.check_password(person, password):
            return None
        if directory.is_disabled(person):
            user = _linked_user(ctx, person)
            if user is not None and not user.disabled:
                disable_person(ctx, user, "disabled in the directory")
            return None
        user, _changes = apply_person(ctx, Mapping(ctx, directory), person, utcnow())
    return None if user.disabled else user


@dataclass
class SyncReport:
    """What a sync did (or, in a dry run, would do)."""

    seen: int = 0
    created: int = 0
    moved: int = 0
    roles: int = 0
    disabled: int = 0
    enabled: int = 0
    skipped: int = 0

    def count(self, lines: list[str]) -> None:
        """Count changes by the verb each line starts with."""
        for line in lines:
            name = _COUNTERS[line.split(" ", 1)[0]]
            setattr(self, name, getattr(self, name) + 1)

    def summary(self) -> str:
        """Return one line saying what changed."""
        return (
            f"{self.seen} people in the directory: {self.created} created, {self.moved} moved, "
            f"{self.roles} roles changed, {self.disabled} disabled, {self.enabled} enabled again, "
            f"{self.skipped} skipped"
        )


def sync_directory(ctx: Context, say: Callable[[str], None]) -> SyncReport:
    """Bring gshare's directory people in line with the directory, saying each change."""
    now, report = utcnow(), SyncReport()
    with Directory(ctx.config.ldap) as directory:
        mapping = Mapping(ctx, directory)
        mapping.load_groups()
        for person in directory.list_people():
            report.seen += 1
            if report.seen % ctx.config.ldap.page_size == 0:
                ctx.db.flush()  # a page's changes at once; the session keeps no more
            try:
                with ctx.db.no_autoflush:
                    _user, changes = apply_person(ctx, mapping, person, now)
            except (DirectoryError, InvalidInput, Conflict) as exc:
                report.skipped += 1
                say(f"skip {person.dn}: {exc}")
                continue
            report.count(changes)
            for line in changes:
                say(line)
    if report.seen == 0:
        raise DirectoryError(
            "The directory lists nobody under [ldap] user_base with user_filter: nothing was "
            "changed (a wrong base would otherwise disable everyone)."
        )
    for user in _leavers(ctx, now):
        changes = disable_person(ctx, user, "gone or disabled in the directory")
        report.count(changes)
        for line in changes:
            say(line)
    return report


def _leavers(ctx: Context, now: datetime) -> list[User]:
    return list(
        ctx.db.scalars(
            select(User).where(
                User.source == LDAP,
                User.disabled.is_(False),
                or_(User.directory_seen_at.is_(None), User.directory_seen_at < now),
            )
        )
    )


def _linked_user(ctx: Context, person: DirectoryPerson) -> User | None:
    """Return the account of this entry; refuse a name held by a local or another entry's."""
    user = ctx.db.scalar(select(User).where(User.directory_id == person.entry_id))
    if user is not None:
        return user
    user = ctx.db.scalar(select(User).where(User.username == person.username))
    if user is None:
        return None
    if user.source != LDAP:
        raise DirectoryError(
            f"'{person.username}' is a local gshare account; the directory entry {person.dn} "
            "is not linked to it."
        )
    raise DirectoryError(
        f"The user name '{person.username}' belongs to another directory entry "
        f"({user.directory_dn})."
    )


def _add_person(
    ctx: Context,
    person: DirectoryPerson,
    department: Department,
    role: UserRole | None,
    now: datetime,
) -> tuple[User, list[str]]:
    user = users.add_user(
        ctx,
        OPERATOR,
        person.username,
        person.display_name,
        department,
        role=role or UserRole.MEMBER,
        email=person.email,
    )
    user.source, user.directory_id, user.directory_dn = LDAP, person.entry_id, person.dn
    user.directory_seen_at = now
    where = departments.full_name(ctx, department)
    audit.record(ctx, OPERATOR, "directory.user_add", target=user.username, department=where)
    return user, [f"create {user.username} in {where}"]


def _free_slug(ctx: Context, base: str) -> str:
    """Return base, or base-2, base-3...: the first space name no space has."""
    slug, n = base, 1
    while ctx.db.scalar(select(Space.id).where(Space.slug == slug)) is not None:
        n += 1
        slug = f"{base[:58]}-{n}"
    return slug


def _group_line(line: str) -> tuple[str, str]:
    dn, _sep, name = line.partition(" = ")
    return dn.strip(), name.strip()


def _split(path: str) -> list[str]:
    return [part.strip() for part in path.split("/") if part.strip()]
