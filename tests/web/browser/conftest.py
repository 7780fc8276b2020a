"""Browser tests: the app on a live local server, driven by Debian's Chromium via Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium. Where CI=true, a missing
browser or Playwright fails the run; elsewhere those tests are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gshare.core.context import Gshare
from tests.helpers import missing, serving

CHROMIUM = "/usr/bin/chromium"
# How long a page may take to answer or an element to appear before a test fails (Playwright's
# default is 30 s): a bound for a busy machine, not a wait; every wait ends at its event.
TIMEOUT_MS = 60_000
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    """Mark every test under this directory as a browser test (-m "not browser" leaves them)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path):
    """Browser tests run on SQLite only; the views they drive are tested on both backends."""
    import shutil

    path = tmp_path / "gshare.db"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def gs(config, s3_store, scanner):
    """A gshare runtime with the real clamd, so uploads are scanned as they arrive."""
    runtime = Gshare(config, s3_store, scanner=scanner)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def server(app):
    """Serve the app on a free local port for the length of a test."""
    with serving(app) as httpd:
        yield f"http://127.0.0.1:{httpd.server_port}"


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("browser tests need the playwright package")
    if not Path(CHROMIUM).exists():
        missing(f"browser tests need {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, server):
    """Return a function opening a new browser window (own cookies) in a language."""
    contexts = []

    def make(lang: str = "en", width: int = 1280):
        context = chromium.new_context(
            base_url=server, locale=lang, viewport={"width": width, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    """Save a screenshot of the page under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, username: str, password: str = "correct horse battery") -> None:
    """Sign in through the form."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_url("**/")


def follow(page, selector: str) -> None:
    """Click a link and wait until the page it leads to has loaded: a click only starts the
    navigation, and reading the page before it ends reads the old one."""
    with page.expect_navigation():
        page.click(selector)
