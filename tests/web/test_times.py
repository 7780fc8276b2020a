"""Times in the reader's time zone (Asia/Vientiane unless the site or the person chose
another), written dd/mm/yyyy; relative times in lists; dates typed as dd/mm/yyyy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gshare.core.config import Config, ConfigError
from gshare.core.models import Node, ShareLink, User
from tests.web.conftest import post

EN = {"Accept-Language": "en"}
LO = {"Accept-Language": "lo"}
AUGUST_15_06_12_UTC = datetime(2025, 8, 15, 6, 12, tzinfo=UTC)


def _folder_changed_at(site, owner, moment):
    folder = site.folder(site.home(owner), "ກອງປະຊຸມ")

    def stamp(w):
        w.ctx.db.get(Node, folder.id).updated_at = moment

    site.run(stamp)
    return folder


def test_a_listing_shows_vientiane_time_by_default(site, browser_for):
    owner = site.user("somsak")
    _folder_changed_at(site, owner, AUGUST_15_06_12_UTC)
    page = browser_for(owner).get("/my", follow_redirects=True, headers=EN)
    assert 'title="15/08/2025 13:12"' in page.get_data(as_text=True)


def test_a_person_who_chose_another_zone_sees_their_own(site, browser_for):
    owner = site.user("somsak")
    _folder_changed_at(site, owner, AUGUST_15_06_12_UTC)
    web = browser_for(owner)
    saved = post(
        web, "/account/time-zone", {"time_zone": "Europe/Paris"}, headers=EN, follow_redirects=True
    )
    assert "Times are now shown in Europe/Paris." in saved.get_data(as_text=True)
    page = web.get("/my", follow_redirects=True, headers=EN)
    assert 'title="15/08/2025 08:12"' in page.get_data(as_text=True)


def test_an_unknown_zone_is_refused_with_a_sentence(site, browser_for):
    owner = site.user("somsak")
    answer = post(
        browser_for(owner),
        "/account/time-zone",
        {"time_zone": "Mars/Olympus"},
        headers=LO,
        follow_redirects=True,
    )
    assert "ກະລຸນາເລືອກເຂດເວລາຈາກລາຍການ." in answer.get_data(as_text=True)
    assert site.run(lambda w: w.ctx.db.get(User, owner.id).time_zone) is None


def test_the_site_zone_is_a_setting(site, app, browser_for):
    owner = site.user("somsak")
    _folder_changed_at(site, owner, AUGUST_15_06_12_UTC)
    gs = app.extensions["gshare"]
    gs.config = gs.config.replace(server={"time_zone": "UTC"})
    page = browser_for(owner).get("/my", follow_redirects=True, headers=EN)
    assert 'title="15/08/2025 06:12"' in page.get_data(as_text=True)


def test_a_bad_site_zone_is_a_config_error():
    with pytest.raises(ConfigError, match="time_zone"):
        Config().replace(server={"time_zone": "Vientiane"})


@pytest.mark.parametrize("headers, words", [(EN, "5 minutes ago"), (LO, "5 ນາທີກ່ອນ")])
def test_lists_say_how_long_ago(site, browser_for, headers, words):
    owner = site.user("somsak")
    _folder_changed_at(site, owner, datetime.now(UTC) - timedelta(minutes=5, seconds=10))
    page = browser_for(owner).get("/my", follow_redirects=True, headers=headers)
    assert f">{words}</time>" in page.get_data(as_text=True)


def test_a_link_expiry_typed_as_day_month_year_ends_that_day_in_vientiane(site, browser_for):
    owner = site.user("somsak")
    folder = site.folder(site.home(owner), "Notices")
    web = browser_for(owner)
    year = datetime.now(UTC).year + 1
    post(web, f"/nodes/{folder.id}/links", {"mode": "view", "expires": f"31/12/{year}"})
    expires = site.run(lambda w: w.ctx.db.query(ShareLink).one().expires_at)
    assert expires == datetime(year, 12, 31, 16, 59, 59, tzinfo=UTC)  # 23:59:59 at UTC+7
    page = web.get(f"/nodes/{folder.id}/share", headers=EN).get_data(as_text=True)
    assert f"works until 31/12/{year} 23:59" in page


@pytest.mark.parametrize("typed", ["12/31/2025", "2025-12-31", "31/12/25", "tomorrow"])
def test_a_link_expiry_not_a_day_month_year_is_refused_on_the_share_page(site, browser_for, typed):
    owner = site.user("somsak")
    folder = site.folder(site.home(owner), "Notices")
    answer = post(
        browser_for(owner),
        f"/nodes/{folder.id}/links",
        {"mode": "view", "expires": typed},
        headers=EN,
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert "Give the expiry date as day/month/year, for example 31/12/2025." in text
    assert 'name="expires"' in text  # the share page again, not an error page
    assert site.run(lambda w: w.ctx.db.query(ShareLink).count()) == 0
