"""Access keys: created with a secret shown once, stored encrypted, limited, revoked."""

import pytest

from gshare.accounts import access_keys
from gshare.core import crypto
from gshare.core.actor import OPERATOR
from gshare.core.config import ConfigError
from gshare.core.errors import NotFound, PermissionDenied
from gshare.core.models import AccessKey


def test_secret_is_stored_encrypted_and_found_again(ctx, world):
    alice = world.user("alice")
    new = access_keys.create_key(ctx, alice, alice, "laptop")
    row = ctx.db.get(AccessKey, new.key.id)
    assert new.secret not in row.secret_encrypted
    holder = access_keys.find_holder(ctx.db, ctx.config, new.key.key_id)
    assert holder.secret == new.secret and holder.user.id == alice.id


def test_revoked_key_and_disabled_owner_are_not_found(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    first = access_keys.create_key(ctx, alice, alice)
    second = access_keys.create_key(ctx, OPERATOR, bob)
    for new in (first, second):
        assert access_keys.find_holder(ctx.db, ctx.config, new.key.key_id).secret == new.secret
    access_keys.revoke_key(ctx, alice, first.key.key_id)
    bob.disabled = True
    ctx.db.flush()
    assert access_keys.find_holder(ctx.db, ctx.config, first.key.key_id) is None
    assert access_keys.find_holder(ctx.db, ctx.config, second.key.key_id) is None


def test_key_under_another_server_secret_cannot_be_used(ctx, world):
    alice = world.user("alice")
    new = access_keys.create_key(ctx, alice, alice)
    other = ctx.config.replace(server={"secret_key": NEW_SECRET})
    assert access_keys.find_holder(ctx.db, ctx.config, new.key.key_id).secret == new.secret
    assert access_keys.find_holder(ctx.db, other, new.key.key_id) is None


NEW_SECRET = "Rotated-2027-kQ9vX3mP7tL2wZ8rN5bH1cJ6dF4gS0aY"


def test_the_server_secret_rotates_with_a_key_ring_and_keys_keep_working(ctx, world):
    alice = world.user("alice")
    new = access_keys.create_key(ctx, alice, alice)
    old = crypto.secret_key(ctx.config)
    rotating = ctx.config.replace(server={"secret_key": NEW_SECRET, "old_secret_keys": (old,)})
    rotated = rotating.replace(server={"old_secret_keys": ()})
    assert access_keys.find_holder(ctx.db, rotating, new.key.key_id).secret == new.secret
    assert access_keys.find_holder(ctx.db, rotated, new.key.key_id) is None  # not yet moved
    ctx.config = rotating
    assert access_keys.reencrypt_secrets(ctx) == 1
    assert access_keys.reencrypt_secrets(ctx) == 0  # all under the new secret now
    ctx.db.flush()
    assert access_keys.find_holder(ctx.db, rotated, new.key.key_id).secret == new.secret


@pytest.mark.parametrize("weak", ["abc", "a different server secret", "x" * 64])
def test_a_guessable_server_secret_is_refused(ctx, weak):
    with pytest.raises(ConfigError, match="secret_key' is too weak"):
        ctx.config.replace(server={"secret_key": weak})


def test_people_manage_only_their_own_keys(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    new = access_keys.create_key(ctx, alice, alice)
    with pytest.raises(PermissionDenied):
        access_keys.create_key(ctx, bob, alice)
    with pytest.raises(NotFound):
        access_keys.revoke_key(ctx, bob, new.key.key_id)
    assert access_keys.list_keys(ctx, bob, bob) == []
    assert [k.key_id for k in access_keys.list_keys(ctx, alice, alice)] == [new.key.key_id]
    access_keys.label_key(ctx, alice, new.key.key_id, "desktop")
    assert access_keys.get_key(ctx, alice, new.key.key_id).label == "desktop"


def test_operator_creates_lists_and_revokes_keys(gshare, gs):
    run = gshare

    run("department", "add", "Finance", "--slug", "finance")
    run(
        "user",
        "add",
        "somsak",
        "--name",
        "Somsak",
        "--department",
        "finance",
        "--password-stdin",
        stdin="a long passphrase\n",
    )
    code, out = run(
        "key", "create", "somsak", "--label", "backup", "--read-only", "--space", "finance"
    )
    assert code == 0, out
    key_id = out.split("access key id:")[1].split()[0]
    code, out = run("key", "list", "somsak")
    assert f"{key_id}\tsomsak\tread-only\tfinance\tactive\tnever used\tbackup" in out
    assert run("key", "revoke", key_id)[0] == 0
    assert key_id not in run("key", "list")[1]
    assert "revoked" in run("key", "list", "--revoked")[1]
