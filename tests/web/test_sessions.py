"""Server-side sessions: sign-out ends a session everywhere, sessions expire when idle and at
the end of their lifetime, a person sees and ends their sessions, a password change ends the
others and asks about API tokens and S3 keys, an administrator ends someone's sessions."""

from __future__ import annotations

from tests.web.conftest import post

COOKIE = "gshare_session"


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
