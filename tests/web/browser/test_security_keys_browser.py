"""Security keys and passkeys in Chromium, with its virtual authenticator (Chrome DevTools
Protocol `WebAuthn`): a person adds a key on the account page, signs in with it after the
password, and a removed key or another person's key no longer opens the account.

WebAuthn wants a domain, not an IP address, as the relying party: gshare is served at
http://localhost:PORT (a secure context, like https)."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from gshare.core.config import Config
from gshare.core.models import UserRole
from tests.fixtures.oidc import free_port
from tests.fixtures.world import PASSWORD
from tests.helpers import SHUTDOWN_POLL_SECONDS
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    axe_violations,
    follow,
    page_width,
    shot,
    sign_in,
)

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def config(db_url, tmp_path, port) -> Config:
    return Config().replace(
        database={"url": db_url},
        server={"data_dir": str(tmp_path / "var"), "public_url": f"http://localhost:{port}"},
    )


@pytest.fixture
def server(app, port):
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
    )
    thread.start()
    yield f"http://localhost:{port}"
    httpd.shutdown()
    thread.join(timeout=10)


class Authenticators:
    """The virtual authenticators of one tab; one is plugged in at a time."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        self.current = None

    def plug(self, credentials=()) -> str:
        """Unplug the current authenticator and plug a new one holding these credentials."""
        if self.current:
            self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.current})
        self.current = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR}
        )["authenticatorId"]
        for credential in credentials:
            self.cdp.send(
                "WebAuthn.addCredential",
                {"authenticatorId": self.current, "credential": credential},
            )
        return self.current

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.current})[
            "credentials"
        ]


def _add_key(page, label: str) -> None:
    page.goto("/account/factors")
    page.fill("#add-key input[name=label]", label)
    with page.expect_navigation():
        page.click("#add-key [data-webauthn-start]")
    expect(page.locator("body")).to_contain_text(label)


def _sign_out(page) -> None:
    if page.locator(".menu-button").is_visible():  # a phone: the header folds behind a menu
        page.click(".menu-button")
    follow(page, "form[action='/logout'] button")


def _password(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    follow(page, "button.primary")
    page.wait_for_url("**/login/factor")


def test_a_key_is_added_signs_in_and_once_removed_no_longer_does(
    open_page, site, server, axe_source
):
    site.user("noy")
    page = open_page("en", **DESKTOP)
    keys = Authenticators(page)
    sign_in(page, "noy")
    keys.plug()
    _add_key(page, "Laptop key")
    expect(page.locator(".flash").first).to_contain_text("The security key was added")
    shot(page, "security-key-added-en")
    laptop = keys.credentials()
    assert len(laptop) == 1 and laptop[0]["signCount"] >= 0

    _sign_out(page)
    _password(page, "noy")
    expect(page.locator("#use-key button")).to_have_text("Use your security key")
    assert axe_violations(page, axe_source) == []
    shot(page, "security-key-step-en")
    with page.expect_navigation():
        page.click("#use-key [data-webauthn-start]")
    page.wait_for_url(f"{server}/")
    expect(page.locator("header")).to_contain_text("Noy")

    keys.plug()  # a second key, on another device
    _add_key(page, "Phone passkey")
    page.locator("tr", has_text="Laptop key").locator("input[name=password]").fill(PASSWORD)
    follow(page, "tr:has-text('Laptop key') button.danger")
    expect(page.locator("table.entries")).to_contain_text("Phone passkey")
    expect(page.locator("table.entries")).not_to_contain_text("Laptop key")

    _sign_out(page)
    keys.plug(laptop)  # the removed key is plugged in: the browser finds nothing to sign
    _password(page, "noy")
    page.click("#use-key [data-webauthn-start]")
    expect(page.locator("#use-key [role=alert]")).to_contain_text("did not answer")
    assert page.url.endswith("/login/factor")
    assert "/login?" in page.goto("/").url  # still not signed in


def test_another_persons_key_does_not_open_an_account(open_page, site, server):
    site.user("noy")
    site.user("bee")
    noys_tab = open_page("en", **DESKTOP)
    noys = Authenticators(noys_tab)
    sign_in(noys_tab, "noy")
    noys.plug()
    _add_key(noys_tab, "Noy's key")
    page = open_page("en", **DESKTOP)
    bees = Authenticators(page)
    sign_in(page, "bee")
    bees.plug()
    _add_key(page, "Bee's key")
    _sign_out(page)
    bees.plug(noys.credentials())  # Bee holds Noy's key, not her own
    _password(page, "bee")
    page.click("#use-key [data-webauthn-start]")
    expect(page.locator("#use-key [role=alert]")).to_contain_text("did not answer")
    assert "/login?" in page.goto("/").url


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_key_pages_in_lao_pass_axe_and_fit_the_screen(open_page, site, server, axe_source, size):
    site.user("noy")
    viewport = {"desktop": DESKTOP, "phone": PHONE}[size]
    page = open_page("lo", **viewport)
    keys = Authenticators(page)
    sign_in(page, "noy")
    keys.plug()
    _add_key(page, "ກະແຈສີຟ້າ")
    assert axe_violations(page, axe_source) == []
    assert page_width(page) <= viewport["width"]
    shot(page, f"security-key-added-lo-{size}")
    _sign_out(page)
    _password(page, "noy")
    assert axe_violations(page, axe_source) == []
    assert page_width(page) <= viewport["width"]
    shot(page, f"security-key-step-lo-{size}")
    with page.expect_navigation():
        page.click("#use-key [data-webauthn-start]")
    page.wait_for_url(f"{server}/")


def test_an_administrator_resets_a_key_on_the_people_page(open_page, site, server):
    site.user("khamla", role=UserRole.SYSTEM_ADMIN)
    site.user("noy")
    page = open_page("lo", **DESKTOP)
    keys = Authenticators(page)
    sign_in(page, "noy")
    keys.plug()
    _add_key(page, "ກະແຈສີຟ້າ")
    console = open_page("lo", **DESKTOP)
    sign_in(console, "khamla")
    console.goto("/admin/users")
    row = console.locator("tr", has_text="Noy")
    expect(row.locator("form[action$='/reset-factors'] button")).to_have_text("ລຶບປັດໄຈທີສອງ")
    shot(console, "people-with-reset-button-lo")
    console.once("dialog", lambda dialog: dialog.accept())
    with console.expect_navigation():
        row.locator("form[action$='/reset-factors'] button").click()
    expect(console.locator(".flash").first).to_contain_text("Noy")
    expect(console.locator("form[action$='/reset-factors']")).to_have_count(0)
    shot(console, "people-reset-factor-lo")
    page.goto("/account/factors")
    expect(page.locator("input[name=username]")).to_be_visible()  # Noy was signed out
