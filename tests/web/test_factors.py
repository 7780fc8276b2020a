"""The second factor as a person meets it: adding an authenticator app (QR code, secret, a first
code, recovery codes shown once), the code asked after the password, codes that cannot be used
twice, wrong codes that lock, a half sign-in that expires and stays in its browser, removal."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select

from gshare.accounts import factors
from gshare.accounts.login import Outcome
from gshare.core import crypto
from gshare.core.models import AuditEvent, User, utcnow
from tests.fixtures.world import PASSWORD
from tests.web.conftest import csrf_token, post, sign_in

CODE = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


def _english(web):
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def _enrol(web) -> tuple[pyotp.TOTP, list[str]]:
    """Add an authenticator app through the pages; return it and the recovery codes shown."""
    started = post(web, "/account/factors/totp", {"label": "my phone"})
    page = web.get(started.headers["Location"]).get_data(as_text=True)
    totp = pyotp.TOTP(SECRET.search(page).group(1))
    done = post(web, started.headers["Location"], {"code": totp.now()})
    assert done.status_code == 302
    codes = CODE.findall(web.get("/account/factors").get_data(as_text=True))
    return totp, codes


def _next_code(totp: pyotp.TOTP) -> str:
    """The code of the next time step: the one just used to confirm cannot serve again."""
    return totp.at(time.time() + 30)


def _second_step(web, code: str):
    return web.post(
        "/login/factor", data={"code": code, "csrf_token": csrf_token(web, "/login/factor")}
    )


def _actions(gs, username):
    with gs.unit_of_work() as ctx:
        return [
            e.action
            for e in ctx.db.scalars(select(AuditEvent).where(AuditEvent.target == username))
        ]


def test_adding_an_app_shows_its_qr_code_and_secret_and_a_code_makes_it_work(site, browser_for, gs):
    web = _english(browser_for(site.user("noy")))
    assert "You have no second factor yet." in web.get("/account/factors").get_data(as_text=True)
    started = post(web, "/account/factors/totp", {"label": "my phone"})
    page = web.get(started.headers["Location"]).get_data(as_text=True)
    assert '<div class="qr" role="img"' in page and "<svg" in page
    secret = SECRET.search(page).group(1)
    assert len(secret) >= 16
    right = pyotp.TOTP(secret).now()
    wrong = post(web, started.headers["Location"], {"code": "000000" if right != "000000" else "1"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.get_data(as_text=True)
    done = post(web, started.headers["Location"], {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    shown = web.get("/account/factors").get_data(as_text=True)
    assert "The authenticator app was added" in shown
    assert len(set(CODE.findall(shown))) == 10
    assert "my phone" in shown and "Recovery codes left: 10" in shown
    again = web.get("/account/factors").get_data(as_text=True)
    assert "Recovery codes left: 10" in again
    assert CODE.findall(again) == []  # shown once
    assert {"factor.totp.begin", "factor.totp.confirm_failed", "factor.totp.add"} <= set(
        _actions(gs, "noy")
    )


def test_an_app_not_yet_confirmed_is_not_asked_for(site, browser_for, app):
    web = _english(browser_for(site.user("noy")))
    started = post(web, "/account/factors/totp")
    assert "Type the 6-digit code" in web.get(started.headers["Location"]).get_data(as_text=True)
    other = _english(app.test_client())
    response = sign_in(other, "noy")
    assert response.headers["Location"] == "/"


def test_sign_in_asks_for_the_code_after_the_password(site, browser_for, app, gs):
    _totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    totp = _totp
    web = _english(app.test_client())
    response = sign_in(web, "noy")
    assert response.status_code == 302 and response.headers["Location"] == "/login/factor"
    assert "Confirm it is you" in web.get("/login/factor").get_data(as_text=True)
    assert web.get("/").status_code == 302  # half signed in: nothing opens yet
    done = _second_step(web, _next_code(totp))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert "Welcome, Noy" in web.get("/").get_data(as_text=True)
    assert "factor.passed" in _actions(gs, "noy")


def test_a_code_is_refused_when_used_again_within_its_window(site, browser_for, app):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    code = _next_code(totp)
    first = _english(app.test_client())
    sign_in(first, "noy")
    assert _second_step(first, code).status_code == 302
    second = _english(app.test_client())
    sign_in(second, "noy")
    refused = _second_step(second, code)
    assert refused.status_code == 401
    assert "already used" in refused.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_wrong_codes_lock_the_account_like_wrong_passwords(site, browser_for, app):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    web = _english(app.test_client())
    sign_in(web, "noy")
    for _ in range(4):
        assert "not right" in _second_step(web, "123456").get_data(as_text=True)
    locked = _second_step(web, "654321")
    assert locked.status_code == 401
    assert "locked" in locked.get_data(as_text=True)
    again = _english(app.test_client())
    assert sign_in(again, "noy").status_code == 401  # the right password cannot open it now
    assert web.get("/").status_code == 302


def test_a_right_password_between_wrong_codes_does_not_reset_the_count(site, browser_for, app):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    for n in range(2):  # from two places: one place alone is slowed first
        web = _english(app.test_client())
        web.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        sign_in(web, "noy")
        assert "not right" in _second_step(web, "123456").get_data(as_text=True)
        assert "not right" in _second_step(web, "123457").get_data(as_text=True)
    web = _english(app.test_client())
    web.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    assert sign_in(web, "noy").headers["Location"] == "/login/factor"
    assert "locked" in _second_step(web, "123458").get_data(as_text=True)


def test_a_recovery_code_opens_once_after_a_lost_phone(site, browser_for, app, gs):
    _totp, codes = _enrol(_english(browser_for(site.user("noy"))))
    web = _english(app.test_client())
    sign_in(web, "noy")
    assert _second_step(web, codes[0].upper()).status_code == 302
    assert "Welcome, Noy" in web.get("/").get_data(as_text=True)
    assert "Recovery codes left: 9" in web.get("/account/factors").get_data(as_text=True)
    again = _english(app.test_client())
    sign_in(again, "noy")
    refused = _second_step(again, codes[0])
    assert refused.status_code == 401
    assert "not right" in refused.get_data(as_text=True)
    assert "factor.recovery_code.used" in _actions(gs, "noy")


def test_the_half_sign_in_expires_and_stays_in_its_browser(site, browser_for, app):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    web = _english(app.test_client())
    sign_in(web, "noy")
    assert "Confirm it is you" in web.get("/login/factor").get_data(as_text=True)
    stranger = _english(app.test_client())
    assert stranger.get("/login/factor").headers["Location"] == "/login"
    with web.session_transaction() as cookie:
        cookie["factor_pending"] = {**cookie["factor_pending"], "at": time.time() - 6 * 60}
    expired = web.get("/login/factor", follow_redirects=True).get_data(as_text=True)
    assert "The sign-in took too long" in expired
    assert (
        web.post(
            "/login/factor", data={"code": _next_code(totp), "csrf_token": csrf_token(web)}
        ).headers["Location"]
        == "/login"
    )
    assert web.get("/").status_code == 302


def test_removing_the_app_needs_the_password_and_then_sign_in_asks_no_code(
    site, browser_for, app, gs
):
    web = _english(browser_for(site.user("noy")))
    _enrol(web)
    page = web.get("/account/factors").get_data(as_text=True)
    remove = re.search(r'action="(/account/factors/\d+/remove)"', page).group(1)
    refused = post(web, remove, {"password": "not my password"})
    assert "The password is not right." in web.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    assert "Authenticator app" in web.get("/account/factors").get_data(as_text=True)
    post(web, remove, {"password": PASSWORD})
    after = web.get("/account/factors").get_data(as_text=True)
    assert "You have no second factor yet." in after
    assert "Recovery codes left" not in after
    fresh = _english(app.test_client())
    assert sign_in(fresh, "noy").headers["Location"] == "/"
    assert "factor.totp.remove" in _actions(gs, "noy")


ROTATED_SECRET = "Rotated-2027-kQ9vX3mP7tL2wZ8rN5bH1cJ6dF4gS0aY"


def test_key_reencrypt_moves_app_secrets_so_codes_work_after_the_old_secret_leaves(
    site, browser_for, gs
):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    with gs.unit_of_work() as ctx:
        old = crypto.secret_key(ctx.config)
        rotating = ctx.config.replace(
            server={"secret_key": ROTATED_SECRET, "old_secret_keys": (old,)}
        )
        ctx.config = rotating
        noy = ctx.db.scalar(select(User).where(User.username == "noy"))
        later = utcnow() + timedelta(seconds=60)
        assert factors.verify_second_factor(ctx, noy, totp.at(later), later) == Outcome.OK
        assert factors.reencrypt_secrets(ctx) == 1
        assert factors.reencrypt_secrets(ctx) == 0  # all under the new secret now
        ctx.config = rotating.replace(server={"old_secret_keys": ()})
        later = utcnow() + timedelta(seconds=90)
        assert factors.verify_second_factor(ctx, noy, totp.at(later), later) == Outcome.OK
