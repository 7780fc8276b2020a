"""`gshare directory sync` against a real slapd (tests/fixtures/ldap.py): people created in their
departments, moved, given roles and disabled (their sessions, tokens and keys end with them);
a dry run and a directory that is down change nothing."""

import json

import ldap3
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gshare.accounts import access_keys, api_tokens, sessions
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.models import AccessKey, AuditEvent, Department, User, UserRole
from gshare.org import departments, users
from tests.fixtures.ldap import GROUPS, PEOPLE, group_dn, person_dn
from web.cli import main


@pytest.fixture
def ldap_settings(directory):
    return directory.settings()


@pytest.fixture
def config(db_url, tmp_path, ldap_settings):
    return Config().replace(
        database={"url": db_url}, server={"data_dir": str(tmp_path / "var")}, ldap=ldap_settings
    )


@pytest.fixture
def sync(config, tmp_path):
    """Run `gshare directory sync ARGS` with [ldap] settings (the fixture's, changed by
    keyword); return (exit code, output)."""

    def run(*args, **changes):
        settings = {**dict(_ldap_of(config)), **changes}
        lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
        path = tmp_path / "config.toml"
        path.write_text(
            f'[server]\ndata_dir = "{config.server.data_dir}"\n'
            f'[database]\nurl = "{config.database.url}"\n[ldap]\n{lines}'
        )
        result = CliRunner().invoke(main, ["--config", str(path), "directory", "sync", *args])
        return result.exit_code, result.output

    return run


def _ldap_of(config):
    defaults = Config().ldap
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in vars(config.ldap).items()
        if value != getattr(defaults, key)
    }


def people(gs):
    """Return {username: (department, role, disabled)} of everyone in gshare."""
    with gs.unit_of_work() as ctx:
        return {
            user.username: (
                departments.full_name(ctx, user.department),
                user.role,
                user.disabled,
            )
            for user in ctx.db.scalars(select(User))
        }


def actions(gs):
    with gs.unit_of_work() as ctx:
        return [(e.action, e.target) for e in ctx.db.scalars(select(AuditEvent))]


def test_sync_creates_the_directory_people_in_their_departments(sync, gs):
    code, output = sync()
    assert code == 0, output
    assert "create noy in MTC / Finance / Vientiane" in output
    assert people(gs) == {
        "somsak": ("MTC / Finance", UserRole.DEPARTMENT_ADMIN, False),
        "noy": ("MTC / Finance / Vientiane", UserRole.MEMBER, False),
        "kham": ("MTC / Planning", UserRole.SYSTEM_ADMIN, False),
    }  # vanh is disabled in the directory: no account
    assert "3 people in the directory: 3 created" in output
    assert ("directory.user_add", "noy") in actions(gs)
    code, again = sync()  # a second run changes nothing
    assert code == 0
    assert "0 created, 0 moved, 0 roles changed, 0 disabled, 0 enabled again, 0 skipped" in again


def test_dry_run_prints_the_changes_and_changes_nothing(sync, gs):
    code, output = sync("--dry-run")
    assert code == 0, output
    assert "would create somsak in MTC / Finance" in output
    assert "dry run, nothing changed: 3 people in the directory: 3 created" in output
    assert people(gs) == {}
    assert actions(gs) == []


def test_sync_moves_people_and_changes_roles(directory, sync, gs):
    sync()
    with directory.admin() as conn:
        conn.modify_dn(
            person_dn("somsak", "Finance"), "uid=somsak", new_superior=f"ou=Planning,{PEOPLE}"
        )
        conn.modify(
            group_dn("gshare-department-admins"),
            {"member": [(ldap3.MODIFY_REPLACE, [person_dn("noy", "Vientiane", "Finance")])]},
        )
    code, output = sync()
    assert code == 0, output
    assert "move somsak: MTC / Finance -> MTC / Planning" in output
    assert "role noy: member -> department_admin" in output
    assert people(gs)["somsak"] == ("MTC / Planning", UserRole.MEMBER, False)
    assert people(gs)["noy"][1] == UserRole.DEPARTMENT_ADMIN
    assert ("directory.move", "somsak") in actions(gs)
    assert ("directory.role", "noy") in actions(gs)


def test_people_gone_or_disabled_in_the_directory_are_disabled_with_their_keys(directory, sync, gs):
    sync()
    with gs.unit_of_work() as ctx:
        somsak = ctx.db.scalar(select(User).where(User.username == "somsak"))
        token = sessions.start_session(ctx, somsak).token
        _row, api_token = api_tokens.create_token(ctx, somsak, "laptop")
        key_id = access_keys.create_key(ctx, OPERATOR, somsak).key.key_id
    with gs.unit_of_work() as ctx:  # presence first
        assert sessions.find_session(ctx, token) is not None
        assert api_tokens.authenticate_token(ctx, api_token) is not None
        assert access_keys.find_holder(ctx.db, ctx.config, key_id) is not None
    with directory.admin() as conn:
        conn.modify(
            person_dn("somsak", "Finance"), {"employeeType": [(ldap3.MODIFY_ADD, ["disabled"])]}
        )
        conn.delete(person_dn("kham", "Planning"))
    code, output = sync()
    assert code == 0, output
    assert "disable somsak: gone or disabled in the directory" in output
    assert "disable kham: gone or disabled in the directory" in output
    assert people(gs)["somsak"][2] is True and people(gs)["kham"][2] is True
    assert people(gs)["noy"][2] is False
    with gs.unit_of_work() as ctx:
        assert sessions.find_session(ctx, token) is None
        assert api_tokens.authenticate_token(ctx, api_token) is None
        assert access_keys.find_holder(ctx.db, ctx.config, key_id) is None
        assert ctx.db.scalar(select(AccessKey.revoked_at).where(AccessKey.key_id == key_id))
        assert ctx.db.scalar(select(User).where(User.username == "somsak")) is not None
    assert ("directory.disable", "somsak") in actions(gs)


def test_directory_down_exits_non_zero_and_changes_nothing(directory, sync, gs):
    sync()
    with directory.admin() as conn:
        conn.delete(person_dn("kham", "Planning"))
    directory.stop()
    before = people(gs)
    code, output = sync()
    assert code == 1
    assert "error: The directory at ldap://127.0.0.1:" in output
    assert "cannot be reached" in output
    assert people(gs) == before
    assert before["kham"][2] is False


def test_wrong_bind_password_is_a_clear_error(sync, gs):
    code, output = sync(bind_password="not the service password")
    assert code == 1
    assert "refused gshare's service account: check [ldap] bind_dn and bind_password" in output
    assert people(gs) == {}


def test_a_base_listing_nobody_disables_nobody(sync, gs):
    sync()
    code, output = sync(user_base=GROUPS)
    assert code == 1
    assert "lists nobody" in output
    assert all(not disabled for _d, _r, disabled in people(gs).values())


GROUP_MAPPING = {
    "department_from": "group",
    "department_groups": [
        f"{group_dn('finance-staff')} = MTC / Finance",
        f"{group_dn('tax-staff')} = MTC / Tax",
    ],
}


def test_a_group_naming_no_department_is_skipped_with_a_clear_error(world, ctx, sync, gs):
    world.department("Finance", world.department("MTC"))
    ctx.db.commit()
    code, output = sync(create_departments=False, **GROUP_MAPPING)
    assert code == 1
    assert "create somsak in MTC / Finance" in output
    assert "names the department 'MTC / Tax', which gshare does not have" in output
    assert "kham" not in people(gs)


def test_a_group_mapping_creates_missing_departments_when_allowed(sync, gs):
    code, output = sync(**GROUP_MAPPING)
    assert code == 0, output
    assert "create kham in MTC / Tax" in output
    assert people(gs)["kham"][0] == "MTC / Tax"
    with gs.unit_of_work() as ctx:
        assert ctx.db.scalar(select(Department).where(Department.name == "Tax")) is not None


def test_a_name_held_by_a_local_account_is_not_taken_over(world, ctx, sync, gs):
    world.user("somsak", department="Local")
    ctx.db.commit()
    code, output = sync()
    assert code == 1
    assert "'somsak' is a local gshare account" in output
    assert people(gs)["somsak"][0] == "Local"


def _set_disabled_in_directory(directory, dn: str, disabled: bool) -> None:
    with directory.admin() as conn:
        change = (ldap3.MODIFY_ADD, ["disabled"]) if disabled else (ldap3.MODIFY_DELETE, [])
        conn.modify(dn, {"employeeType": [change]})


def test_a_person_active_again_in_the_directory_is_enabled_again(directory, sync, gs):
    sync()
    _set_disabled_in_directory(directory, person_dn("somsak", "Finance"), True)
    code, output = sync()
    assert "disable somsak" in output and people(gs)["somsak"][2] is True
    _set_disabled_in_directory(directory, person_dn("somsak", "Finance"), False)
    code, output = sync()
    assert code == 0, output
    assert "enable somsak: active in the directory again" in output
    assert "1 enabled again" in output
    assert people(gs)["somsak"][2] is False
    assert ("directory.enable", "somsak") in actions(gs)


def test_a_person_who_reappears_under_the_base_is_enabled_again(directory, sync, gs):
    sync()
    with directory.admin() as conn:  # moved out of ou=people, then back: the same entry
        conn.modify_dn(person_dn("kham", "Planning"), "uid=kham", new_superior=GROUPS)
    assert "disable kham: gone or disabled" in sync()[1]
    assert people(gs)["kham"][2] is True
    with directory.admin() as conn:
        conn.modify_dn(f"uid=kham,{GROUPS}", "uid=kham", new_superior=f"ou=Planning,{PEOPLE}")
    code, output = sync()
    assert "enable kham: active in the directory again" in output
    assert people(gs)["kham"][2] is False


def test_a_person_an_administrator_disabled_stays_disabled(directory, sync, gs):
    sync()
    _set_disabled_in_directory(directory, person_dn("somsak", "Finance"), True)
    sync()
    with gs.unit_of_work() as ctx:
        for name in ("noy", "somsak"):  # noy by hand while active; somsak by hand on top
            user = ctx.db.scalar(select(User).where(User.username == name))
            users.set_disabled(ctx, OPERATOR, user, True)
    _set_disabled_in_directory(directory, person_dn("somsak", "Finance"), False)
    code, output = sync()
    assert code == 0, output
    assert "enable" not in output.replace("enabled again", "")
    assert people(gs)["noy"][2] is True and people(gs)["somsak"][2] is True
