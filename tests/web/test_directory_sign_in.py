"""Signing in with the ministry's directory (a real slapd, tests/fixtures/ldap.py): the account
made on first sign-in, TLS, a directory that is down, and names that must sign nobody in."""

import ldap3
import pytest
from sqlalchemy import select

from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.models import AuditEvent, User, UserRole
from gshare.org import departments, users
from tests.fixtures.ldap import PEOPLE, password_of, person, person_dn
from tests.web.conftest import post, sign_in

EN = {"Accept-Language": "en"}
DOWN = "directory cannot be reached right now"


@pytest.fixture
def ldap_settings(request, directory):
    """[ldap] for the fixture's directory; a test changes some with indirect parametrize
    (a callable value is given the directory)."""
    changes = getattr(request, "param", {})
    return directory.settings(
        **{key: value(directory) if callable(value) else value for key, value in changes.items()}
    )


LDAPS = {"url": lambda d: d.ldaps_url, "start_tls": False}
OTHER_CA = {"ca_file": lambda d: str(d.other_ca_file)}


@pytest.fixture
def config(db_url, tmp_path, ldap_settings):
    return Config().replace(
        database={"url": db_url}, server={"data_dir": str(tmp_path / "var")}, ldap=ldap_settings
    )


@pytest.fixture
def client(app):
    web = app.test_client()
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def account(gs, username):
    with gs.unit_of_work() as ctx:
        user = ctx.db.scalar(select(User).where(User.username == username))
        if user is None:
            return None
        where = departments.full_name(ctx, user.department)
        return {"user": user, "department": where}


def audit_actions(gs):
    with gs.unit_of_work() as ctx:
        return [(e.action, e.target, e.detail) for e in ctx.db.scalars(select(AuditEvent))]


def test_first_directory_sign_in_creates_the_account_in_its_department(client, gs):
    assert account(gs, "noy") is None
    response = sign_in(client, "noy", password_of("noy"))
    assert response.status_code == 302
    assert "Welcome, ນ້ອຍ ສີສະຫວາດ" in client.get("/").get_data(as_text=True)
    made = account(gs, "noy")
    assert made["department"] == "MTC / Finance / Vientiane"
    assert made["user"].source == "ldap"
    assert made["user"].password_hash is None  # the password stays in the directory
    assert made["user"].role == UserRole.MEMBER
    actions = [action for action, _target, _detail in audit_actions(gs)]
    assert "directory.user_add" in actions and "login" in actions


def test_signing_in_again_brings_a_directory_move(directory, client, gs):
    assert sign_in(client, "somsak", password_of("somsak")).status_code == 302
    assert account(gs, "somsak")["department"] == "MTC / Finance"
    with directory.admin() as conn:
        conn.modify_dn(
            person_dn("somsak", "Finance"), "uid=somsak", new_superior=f"ou=Planning,{PEOPLE}"
        )
    post(client, "/logout")
    assert sign_in(client, "somsak", password_of("somsak")).status_code == 302
    assert account(gs, "somsak")["department"] == "MTC / Planning"


def test_directory_groups_give_administrator_roles(client, gs):
    assert sign_in(client, "kham", password_of("kham")).status_code == 302
    assert sign_in(client, "somsak", password_of("somsak")).status_code == 302
    assert account(gs, "kham")["user"].role == UserRole.SYSTEM_ADMIN
    assert account(gs, "somsak")["user"].role == UserRole.DEPARTMENT_ADMIN


@pytest.mark.parametrize(
    "username,password",
    [
        ("somsak", "not the directory password"),
        ("nobody", "nobody-directory-pw"),
        ("somsak", ""),
        ("vanh", password_of("vanh")),  # disabled in the directory
        ("*)(uid=*", password_of("somsak")),  # LDAP injection
        ("*", password_of("somsak")),
        ("somsak)(|(uid=*", password_of("somsak")),
    ],
)
def test_wrong_names_and_passwords_sign_nobody_in(client, gs, username, password):
    response = sign_in(client, username, password)
    assert response.status_code == 401
    assert "The username or password is not right." in response.get_data(as_text=True)
    assert client.get("/my").status_code == 302
    with gs.unit_of_work() as ctx:
        assert ctx.db.scalars(select(User.username)).all() == []


def test_wrong_directory_passwords_still_lock_the_account(client):
    assert sign_in(client, "somsak", password_of("somsak")).status_code == 302
    post(client, "/logout")
    for n in range(5):
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        sign_in(client, "somsak", "a wrong password")
    client.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    response = sign_in(client, "somsak", password_of("somsak"))
    assert response.status_code == 401
    assert "locked" in response.get_data(as_text=True)


@pytest.mark.parametrize("ldap_settings", [{}, LDAPS], ids=["starttls", "ldaps"], indirect=True)
def test_tls_with_the_directory_ca_signs_in(client, ldap_settings):
    assert ldap_settings["start_tls"] or ldap_settings["url"].startswith("ldaps://")
    assert sign_in(client, "somsak", password_of("somsak")).status_code == 302


@pytest.mark.parametrize(
    "ldap_settings", [OTHER_CA, {**LDAPS, **OTHER_CA}], ids=["starttls", "ldaps"], indirect=True
)
def test_a_directory_certificate_from_another_ca_is_refused(client, gs, ldap_settings):
    response = sign_in(client, "somsak", password_of("somsak"))
    assert response.status_code == 401
    assert DOWN in response.get_data(as_text=True)
    reasons = [d["reason"] for a, _t, d in audit_actions(gs) if a == "login.directory_down"]
    assert len(reasons) == 1 and "certificate" in reasons[0]
    assert account(gs, "somsak") is None


def test_directory_down_says_so_and_the_break_glass_admin_still_signs_in(directory, site, client):
    site.user("root", department="MTC", role=UserRole.SYSTEM_ADMIN)
    directory.stop()
    page = sign_in(client, "somsak", password_of("somsak"))
    assert page.status_code == 401
    assert DOWN in page.get_data(as_text=True)
    assert sign_in(client, "root").status_code == 302
    assert "Welcome, Root" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("ldap_settings", [{"bind_password": "wrong!"}], indirect=True)
def test_wrong_service_password_says_the_directory_is_unusable(client, gs, ldap_settings):
    response = sign_in(client, "somsak", password_of("somsak"))
    assert DOWN in response.get_data(as_text=True)
    reasons = [d["reason"] for a, _t, d in audit_actions(gs) if a == "login.directory_down"]
    assert reasons == [
        "The directory refused gshare's service account: check [ldap] bind_dn and bind_password."
    ]


def test_a_name_matching_two_entries_is_refused_and_logged(directory, client, gs, caplog):
    directory.add(person("somsak", "Somsak Another", "ICT"))
    response = sign_in(client, "somsak", password_of("somsak"))
    assert response.status_code == 401
    assert "cannot be used with G-Share" in response.get_data(as_text=True)
    assert account(gs, "somsak") is None
    refused = [d["reason"] for a, t, d in audit_actions(gs) if a == "login.directory_refused"]
    assert refused == ["The user name 'somsak' matches 2 entries."]
    assert "matches 2 entries" in caplog.text


def test_lao_page_says_the_directory_is_down(directory, client):
    directory.stop()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "lo"
    page = sign_in(client, "somsak", password_of("somsak")).get_data(as_text=True)
    assert DOWN not in page
    assert "ໄດເຣັກທໍຣີ" in page  # "directory", in Lao script


def _employee_type(directory, dn: str, disabled: bool) -> None:
    with directory.admin() as conn:
        change = (ldap3.MODIFY_ADD, ["disabled"]) if disabled else (ldap3.MODIFY_DELETE, [])
        conn.modify(dn, {"employeeType": [change]})


def test_a_person_active_again_in_the_directory_signs_in_again(directory, app, gs):
    somsak = person_dn("somsak", "Finance")
    first = app.test_client()
    assert sign_in(first, "somsak", password_of("somsak")).status_code == 302
    _employee_type(directory, somsak, True)
    refused = app.test_client()
    assert sign_in(refused, "somsak", password_of("somsak")).status_code == 401
    assert account(gs, "somsak")["user"].disabled is True  # disabled by the sign-in
    assert first.get("/account").status_code == 302  # and its sessions ended
    _employee_type(directory, somsak, False)
    back = app.test_client()
    assert sign_in(back, "somsak", password_of("somsak")).status_code == 302
    assert account(gs, "somsak")["user"].disabled is False
    assert ("directory.enable", "somsak") in [(a, t) for a, t, _d in audit_actions(gs)]


def test_a_person_an_administrator_disabled_does_not_sign_in_though_active_there(app, gs):
    web = app.test_client()
    assert sign_in(web, "somsak", password_of("somsak")).status_code == 302
    with gs.unit_of_work() as ctx:
        user = ctx.db.scalar(select(User).where(User.username == "somsak"))
        users.set_disabled(ctx, OPERATOR, user, True)
    again = app.test_client()
    assert sign_in(again, "somsak", password_of("somsak")).status_code == 401
    assert account(gs, "somsak")["user"].disabled is True
