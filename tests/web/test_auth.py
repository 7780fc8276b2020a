"""Signing in and out, sessions that end, lockout, CSRF, language."""

from gshare.core.actor import OPERATOR
from gshare.core.models import AuditEvent
from gshare.org import users
from tests.web.conftest import csrf_token, post, sign_in


def test_sign_in_opens_my_start_page(site, client):
    site.user("somsak")
    response = sign_in(client, "somsak")
    assert response.status_code == 302
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "Welcome, Somsak" in page.get_data(as_text=True)


def test_wrong_password_is_refused_and_audited(site, client, gs):
    site.user("somsak")
    response = sign_in(client, "somsak", "not the password")
    assert response.status_code == 401
    with gs.unit_of_work() as ctx:
        actions = [e.action for e in ctx.db.query(AuditEvent)]
    assert "login.failed" in actions


def test_five_wrong_passwords_lock_the_account(site, client):
    site.user("somsak")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for n in range(5):  # from five places: one place alone is slowed first
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        sign_in(client, "somsak", "wrong password!")
    client.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    response = sign_in(client, "somsak")
    assert response.status_code == 401
    assert "locked" in response.get_data(as_text=True)


def test_three_wrong_passwords_from_one_place_make_it_wait(site, client):
    site.user("somsak")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for _ in range(3):
        assert "not right" in sign_in(client, "somsak", "wrong password!").get_data(as_text=True)
    response = sign_in(client, "somsak")
    assert response.status_code == 401
    assert "Wait a minute" in response.get_data(as_text=True)


def test_pages_need_sign_in(client):
    response = client.get("/my")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_api_without_sign_in_answers_json_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_form_without_csrf_token_is_refused(site, browser_for):
    web = browser_for(site.user("somsak"))
    response = web.post("/account/tokens", data={"label": "x"})
    assert response.status_code == 400


def test_logout_ends_the_session(site, browser_for):
    web = browser_for(site.user("somsak"))
    post(web, "/logout")
    assert web.get("/my").status_code == 302


def test_disabling_an_account_ends_its_sessions(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    assert web.get("/account").status_code == 200
    site.run(lambda w: users.set_disabled(w.ctx, OPERATOR, w.ctx.db.merge(user), True))
    assert web.get("/account").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(site, browser_for):
    user = site.user("somsak")
    this, other = browser_for(user), browser_for(user)
    response = post(
        this,
        "/account/password",
        {
            "current": "correct horse battery",
            "new": "a new long password",
            "repeat": "a new long password",
        },
    )
    assert response.status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_session_survives_a_restart(site, config, gs, browser_for):
    from web import create_app

    web = browser_for(site.user("somsak"))
    cookie = web.get_cookie("gshare_session")
    restarted = create_app(config, gs).test_client()
    restarted.set_cookie("gshare_session", cookie.value)
    assert restarted.get("/account").status_code == 200


def test_language_follows_the_browser_then_the_choice(site, client):
    assert "ເຂົ້າສູ່ລະບົບ" in client.get("/login", headers={"Accept-Language": "lo"}).get_data(
        as_text=True
    )
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    client.post("/language", data={"lang": "lo", "csrf_token": csrf_token(client)})
    assert "ເຂົ້າສູ່ລະບົບ" in client.get("/login", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HttpOnly" in response.headers.get("Set-Cookie", "HttpOnly")
