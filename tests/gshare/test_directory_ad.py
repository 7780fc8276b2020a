"""Active Directory as the ministry's directory: a real Samba AD domain controller
(tests/fixtures/samba_ad.py) with the [ldap] settings docs/identity.md gives for AD:
sAMAccountName, objectGUID, userAccountControl's ACCOUNTDISABLE bit and nested groups through
LDAP_MATCHING_RULE_IN_CHAIN."""

from __future__ import annotations

import uuid

import ldap3
import pytest
from sqlalchemy import select

from gshare.accounts import directory_people
from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import User, UserRole
from gshare.org import departments
from tests.fixtures.samba_ad import ADMIN_DN, ADMIN_PASSWORD, PEOPLE, PORT, STAFF

NORMAL, DISABLED = 0x200, 0x2  # userAccountControl: NORMAL_ACCOUNT, ACCOUNTDISABLE


@pytest.fixture
def config(db_url, tmp_path, samba_ad):
    settings = samba_ad.settings()
    settings["department_groups"] = tuple(settings["department_groups"])
    return Config().replace(
        database={"url": db_url}, server={"data_dir": str(tmp_path / "var")}, ldap=settings
    )


def _people(gs) -> dict:
    with gs.unit_of_work() as ctx:
        return {
            u.username: (departments.full_name(ctx, u.department), u.role, u.directory_id)
            for u in ctx.db.scalars(select(User))
        }


def test_sync_reads_active_directory_people_groups_and_disabled_accounts(gs):
    said = []
    with gs.unit_of_work() as ctx:
        report = directory_people.sync_directory(ctx, said.append)
    assert report.seen == 2, said  # vanh is disabled in AD (userAccountControl bit 2)
    found = _people(gs)
    assert set(found) == {"somsak", "noy"}
    assert found["somsak"][:2] == ("Finance", UserRole.MEMBER)
    # noy is in it-team, which is in gshare-admins: only the in-chain rule finds it
    assert found["noy"][:2] == ("Finance", UserRole.SYSTEM_ADMIN)
    assert uuid.UUID(found["somsak"][2])  # objectGUID, read as a GUID


def test_nested_groups_are_not_followed_when_turned_off(config, s3_store):
    flat = Gshare(config.replace(ldap={"nested_groups": False}), s3_store)
    with flat.unit_of_work() as ctx:
        directory_people.sync_directory(ctx, lambda line: None)
    assert _people(flat)["noy"][1] == UserRole.MEMBER  # it-team's admin right is not seen
    flat.engine.dispose()


def test_sign_in_with_an_active_directory_password(gs):
    password = PEOPLE["somsak"][2]
    with gs.unit_of_work() as ctx:
        assert directory_people.authenticate(ctx, "somsak", "not the password") is None
        assert directory_people.authenticate(ctx, "vanh", PEOPLE["vanh"][2]) is None  # disabled
        user = directory_people.authenticate(ctx, "somsak", password)
        assert user is not None and user.source == "ldap"
        assert user.display_name == "Somsak Phommachanh"


def _account_control(samba_ad, name: str, value: int) -> None:
    with ldap3.Connection(
        ldap3.Server("127.0.0.1", port=PORT), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True
    ) as conn:
        conn.search(STAFF, f"(sAMAccountName={name})")
        dn = conn.response[0]["dn"]
        conn.modify(dn, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [value])]})
        assert conn.result["result"] == 0, conn.result


def test_a_person_disabled_in_ad_is_disabled_and_enabled_again_when_ad_enables_them(gs, samba_ad):
    def sync() -> list[str]:
        said: list[str] = []
        with gs.unit_of_work() as ctx:
            directory_people.sync_directory(ctx, said.append)
        return said

    sync()
    _account_control(samba_ad, "somsak", NORMAL | DISABLED)
    try:
        assert "disable somsak: gone or disabled in the directory" in sync()
        assert _disabled(gs, "somsak") is True
    finally:
        _account_control(samba_ad, "somsak", NORMAL)
    assert "enable somsak: active in the directory again" in sync()
    assert _disabled(gs, "somsak") is False


def _disabled(gs, username: str) -> bool:
    with gs.unit_of_work() as ctx:
        return ctx.db.scalar(select(User.disabled).where(User.username == username))
