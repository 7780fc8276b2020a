"""Secrets shown once after a form (an API token, an S3 key's secret) reach their page without
being readable in the session cookie, and only once; a new public link's address (shown again to
the item's managers: tests/web/test_links_shown_again.py) is never readable in the cookie either."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import post
from web import shown_once

_SHOWN = re.compile(r'shown only once:.*?value="([^"]+)"', re.S)
_KEY_SECRET = re.compile(r'id="new-key-secret">([^<]+)<')


def _session_cookie(app, web) -> tuple[str, dict]:
    """Return the session cookie as the browser holds it, and what anyone can read in it."""
    raw = web.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return raw, app.session_interface.get_signing_serializer(app).loads(raw)


def _token(web):
    post(web, "/account/tokens", {"label": "script"})
    return "/account", _SHOWN


def _key(web):
    post(web, "/account/keys", {"label": "laptop"})
    return "/account/keys", _KEY_SECRET


@pytest.mark.parametrize("make", ["token", "key"])
def test_a_new_secret_is_shown_once_and_never_readable_in_the_cookie(site, browser_for, app, make):
    web = browser_for(site.user("somsak"))
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page_path, pattern = {"token": lambda: _token(web), "key": lambda: _key(web)}[make]()
    raw, readable = _session_cookie(app, web)
    page = web.get(page_path).get_data(as_text=True)
    secret = pattern.search(page).group(1)
    assert len(secret) >= 20
    assert secret not in raw and secret not in repr(readable)
    again = web.get(page_path).get_data(as_text=True)
    assert secret not in again and not pattern.search(again)


def test_a_new_link_address_is_on_the_share_page_but_never_readable_in_the_cookie(
    site, browser_for, app
):
    owner = site.user("somsak")
    folder = site.folder(site.home(owner), "Public")
    web = browser_for(owner)
    post(web, f"/nodes/{folder.id}/links", {"mode": "view"})
    raw, readable = _session_cookie(app, web)
    page = web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)
    token = re.search(r'value="https?://[^"]*/s/([^"/]+)"', page).group(1)
    assert len(token) >= 20
    assert token not in raw and token not in repr(readable)


def test_a_secret_not_shown_within_its_time_is_dropped(site, browser_for, monkeypatch):
    web = browser_for(site.user("somsak"))
    _key(web)
    assert _KEY_SECRET.search(web.get("/account/keys").get_data(as_text=True))  # within its time
    monkeypatch.setattr(shown_once, "SHOWN_WITHIN_SECONDS", -1)  # already too old
    _key(web)
    page = web.get("/account/keys").get_data(as_text=True)
    assert not _KEY_SECRET.search(page)


def test_a_sealed_value_from_another_server_secret_shows_nothing(site, browser_for, app):
    web = browser_for(site.user("somsak"))
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    _token(web)
    assert "shown only once" in web.get("/account").get_data(as_text=True)  # sealed here
    with web.session_transaction() as session:
        session["new_token"] = "gAAAAABforgedorfromanotherserver=="
    page = web.get("/account").get_data(as_text=True)
    assert "shown only once" not in page
