"""Rules around the second factor: required by role with a grace period, a recent factor before
making an API token or an S3 key, an administrator's reset of a person's factors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from gshare.core.models import SecondFactor, UserRole, UserSession, utcnow
from tests.web.conftest import post, sign_in
from tests.web.test_factors import _actions, _english, _enrol, _next_code, _second_step


@pytest.fixture
def config(config):
    return config.replace(mfa={"required_for": ("system_admin",), "grace_days": 14})


def _signed_in(app, username):
    web = _english(app.test_client())
    sign_in(web, username)
    return web


def _later(gs, minutes):
    """Move the session's second factor and the app's last used code back, as if minutes passed."""
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(UserSession).values(factor_at=utcnow() - timedelta(minutes=minutes)))
        ctx.db.execute(update(SecondFactor).values(last_step=SecondFactor.last_step - minutes * 2))


def test_a_required_person_in_grace_signs_in_and_is_reminded_once(site, app, gs):
    site.user("admin", role=UserRole.SYSTEM_ADMIN)
    web = _signed_in(app, "admin")
    page = web.get("/")
    assert page.status_code == 200
    assert "Your administrator requires a second factor. Add one before" in page.get_data(
        as_text=True
    )
    assert "requires a second factor" not in web.get("/").get_data(as_text=True)
    assert "factor.grace_start" in _actions(gs, "admin")


def test_a_person_the_rules_do_not_name_is_not_asked(site, app):
    site.user("noy")
    page = _signed_in(app, "noy").get("/")
    assert page.status_code == 200
    assert "Welcome, Noy" in page.get_data(as_text=True)
    assert "second factor" not in page.get_data(as_text=True)


@pytest.mark.parametrize("rule", ["system_admin", "everyone"])
def test_after_grace_a_person_must_add_a_factor_before_anything_else(site, app, config, rule):
    app.extensions["gshare"].config = config.replace(mfa={"required_for": (rule,), "grace_days": 0})
    site.user("admin", role=UserRole.SYSTEM_ADMIN)
    web = _signed_in(app, "admin")
    sent = web.get("/my")
    assert sent.status_code == 302 and sent.headers["Location"] == "/account/factors"
    page = web.get("/account/factors").get_data(as_text=True)
    assert "Your administrator requires a second factor: add one to continue." in page
    assert web.get("/account").headers["Location"] == "/account/factors"
    _enrol(web)
    assert web.get("/").status_code == 200
    assert web.get("/account").status_code == 200


def test_making_an_api_token_needs_a_second_factor_proven_lately(site, browser_for, app, gs):
    totp, _codes = _enrol(_english(browser_for(site.user("noy"))))
    web = _english(app.test_client())
    sign_in(web, "noy")
    _second_step(web, _next_code(totp))
    made = post(web, "/account/tokens", {"label": "backup script"})
    assert "Copy this token now" in web.get(made.headers["Location"]).get_data(as_text=True)
    _later(gs, minutes=16)
    asked = post(
        web,
        "/account/tokens",
        {"label": "second script"},
        headers={"Referer": "http://localhost/account"},
    )
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/account/factors/confirm")
    page = web.get(asked.headers["Location"]).get_data(as_text=True)
    assert "needs your second factor again" in page
    assert "Copy this token now" not in web.get("/account").get_data(as_text=True)
    confirmed = post(web, asked.headers["Location"], {"code": totp.now()})
    assert confirmed.headers["Location"] == "/account"
    made = post(web, "/account/tokens", {"label": "second script"})
    assert "Copy this token now" in web.get(made.headers["Location"]).get_data(as_text=True)


def test_making_an_s3_key_needs_a_second_factor_proven_lately(site, browser_for, app, gs):
    web = _english(browser_for(site.user("noy")))
    totp, _codes = _enrol(web)  # adding the app proves it: keys can be made now
    made = post(web, "/account/keys", {"label": "rclone"})
    assert made.headers["Location"] == "/account/keys"
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(UserSession).values(factor_at=None))
    asked = post(web, "/account/keys", {"label": "rclone 2"})
    assert asked.headers["Location"].startswith("/account/factors/confirm")
    refused = post(
        web, asked.headers["Location"], {"code": "000000" if totp.now() != "000000" else "1"}
    )
    assert refused.status_code == 401


def test_an_administrator_resets_a_lost_phone_and_the_person_signs_in_with_a_password(
    site, browser_for, app, gs, gshare
):
    own = _english(browser_for(site.user("noy")))
    _enrol(own)
    assert sign_in(_english(app.test_client()), "noy").headers["Location"] == "/login/factor"
    code, out = gshare("user", "reset-factors", "noy")
    assert code == 0 and "1 second factors of noy removed" in out
    assert own.get("/").status_code == 302  # their sessions ended
    assert sign_in(_english(app.test_client()), "noy").headers["Location"] == "/"
    assert "factor.reset" in _actions(gs, "noy")
