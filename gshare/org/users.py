"""People: accounts, passwords (argon2), roles, disabling, and import from CSV."""

from __future__ import annotations

import csv
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from gshare.access.accounts import may_manage_department, require_administrator, require_manager_of
from gshare.accounts import sessions
from gshare.activity import audit
from gshare.core.actor import Actor
from gshare.core.collation import sort_by_name
from gshare.core.config import is_time_zone
from gshare.core.context import Context
from gshare.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from gshare.core.models import Department, SpaceKind, User, UserRole
from gshare.org import departments, spaces

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("gshare-timing-equaliser")


def check_username(username: str) -> str:
    """Return the username in lower case, or raise InvalidInput."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("A username is 2-64 characters: a-z, 0-9, '.', '_' or '-'.")
    return username


def hash_password(password: str) -> str:
    """Return an argon2 hash of a password that meets the length rule."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def add_user(
    ctx: Context,
    actor: Actor,
    username: str,
    display_name: str,
    department: Department,
    role: UserRole = UserRole.MEMBER,
    password: str | None = None,
    email: str | None = None,
) -> User:
    """Create an account with its personal space."""
    require_manager_of(ctx.db, actor, department.id, role)
    username = check_username(username)
    if ctx.db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username '{username}' is already taken.")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        department_id=department.id,
        role=UserRole(role),
        password_hash=hash_password(password) if password else None,
    )
    ctx.db.add(user)
    ctx.db.flush()
    spaces.create_space(
        ctx,
        kind=SpaceKind.PERSONAL,
        name=user.display_name,
        owner=user,
        slug=_personal_slug(ctx.db, username),
        quota_bytes=spaces.default_quota(ctx.config, SpaceKind.PERSONAL),
    )
    audit.record(
        ctx, actor, "user.add", target=username, role=str(role), department_id=department.id
    )
    return user


def set_password(
    ctx: Context, actor: Actor, user: User, password: str, keep_session: int | None = None
) -> None:
    """Set a new password and end every session the user has open but keep_session."""
    if actor is not user:
        require_manager_of(ctx.db, actor, user.department_id, user.role)
    user.password_hash = hash_password(password)
    ended = sessions.end_sessions(ctx, user, keep_id=keep_session)
    audit.record(ctx, actor, "user.set_password", target=user.username, sessions_ended=ended)


def place_user(
    ctx: Context, actor: Actor, user: User, department: Department, role: UserRole
) -> bool:
    """Move a person to a department and give them a role; the actor must manage them both
    where they are and where they go. Return whether anything changed."""
    require_manager_of(ctx.db, actor, user.department_id, user.role)
    require_manager_of(ctx.db, actor, department.id, role)
    if actor is user and role != user.role:
        raise PermissionDenied("You cannot change your own role.")
    if (user.department_id, user.role) == (department.id, role):
        return False
    before = {"department_id": user.department_id, "role": str(user.role)}
    user.department_id, user.role = department.id, UserRole(role)
    ctx.db.flush()
    ctx.db.expire(user, ["department"])
    audit.record(
        ctx,
        actor,
        "user.place",
        target=user.username,
        before=before,
        department_id=department.id,
        role=str(role),
    )
    return True


def set_time_zone(ctx: Context, actor: Actor, user: User, zone: str) -> None:
    """Show a person times in a zone of their choice ("" for the site's)."""
    if actor is not user:
        require_manager_of(ctx.db, actor, user.department_id, user.role)
    if zone and not is_time_zone(zone):
        raise InvalidInput("Choose a time zone from the list.", field="time_zone")
    user.time_zone = zone or None


def set_disabled(ctx: Context, actor: Actor, user: User, disabled: bool) -> None:
    """Disable an account (ending its sessions and keys at once) or enable it again."""
    require_manager_of(ctx.db, actor, user.department_id, user.role)
    user.disabled = disabled
    user.disabled_by = "admin" if disabled else None
    if not disabled:
        audit.record(ctx, actor, "user.enable", target=user.username)
        return
    ended = sessions.end_sessions(ctx, user)
    audit.record(ctx, actor, "user.disable", target=user.username, sessions_ended=ended)


def authenticate(ctx: Context, username: str, password: str) -> User | None:
    """Return the enabled user with this username and password, else None (constant effort)."""
    user = ctx.db.scalar(select(User).where(User.username == username.strip().lower()))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled or not user.password_hash:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def find_user(ctx: Context, username: str) -> User:
    """Return the user with this username, or raise NotFound."""
    user = ctx.db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"No user '{username}'.")
    return user


def list_users(ctx: Context, department: Department | None = None) -> list[User]:
    """Return users, optionally of one department, by name (Lao dictionary order)."""
    query = select(User).order_by(User.username)
    if department is not None:
        query = query.where(User.department_id == department.id)
    return sort_by_name(ctx.db.scalars(query), lambda user: user.display_name)


@dataclass(frozen=True)
class ImportedUser:
    username: str
    initial_password: str


def import_users(ctx: Context, actor: Actor, lines) -> list[ImportedUser]:
    """Create users from CSV lines (username,display_name,department[,role][,email]).

    Each new account gets a random initial password, returned once to hand out. The whole file
    is checked first: one bad row and nothing is created.
    """
    rows = list(csv.DictReader(lines))
    missing = {"username", "display_name", "department"} - set(rows[0] if rows else {})
    if missing:
        raise InvalidInput(f"The CSV file needs the columns: {', '.join(sorted(missing))}.")
    created = []
    for number, row in enumerate(rows, start=2):
        try:
            department = departments.find_department(ctx, row["department"].strip())
            password = secrets.token_urlsafe(12)
            add_user(
                ctx,
                actor,
                row["username"],
                row["display_name"],
                department,
                role=UserRole(row.get("role") or UserRole.MEMBER),
                password=password,
                email=(row.get("email") or "").strip() or None,
            )
        except (InvalidInput, Conflict, NotFound, ValueError) as exc:
            raise InvalidInput(f"Line {number}: {exc}") from exc
        created.append(ImportedUser(check_username(row["username"]), password))
    return created


def _personal_slug(db, username: str) -> str:
    base = spaces.slug_from(f"home-{username}", "home-user")
    slug, n = base, 1
    while db.scalar(select(spaces.Space.id).where(spaces.Space.slug == slug)) is not None:
        n += 1
        slug = f"{base[:58]}-{n}"
    return slug


def list_manageable(ctx: Context, actor: Actor) -> list[User]:
    """Return the people the actor administers: everyone for a system administrator."""
    require_administrator(actor)
    return [
        user for user in list_users(ctx) if may_manage_department(ctx.db, actor, user.department_id)
    ]
