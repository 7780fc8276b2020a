"""Who manages whom: system administrators, department administrators and the people and
departments below them, and who manages a person's keys and tokens.

A system administrator manages every account, department, space quota and the quarantine, but
has no implicit access to files (permissions.py). A department administrator manages the people
of their department and the departments below it, and never a system administrator. The
operator at the command line may do all of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gshare.access.permissions import administers_department
from gshare.core.actor import Actor
from gshare.core.errors import PermissionDenied
from gshare.core.models import UserRole


def is_system_admin(actor: Actor | None) -> bool:
    """Tell whether the actor is the operator or an enabled system administrator."""
    if actor is None or actor.disabled:
        return False
    return actor.is_operator or actor.role == UserRole.SYSTEM_ADMIN


def is_administrator(actor: Actor | None) -> bool:
    """Tell whether the actor administers anything: people, departments or the site."""
    if actor is None or actor.disabled:
        return False
    return is_system_admin(actor) or actor.role == UserRole.DEPARTMENT_ADMIN


def require_system_admin(actor: Actor | None) -> None:
    """Raise PermissionDenied unless the actor is a system administrator (or the operator)."""
    if not is_system_admin(actor):
        raise PermissionDenied("Only a system administrator may do this.")


def require_administrator(actor: Actor | None) -> None:
    """Raise PermissionDenied unless the actor administers people or the site."""
    if not is_administrator(actor):
        raise PermissionDenied("Only administrators may do this.")


def may_manage_department(db: Session, actor: Actor | None, department_id: int) -> bool:
    """Return whether the actor administers the people of this department."""
    if actor is None or actor.disabled:
        return False
    return is_system_admin(actor) or administers_department(db, actor, department_id)


def may_manage_person(db: Session, actor: Actor | None, department_id: int, role: str) -> bool:
    """Return whether the actor manages a person of this department and role (a system
    administrator only by another)."""
    if role == UserRole.SYSTEM_ADMIN and not is_system_admin(actor):
        return False
    return may_manage_department(db, actor, department_id)


def require_manager_of(db: Session, actor: Actor | None, department_id: int, role: str) -> None:
    """Raise PermissionDenied unless the actor manages a person of this department and role."""
    if not may_manage_department(db, actor, department_id):
        raise PermissionDenied("You do not administer this department.")
    if not may_manage_person(db, actor, department_id, role):
        raise PermissionDenied("Only a system administrator may manage system administrators.")


def may_manage_keys_of(actor: Actor | None, user_id: int) -> bool:
    """Tell whether the actor manages this person's S3 keys and API tokens: themselves, a
    system administrator, or the operator."""
    if actor is None or actor.disabled:
        return False
    return actor.id == user_id or is_system_admin(actor)


def require_keys_manager(actor: Actor | None, user_id: int) -> None:
    """Raise PermissionDenied unless the actor manages this person's keys."""
    if not may_manage_keys_of(actor, user_id):
        raise PermissionDenied("Only the person themselves or an administrator manages keys.")
