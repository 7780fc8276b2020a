"""An administrator resets a person's second factor from the People page (a lost phone or key):
their keys, apps and recovery codes go, their sessions end, and they sign in with the password
alone; only the administrators of the person's department may, and it is audited."""

from __future__ import annotations

from sqlalchemy import select

from gshare.core.models import AuditEvent, UserRole
from tests.fixtures.soft_key import SoftKey
from tests.web.conftest import csrf_token, post, sign_in

RESET = "Reset second factor"


def _english(web):
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def _add_key(web) -> None:
    token = csrf_token(web, "/login")
    options = web.post("/account/factors/key/options", headers={"X-CSRFToken": token})
    added = post(web, "/account/factors/key", {"credential": SoftKey().create(options.text)})
    assert added.status_code == 302


def test_an_administrator_resets_a_lost_key_from_the_people_page(site, browser_for, app, gs):
    admin = site.user("boss", role=UserRole.SYSTEM_ADMIN)
    somsak, noy = site.user("somsak"), site.user("noy")
    theirs = _english(browser_for(somsak))
    _add_key(theirs)
    console = _english(browser_for(admin))
    page = console.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{somsak.id}/reset-factors"' in page
    assert "Remove every second factor and recovery code of Somsak" in page
    assert f'action="/admin/users/{noy.id}/reset-factors"' not in page  # no factor: no button
    fresh = _english(app.test_client())
    assert sign_in(fresh, "somsak").headers["Location"] == "/login/factor"

    done = post(console, f"/admin/users/{somsak.id}/reset-factors")
    assert done.status_code == 302
    shown = console.get(done.headers["Location"]).get_data(as_text=True)
    assert "The second factors of Somsak were removed and their sessions ended." in shown
    assert f'action="/admin/users/{somsak.id}/reset-factors"' not in shown
    assert theirs.get("/account").status_code == 302  # their session ended
    again = _english(app.test_client())
    assert sign_in(again, "somsak").headers["Location"] == "/"
    with gs.unit_of_work() as ctx:
        event = ctx.db.scalar(select(AuditEvent).filter_by(action="factor.reset"))
        assert event.target == "somsak" and event.actor_id == admin.id


def test_an_administrator_of_another_department_cannot_reset(site, browser_for, app):
    somsak = site.user("somsak", "Finance")
    other = site.user("other", "Health", role=UserRole.DEPARTMENT_ADMIN)
    _add_key(_english(browser_for(somsak)))
    console = _english(browser_for(other))
    refused = post(console, f"/admin/users/{somsak.id}/reset-factors")
    assert refused.status_code in (403, 404)
    fresh = _english(app.test_client())
    assert sign_in(fresh, "somsak").headers["Location"] == "/login/factor"


def test_the_reset_button_speaks_lao(site, browser_for):
    admin = site.user("boss", role=UserRole.SYSTEM_ADMIN)
    somsak = site.user("somsak")
    _add_key(browser_for(somsak))
    console = browser_for(admin)
    console.environ_base["HTTP_ACCEPT_LANGUAGE"] = "lo"
    page = console.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{somsak.id}/reset-factors"' in page
    assert RESET not in page
