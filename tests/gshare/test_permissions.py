"""Who may do what, as a table: the spec of gshare's permission engine.

The tree: ministry M > department D > division S; ministry P > department P1 > division P1a;
unrelated X.
In D's space: root / a / b / c. Grants sit on `a`. Each row says, for one person, which role
they end up with at each depth; the test checks every action against that role.
"""

import pytest
from sqlalchemy import event

from gshare.access import visibility
from gshare.access.permissions import (
    ALLOWED,
    CHAIN_CACHE,
    Action,
    Role,
    department_chain,
    require,
)
from gshare.access.visibility import space_view, visible_spaces
from gshare.core.actor import OPERATOR
from gshare.core.errors import NotFound, PermissionDenied
from gshare.core.models import Space, UserRole
from gshare.sharing import grants

V, E, M, U = Role.VIEWER, Role.EDITOR, Role.MANAGER, Role.UPLOADER
DEPTHS = ("root", "a", "b", "c")

EXPECTED = {
    # person: role at root, a, b, c  (None: the folder does not exist for them)
    "d_member": (E, E, E, E),  # member of the space's department
    "d_admin": (M, M, M, M),  # administrator of the department
    "m_admin": (M, M, M, M),  # administrator of the ministry above it
    "m_member": (None,) * 4,  # member of the ministry above: nothing implicit
    "s_member": (None, E, E, E),  # division S was granted editor on a (no sub-departments)
    "s2_member": (None,) * 4,  # division S2 under S: S's grant did not include subs
    "x_member": (None,) * 4,  # unrelated department
    "x_sysadmin": (None,) * 4,  # system admins read files only through grants
    "d_disabled": (None,) * 4,  # disabled account: nothing at all
    "u_viewer": (None, V, V, V),  # person granted viewer on a
    "u_editor": (None, E, E, E),
    "u_manager": (None, M, M, M),
    "u_uploader": (None, U, U, U),
    "p_member": (None, V, V, V),  # ministry P granted viewer on a, with sub-departments
    "p1_member": (None, V, V, V),  # member of P1, under P
    "p1a_member": (None, V, V, V),  # member of P1a, under P1, under P (found in one query)
}


@pytest.fixture
def tree(world):
    w = world
    m = w.department("Ministry M")
    d = w.department("Department D", m)
    s = w.department("Division S", d)
    s2 = w.department("Section S2", s)
    p = w.department("Ministry P")
    p1 = w.department("Department P1", p)
    p1a = w.department("Division P1a", p1)
    x = w.department("Unrelated X")
    people = {
        "d_member": w.user("d_member", d),
        "d_admin": w.user("d_admin", d, UserRole.DEPARTMENT_ADMIN),
        "m_admin": w.user("m_admin", m, UserRole.DEPARTMENT_ADMIN),
        "m_member": w.user("m_member", m),
        "s_member": w.user("s_member", s),
        "s2_member": w.user("s2_member", s2),
        "x_member": w.user("x_member", x),
        "x_sysadmin": w.user("x_sysadmin", x, UserRole.SYSTEM_ADMIN),
        "d_disabled": w.user("d_disabled", d),
        "u_viewer": w.user("u_viewer", x),
        "u_editor": w.user("u_editor", x),
        "u_manager": w.user("u_manager", x),
        "u_uploader": w.user("u_uploader", x),
        "p_member": w.user("p_member", p),
        "p1_member": w.user("p1_member", p1),
        "p1a_member": w.user("p1a_member", p1a),
    }
    people["d_disabled"].disabled = True
    root = w.department_root(d)
    a = w.folder(root, "a")
    b = w.folder(a, "b")
    c = w.folder(b, "c")
    ctx = w.ctx
    for name, role in (("u_viewer", V), ("u_editor", E), ("u_manager", M), ("u_uploader", U)):
        grants.grant_role(ctx, OPERATOR, a.id, role, user=people[name])
    grants.grant_role(ctx, OPERATOR, a.id, E, department=s)
    grants.grant_role(ctx, OPERATOR, a.id, V, department=p, include_subdepartments=True)
    return people, dict(zip(DEPTHS, (root, a, b, c), strict=True))


@pytest.mark.parametrize("person", EXPECTED)
def test_each_person_can_do_exactly_what_their_role_allows(ctx, tree, person):
    people, nodes = tree
    mismatches = []
    for depth, role in zip(DEPTHS, EXPECTED[person], strict=True):
        for action in Action:
            outcome = _outcome(ctx, people[person], action, nodes[depth])
            expected = (
                "not found" if role is None else "allowed" if action in ALLOWED[role] else "denied"
            )
            if outcome != expected:
                mismatches.append(f"{depth}/{action}: {outcome}, expected {expected}")
    assert mismatches == []


def test_grants_only_add_a_viewer_grant_does_not_lower_an_editor(ctx, world, tree):
    people, nodes = tree
    grants.grant_role(ctx, OPERATOR, nodes["b"].id, V, user=people["u_editor"])
    assert require(ctx.db, people["u_editor"], Action.EDIT, nodes["c"]) == E


def test_revoked_grant_makes_the_folder_disappear(ctx, tree):
    people, nodes = tree
    access = grants.list_access(ctx, OPERATOR, nodes["b"].id)
    viewer_grant = next(a.grant for a in access if a.grant.user_id == people["u_viewer"].id)
    assert access[0].inherited_from is not None
    assert require(ctx.db, people["u_viewer"], Action.SEE, nodes["b"]) == V
    grants.revoke_grant(ctx, OPERATOR, viewer_grant.id)
    with pytest.raises(NotFound):
        require(ctx.db, people["u_viewer"], Action.SEE, nodes["b"])


def test_personal_space_belongs_to_its_owner_alone(ctx, world):
    alice, bob = world.user("alice"), world.user("bob")
    admin = world.user("root", role=UserRole.SYSTEM_ADMIN)
    home = world.home(alice)
    assert require(ctx.db, alice, Action.SHARE, home) == M
    for other in (bob, admin):
        with pytest.raises(NotFound):
            require(ctx.db, other, Action.SEE, home)


def test_shared_with_me_lists_person_and_department_grants(ctx, tree):
    people, nodes = tree
    shared = visibility.shared_with(ctx, people["p1_member"])
    assert [node.name for node, _ in shared] == ["a"]
    assert visibility.shared_with(ctx, people["x_member"]) == []


def test_other_department_sees_the_shared_folder_and_the_folders_above_only_as_ways_in(
    ctx, world, tree
):
    people, nodes = tree
    stranger = people["x_member"]
    aside = world.folder(nodes["a"], "aside")  # beside the shared folder: not theirs
    grants.grant_role(ctx, OPERATOR, nodes["b"].id, V, user=stranger)
    space = ctx.db.get(Space, nodes["b"].space_id)

    view = space_view(ctx, stranger, space)
    assert (view.role, view.whole) == (None, False)
    assert view.shared == {nodes["b"].id}
    assert view.traverse == {nodes["root"].id, nodes["a"].id}
    everything = {**nodes, "aside": aside}
    assert [name for name, node in everything.items() if view.sees(node)] == ["b", "c"]
    assert space.id in {v.space.id for v in visible_spaces(ctx, stranger)}
    assert space_view(ctx, people["s2_member"], space) is None
    assert space.id not in {v.space.id for v in visible_spaces(ctx, people["s2_member"])}


def _outcome(ctx, actor, action, node) -> str:
    try:
        require(ctx.db, actor, action, node)
    except NotFound:
        return "not found"
    except PermissionDenied:
        return "denied"
    return "allowed"


def test_a_sections_department_chain_reaches_its_ministry_in_one_query(ctx, world):
    ministry = world.department("Ministry M")
    department = world.department("Department D", ministry)
    division = world.department("Division S", department)
    section = world.department("Section S2", division)
    ctx.db.flush()  # the departments' audit events: not the chain's statements
    ctx.db.info.pop(CHAIN_CACHE, None)
    statements = []
    listen = (ctx.db.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    event.listen(*listen)
    try:
        chain = department_chain(ctx.db, section.id)
    finally:
        event.remove(*listen)
    assert chain == [section.id, division.id, department.id, ministry.id]
    assert len(statements) == 1
    assert department_chain(ctx.db, ministry.id) == [ministry.id]
