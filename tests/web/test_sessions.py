"""Server-side sessions: sign-out ends a session everywhere, sessions expire when idle and at
the end of their lifetime, a person sees and ends their sessions, a password change ends the
others and asks about API tokens and S3 keys, an administrator ends someone's sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gshare.accounts import access_keys, api_tokens
from gshare.core.actor import OPERATOR
from gshare.core.models import AuditEvent, User, UserRole, UserSession, utcnow
from gshare.org import users
from tests.fixtures.world import PASSWORD
from tests.web.conftest import post, sign_in

COOKIE = "gshare_session"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _copy(app, web):
    """Return a second client holding a copy of web's session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, web.get_cookie(COOKIE).value)
    return thief


def test_a_copy_of_the_cookie_stops_working_after_sign_out(site, app, browser_for):
    web = browser_for(site.user("somsak"))
    thief = _copy(app, web)
    assert thief.get("/account").status_code == 200
    post(web, "/logout")
    assert web.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302


def test_the_cookie_is_not_issued_again_on_every_request(site, browser_for):
    web = browser_for(site.user("somsak"))
    web.get("/account")  # the first form after signing in may add its CSRF token
    for path in ("/account", "/", "/account"):
        response = web.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


def _age(site, username, **columns):
    """Move a person's sessions back in time (instead of waiting)."""

    def move(w):
        user = w.ctx.db.scalar(select(User).filter_by(username=username))
        for row in w.ctx.db.scalars(select(UserSession).filter_by(user_id=user.id)):
            for name, ago in columns.items():
                setattr(row, name, utcnow() - ago)

    site.run(move)


def test_a_session_unused_past_the_idle_timeout_ends(site, browser_for, config):
    web = browser_for(site.user("somsak"))
    idle = timedelta(minutes=config.sessions.idle_timeout_minutes)
    _age(site, "somsak", last_seen_at=idle - timedelta(minutes=5))
    assert web.get("/account").status_code == 200
    _age(site, "somsak", last_seen_at=idle + timedelta(minutes=1))
    assert web.get("/account").status_code == 302


def test_a_busy_session_still_ends_at_its_absolute_lifetime(site, browser_for, config):
    web = browser_for(site.user("somsak"))
    lifetime = timedelta(hours=config.sessions.lifetime_hours)
    _age(site, "somsak", created_at=lifetime, expires_at=timedelta(minutes=-5))
    assert web.get("/account").status_code == 200
    _age(site, "somsak", expires_at=timedelta(seconds=1))
    assert web.get("/account").status_code == 302


def test_a_person_sees_their_sessions_and_ends_one(site, app, browser_for):
    user = site.user("somsak")
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    sign_in(laptop, "somsak")
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = CHROME_ANDROID
    phone.environ_base["REMOTE_ADDR"] = "10.20.30.40"
    sign_in(phone, "somsak")
    page = laptop.get("/account/sessions", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Firefox, Windows" in text and "Chrome, Android" in text and "10.20.30.40" in text
    assert text.count("(this device)") == 1
    phone_session = site.run(
        lambda w: w.ctx.db.scalar(select(UserSession.id).filter_by(ip="10.20.30.40"))
    )
    assert post(laptop, f"/account/sessions/{phone_session}/end").status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert "Chrome, Android" not in laptop.get("/account/sessions").get_data(as_text=True)
    assert user.username == "somsak"


def test_ending_all_other_sessions_keeps_this_one(site, browser_for):
    user = site.user("somsak")
    this, other, third = browser_for(user), browser_for(user), browser_for(user)
    assert post(this, "/account/sessions/end-others").status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert third.get("/account").status_code == 302


def test_someone_elses_session_cannot_be_ended(site, browser_for):
    mine, theirs = browser_for(site.user("somsak")), browser_for(site.user("noy"))
    noy_session = site.run(
        lambda w: w.ctx.db.scalar(select(UserSession.id).order_by(UserSession.id.desc()))
    )
    assert post(mine, f"/account/sessions/{noy_session}/end").status_code == 404
    assert theirs.get("/account").status_code == 200


def test_sessions_page_is_in_lao_and_linked_from_the_header(site, browser_for):
    web = browser_for(site.user("somsak"))
    home = web.get("/", headers={"Accept-Language": "lo"}).get_data(as_text=True)
    assert 'href="/account/sessions"' in home
    page = web.get("/account/sessions", headers={"Accept-Language": "lo"}).get_data(as_text=True)
    assert "ບ່ອນທີ່ທ່ານເຂົ້າລະບົບຢູ່" in page and "ອຸປະກອນນີ້" in page


def _change_password(web, keys):
    return post(
        web,
        "/account/password",
        {
            "current": PASSWORD,
            "new": "a new long password",
            "repeat": "a new long password",
            "keys": keys,
        },
    )


def test_password_change_can_revoke_api_tokens_and_s3_keys(site, gs, browser_for):
    user = site.user("somsak")
    this, other = browser_for(user), browser_for(user)
    token = site.run(lambda w: api_tokens.create_token(w.ctx, w.ctx.db.merge(user))[1])
    site.run(lambda w: access_keys.create_key(w.ctx, OPERATOR, w.ctx.db.merge(user)))
    api = {"Authorization": f"Bearer {token}"}
    assert this.application.test_client().get("/api/v1/me", headers=api).status_code == 200
    form = this.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "What should happen to your API tokens and S3 access keys?" in form
    assert _change_password(this, "revoke").status_code == 302
    assert this.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    assert this.application.test_client().get("/api/v1/me", headers=api).status_code == 401
    with gs.unit_of_work() as ctx:
        assert access_keys.list_keys(ctx, OPERATOR, ctx.db.merge(user)) == []
        actions = {e.action for e in ctx.db.scalars(select(AuditEvent))}
    assert {"user.set_password", "api_token.revoke_all", "key.revoke_all"} <= actions


def test_password_change_keeps_tokens_when_asked(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    token = site.run(lambda w: api_tokens.create_token(w.ctx, w.ctx.db.merge(user))[1])
    assert _change_password(web, "keep").status_code == 302
    api = {"Authorization": f"Bearer {token}"}
    assert web.application.test_client().get("/api/v1/me", headers=api).status_code == 200


def test_wrong_current_password_is_a_clear_error(site, browser_for):
    web = browser_for(site.user("somsak"))
    response = post(
        web,
        "/account/password",
        {"current": "not it at all", "new": "a new long password", "repeat": "a new long password"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "The current password is not right." in response.get_data(as_text=True)


def test_enabling_a_disabled_account_does_not_bring_its_sessions_back(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    assert web.get("/account").status_code == 200
    site.run(lambda w: users.set_disabled(w.ctx, OPERATOR, w.ctx.db.merge(user), True))
    site.run(lambda w: users.set_disabled(w.ctx, OPERATOR, w.ctx.db.merge(user), False))
    assert web.get("/account").status_code == 302


def test_administrator_ends_someones_sessions_on_the_people_page(site, browser_for, gs):
    admin = site.user("boss", role=UserRole.SYSTEM_ADMIN)
    somsak = site.user("somsak")
    theirs, console = browser_for(somsak), browser_for(admin)
    assert theirs.get("/account").status_code == 200
    page = console.get("/admin/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "End sessions" in page
    assert post(console, f"/admin/users/{somsak.id}/end-sessions").status_code == 302
    assert theirs.get("/account").status_code == 302
    assert console.get("/account").status_code == 200
    with gs.unit_of_work() as ctx:
        assert (
            ctx.db.scalar(select(AuditEvent).filter_by(action="session.end_all")).target == "somsak"
        )


def test_operator_ends_sessions_and_lifts_a_lock_from_the_command_line(
    site, app, browser_for, gshare
):
    user = site.user("somsak")
    web = browser_for(user)
    assert gshare("user", "sessions-end", "somsak") == (0, "1 sessions of somsak ended\n")
    assert web.get("/account").status_code == 302
    for n in range(5):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        sign_in(other, "somsak", "wrong password!")
    assert sign_in(app.test_client(), "somsak").status_code == 401
    assert gshare("user", "unlock", "somsak") == (0, "somsak unlocked\n")
    assert sign_in(app.test_client(), "somsak").status_code == 302
    assert gshare("user", "unlock", "nobody")[0] != 0
