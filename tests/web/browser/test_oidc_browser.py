"""Single sign-on in Chromium: the whole redirect flow through a real OpenID Connect provider
(oidc-provider under Node), and out again through its sign-out."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from gshare.core.config import Config
from gshare.core.models import UserSession
from tests.fixtures.oidc import LAO_NAME
from tests.helpers import SHUTDOWN_POLL_SECONDS
from tests.web.browser.conftest import follow, shot


@pytest.fixture
def config(db_url, tmp_path, oidc_provider, oidc_browser_port) -> Config:
    return Config().replace(
        database={"url": db_url},
        server={
            "data_dir": str(tmp_path / "var"),
            "public_url": f"http://127.0.0.1:{oidc_browser_port}",
        },
        oidc=oidc_provider.gshare_settings(),
    )


@pytest.fixture
def server(app, oidc_browser_port):
    """Serve gshare on the port whose redirect URI the provider knows."""
    httpd = make_server("127.0.0.1", oidc_browser_port, app, threaded=True)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{oidc_browser_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def test_sign_in_with_the_provider_then_sign_out_through_it(open_page, server, site, oidc_provider):
    site.department("Finance")
    page = open_page("en")
    page.goto("/login")
    expect(page.locator("#sign-in-with-provider")).to_have_text("Sign in with MPTC ID")
    follow(page, "#sign-in-with-provider")
    assert page.url.startswith(oidc_provider.issuer)
    page.fill("input[name=login]", "somchai")
    page.fill("input[name=password]", "any password")
    follow(page, "button[type=submit]")
    if page.locator("input[name=prompt][value=consent]").count():
        follow(page, "button[type=submit]")
    page.wait_for_url(f"{server}/")
    expect(page.locator("header")).to_contain_text(LAO_NAME)
    shot(page, "oidc-signed-in")
    follow(page, "form[action='/logout'] button")
    assert page.url.startswith(f"{oidc_provider.issuer}/session/end")
    follow(page, "button[name=logout]")
    expect(page.locator("#sign-in-with-provider")).to_be_visible()
    assert "/login" in page.url
    page.goto("/")
    expect(page.locator("#sign-in-with-provider")).to_be_visible()  # signed out of gshare too


def test_a_sign_out_at_the_provider_ends_the_session_through_its_front_channel_iframe(
    open_page, server, site, gs, oidc_provider
):
    site.department("Finance")
    page = open_page("en")
    page.goto("/login")
    follow(page, "#sign-in-with-provider")
    page.fill("input[name=login]", "vanh")
    page.fill("input[name=password]", "any password")
    follow(page, "button[type=submit]")
    if page.locator("input[name=prompt][value=consent]").count():
        follow(page, "button[type=submit]")
    page.wait_for_url(f"{server}/")
    expect(page.locator("header")).to_contain_text("Vanh Sisouk")
    with gs.unit_of_work() as ctx:
        sid = ctx.db.scalar(select(UserSession.provider_sid))
    assert sid
    # the provider's logout page, as a front-channel provider serves it: gshare in an iframe
    provider_page = open_page("en")
    provider_page.goto(f"{oidc_provider.issuer}/.well-known/openid-configuration")
    address = f"{server}/logout/oidc/frontchannel?" + urlencode(
        {"iss": oidc_provider.issuer, "sid": sid}
    )
    provider_page.evaluate(
        """(src) => new Promise((loaded) => {
             const frame = document.createElement("iframe");
             frame.onload = loaded;
             frame.src = src;
             document.body.appendChild(frame);
           })""",
        address,
    )
    page.goto("/")
    expect(page.locator("#sign-in-with-provider")).to_be_visible()  # signed out of gshare
