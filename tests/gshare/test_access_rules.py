"""The rules the access package holds besides roles on nodes, as tables: the scan gate, who
manages whom, and what an S3 access key may do. Each table is the spec; each test checks
every row, in Python and (for the gate) in SQL against the same rows."""

import pytest
from sqlalchemy import select

from gshare.access import accounts, gate, keys
from gshare.core.actor import OPERATOR
from gshare.core.errors import NotFound, PermissionDenied, Quarantined
from gshare.core.models import AccessKey, Node, ScanState, Space, UserRole, Version
from gshare.s3 import view

# state, released -> readable by others, quarantined
GATE = [
    (ScanState.PENDING, False, False, False),
    (ScanState.CLEAN, False, True, False),
    (ScanState.INFECTED, False, False, True),
    (ScanState.INFECTED, True, True, False),  # an administrator released it, with a reason
    (ScanState.BLOCKED, False, False, True),
    (ScanState.BLOCKED, True, True, False),
    (ScanState.UNSCANNABLE, False, False, False),
    (ScanState.UNSCANNABLE, True, True, False),  # the site's policy let it through
    (ScanState.ERROR, False, False, False),
]


@pytest.fixture
def versions(world):
    """One file per row of GATE, uploaded by alice, in a folder bob may read."""
    alice = world.user("alice")
    bob = world.user("bob")  # same department: an editor of the space
    root = world.department_root(alice.department)
    made = []
    for n, (state, released, _, _) in enumerate(GATE):
        version = world.upload(alice, root, f"f{n}.txt", clean=False)
        version.scan_state = state
        version.release_reason = "checked by hand" if released else None
        made.append(version)
    world.ctx.db.flush()
    return alice, bob, made


def test_the_gate_is_the_same_rule_in_python_and_in_sql(ctx, versions):
    _, _, made = versions
    readable_sql = set(ctx.db.scalars(select(Version.id).where(gate.readable_by_others())))
    quarantined_sql = set(ctx.db.scalars(select(Version.id).where(gate.is_quarantined())))
    for version, (state, released, readable, quarantined) in zip(made, GATE, strict=True):
        row = (state, released)
        assert bool(gate.readable_by_others(version)) is readable, row
        assert (version.id in readable_sql) is readable, row
        assert bool(gate.is_quarantined(version)) is quarantined, row
        assert (version.id in quarantined_sql) is quarantined, row


def test_a_file_exists_for_others_only_through_a_readable_version(ctx, versions):
    alice, bob, made = versions
    for version, (state, released, readable, quarantined) in zip(made, GATE, strict=True):
        node = version.node
        assert gate.current_version(ctx.db, alice, node) == version  # the uploader sees it
        assert gate.current_version(ctx.db, OPERATOR, node) == version
        assert gate.may_read_file(ctx.db, bob, node) is readable, (state, released)
        if readable:
            assert gate.readable_version(ctx.db, bob, node) == version
        else:
            with pytest.raises(NotFound):
                gate.readable_version(ctx.db, bob, node)
        if quarantined:  # its uploader learns why they cannot have it
            with pytest.raises(Quarantined):
                gate.readable_version(ctx.db, alice, node)


def test_the_gate_built_once_per_kind_of_reader_is_readable_by(ctx, world, versions):
    alice, bob, _ = versions
    for actor in (alice, bob, OPERATOR, None):
        expected = set(ctx.db.scalars(select(Version.id).where(gate.readable_by(actor))))
        built_once = gate.READABLE_BY_KIND[gate.reader_kind(actor)]
        found = ctx.db.scalars(select(Version.id).where(built_once), gate.reader_params(actor))
        assert set(found) == expected, actor
    assert len(expected) < len(set(ctx.db.scalars(select(Version.id))))  # the gate holds some back


def test_an_s3_listing_shows_each_person_the_newest_version_the_gate_lets_them_read(
    ctx, world, versions
):
    alice, bob, made = versions
    root = world.department_root(alice.department)
    newer = world.upload(alice, root, "f0.txt", b"newer", clean=False)  # pending: alice's only
    assert newer.node.id == made[0].node.id
    slug = ctx.db.get(Space, root.space_id).slug

    def listing(actor):
        return view.list_objects(ctx, actor, view.get_bucket(ctx, actor, slug))

    for actor in (alice, bob, OPERATOR):
        listed = {(o.node.id, o.version.id if o.version else None) for o in listing(actor)}
        below = ctx.db.scalars(select(Node).where(Node.path.startswith(root.child_path)))
        newest = {n: None if n.is_folder else gate.current_version(ctx.db, actor, n) for n in below}
        expected = {(n.id, v.id if v else None) for n, v in newest.items() if n.is_folder or v}
        assert listed == expected, actor
    seen_by_bob = {o.key: o.version.id for o in listing(bob)}
    assert seen_by_bob["f1.txt"] == made[1].id  # clean: bob sees it
    assert "f0.txt" not in seen_by_bob  # pending, alice's, in both versions
    seen_by_alice = {o.key: o.version.id for o in listing(alice)}
    assert seen_by_alice["f0.txt"] == newer.id


def test_the_uploader_sees_the_state_others_only_a_policy_pass(ctx, versions):
    alice, bob, made = versions
    for version, (state, released, _, _) in zip(made, GATE, strict=True):
        if state == ScanState.UNSCANNABLE and released:
            version.released_by = None  # the policy, not a person
            expected_alice = expected_bob = "allowed"
        else:
            expected_alice, expected_bob = str(state), None
        assert gate.shown_scan_state(alice, version) == expected_alice
        assert gate.shown_scan_state(bob, version) == expected_bob


# actor -> manages people of D, of its division S, of X; manages a system admin of D;
# is an administrator; is a system administrator
MANAGERS = {
    "operator": (True, True, True, True, True, True),
    "sysadmin": (True, True, True, True, True, True),
    "d_admin": (True, True, False, False, True, False),
    "s_admin": (False, True, False, False, True, False),
    "d_member": (False, False, False, False, False, False),
    "d_admin_disabled": (False, False, False, False, False, False),
    "anonymous": (False, False, False, False, False, False),
}


@pytest.fixture
def org(world):
    d = world.department("D")
    s = world.department("S", d)
    x = world.department("X")
    people = {
        "operator": OPERATOR,
        "sysadmin": world.user("sysadmin", x, UserRole.SYSTEM_ADMIN),
        "d_admin": world.user("d_admin", d, UserRole.DEPARTMENT_ADMIN),
        "s_admin": world.user("s_admin", s, UserRole.DEPARTMENT_ADMIN),
        "d_member": world.user("d_member", d),
        "d_admin_disabled": world.user("d_admin_disabled", d, UserRole.DEPARTMENT_ADMIN),
        "anonymous": None,
    }
    people["d_admin_disabled"].disabled = True
    return people, d, s, x


@pytest.mark.parametrize("name", MANAGERS)
def test_who_manages_whom(ctx, org, name):
    people, d, s, x = org
    actor = people[name]
    of_d, of_s, of_x, sysadmin_of_d, admin, system = MANAGERS[name]
    member = UserRole.MEMBER
    assert accounts.may_manage_person(ctx.db, actor, d.id, member) is of_d
    assert accounts.may_manage_person(ctx.db, actor, s.id, member) is of_s
    assert accounts.may_manage_person(ctx.db, actor, x.id, member) is of_x
    assert accounts.may_manage_person(ctx.db, actor, d.id, UserRole.SYSTEM_ADMIN) is sysadmin_of_d
    assert accounts.is_administrator(actor) is admin
    assert accounts.is_system_admin(actor) is system
    if of_d:
        accounts.require_manager_of(ctx.db, actor, d.id, member)
    else:
        with pytest.raises(PermissionDenied):
            accounts.require_manager_of(ctx.db, actor, d.id, member)


def test_keys_are_managed_by_their_owner_and_system_admins(org):
    people, *_ = org
    owner = people["d_member"]
    assert accounts.may_manage_keys_of(owner, owner.id)
    assert accounts.may_manage_keys_of(people["sysadmin"], owner.id)
    assert accounts.may_manage_keys_of(OPERATOR, owner.id)
    assert not accounts.may_manage_keys_of(people["d_admin"], owner.id)
    assert not accounts.may_manage_keys_of(None, owner.id)


# key: read_only, limited to space 7 -> reaches 7, reaches 8, writes, creates spaces
KEYS = [
    (False, None, True, True, True, True),
    (True, None, True, True, False, False),
    (False, 7, True, False, True, False),
    (True, 7, True, False, False, False),
]


@pytest.mark.parametrize("row", KEYS)
def test_what_an_access_key_may_do(row):
    read_only, space_id, reaches_7, reaches_8, writes, creates = row
    key = AccessKey(read_only=read_only, space_id=space_id)
    assert keys.key_allows_space(key, 7) is reaches_7
    assert keys.key_allows_space(key, 8) is reaches_8
    assert keys.key_allows_writes(key) is writes
    assert keys.key_may_create_spaces(key) is creates
