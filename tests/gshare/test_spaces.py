"""Project spaces: renamed and deleted by their manager only, deleted only when empty."""

import io

import pytest
from sqlalchemy import select

from gshare.accounts import access_keys
from gshare.core.actor import OPERATOR
from gshare.core.errors import InvalidInput, NameInvalid, PermissionDenied
from gshare.core.models import AccessKey, AuditEvent, Space
from gshare.files import content
from gshare.org import spaces
from gshare.sharing import grants


def _audit(ctx, action):
    return ctx.db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_rename_keeps_the_sync_name_and_is_audited(ctx, world):
    alice = world.user("alice")
    space = spaces.create_project_space(ctx, alice, "Roads", "roads-2026")
    spaces.rename_project_space(ctx, alice, space, "Bridges")
    assert (space.name, space.slug) == ("Bridges", "roads-2026")
    [event] = _audit(ctx, "space.rename")
    assert event.target == "roads-2026" and event.detail["new_name"] == "Bridges"
    with pytest.raises(NameInvalid):
        spaces.rename_project_space(ctx, alice, space, " ")


def test_only_the_manager_renames_or_deletes(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    space = spaces.create_project_space(ctx, alice, "Roads", "roads-2026")
    grants.grant_role(ctx, OPERATOR, spaces.root_of(ctx.db, space).id, "editor", user=bob)
    with pytest.raises(PermissionDenied):
        spaces.rename_project_space(ctx, bob, space, "Mine now")
    with pytest.raises(PermissionDenied):
        spaces.delete_project_space(ctx, bob, space)
    with pytest.raises(PermissionDenied):
        spaces.delete_project_space(ctx, alice, spaces.personal_space(ctx, alice))


def test_delete_an_empty_space_revokes_its_keys(ctx, world):
    alice = world.user("alice")
    space = spaces.create_project_space(ctx, alice, "Scratch", "scratch")
    key = access_keys.create_key(ctx, alice, alice, space=space).key
    space_id = space.id
    assert ctx.db.get(AccessKey, key.id).space_id == space_id
    spaces.delete_project_space(ctx, alice, space)
    assert ctx.db.get(Space, space_id) is None
    row = ctx.db.get(AccessKey, key.id)
    assert row.space_id is None and row.revoked_at is not None
    assert [e.target for e in _audit(ctx, "space.delete")] == ["scratch"]


def test_a_space_with_a_file_is_not_deleted(ctx, world):
    alice = world.user("alice")
    space = spaces.create_project_space(ctx, alice, "Busy", "busy")
    content.upload_file(ctx, alice, spaces.root_of(ctx.db, space), "a.txt", io.BytesIO(b"x"), 1)
    with pytest.raises(InvalidInput) as refused:
        spaces.delete_project_space(ctx, alice, space)
    assert refused.value.detail["reason"] == "not_empty"
    assert ctx.db.get(Space, space.id) is not None
