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
# axe-core, installed by `npm ci` in this directory (./dev.sh test does it).
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
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

    def make(lang: str = "en", width: int = 1280, height: int = 900):
        context = chromium.new_context(
            base_url=server, locale=lang, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        missing(f"the accessibility checks need {AXE} (npm ci --prefix tests/web/browser)")
    return AXE.read_text()


def axe_violations(page, source: str) -> list[str]:
    """Run axe-core on the page as it is now; return one line per violation and element."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(source)  # evaluated, not a <script>: the page's CSP forbids inline code
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map((v) => [v.id, v.help, v.nodes.map((n) => n.target.join(' '))])",
        AXE_TAGS,
    )
    return [f"{rule} ({text}): {target}" for rule, text, targets in found for target in targets]


def page_width(page) -> int:
    """The width the page takes (more than the window means sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth")


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
