"""What every page looks like to a keyboard, a screen reader and a phone: axe-core finds
nothing, nothing is wider than the screen, Lao words stay whole, the menu and the skip link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gshare.core.actor import OPERATOR
from gshare.core.models import ScanState, User, UserRole, Version, utcnow
from gshare.files import trash
from gshare.org import users
from gshare.scanning import verdicts
from gshare.sharing import grants, links
from tests.fixtures.world import PASSWORD
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    page_width,
    shot,
    sign_in,
)
from tests.web.browser.test_previews_browser import photo, report_pdf

SIZES = {"desktop": DESKTOP, "phone": PHONE}


def _office(site):
    """An administrator with files, a subfolder, a share, links, trash, a quarantined file,
    a notice, and colleagues with long Lao names; return the pages a person visits."""
    admin = site.user("khamla", "ກົມແຜນການ ແລະ ການເງິນ", role=UserRole.SYSTEM_ADMIN)
    site.run(
        lambda w: users.add_user(
            w.ctx,
            OPERATOR,
            "souksavanh",
            "ສຸກສະຫວັນ ພົມມະວົງສາ",
            w.department("ກົມແຜນການ ແລະ ການເງິນ"),
            password=PASSWORD,
        )
    )
    home = site.home(admin)
    folder = site.folder(home, "ບົດລາຍງານປະຈຳປີ 2025 ຂອງກົມແຜນການ")
    version = site.upload(admin, folder, "ບົດລາຍງານ_ຂະໜາດໃຫຍ່_ສະບັບສົມບູນ_final_v3.pdf", b"%PDF-1.4\n")
    site.upload(admin, folder, "ບົດລາຍງານ_ຂະໜາດໃຫຍ່_ສະບັບສົມບູນ_final_v3.pdf", b"%PDF-1.4\n2")
    photos = site.folder(home, "ຮູບພາບ")
    picture = site.upload(admin, photos, "ແມ່ນ້ຳຂອງ.jpg", photo((120, 170, 230)))
    document = site.upload(admin, photos, "ບົດລາຍງານ.pdf", report_pdf(2))
    notes = site.upload(admin, photos, "ບັນທຶກ.txt", "ບັນທຶກກອງປະຊຸມ\n".encode() * 40)
    gone = site.upload(admin, home, "old.txt", b"old")
    bad = site.upload(admin, home, "virus.txt", b"x", clean=False)

    def setup(w):
        verdicts.record_verdict(
            w.ctx, w.ctx.db.get(Version, bad.id), ScanState.INFECTED, "Eicar-Test"
        )
        trash.delete_node(w.ctx, w.ctx.db.merge(admin), gone.node_id)
        planning = w.department("ກົມແຜນການ ແລະ ການເງິນ")
        # a long full name, as the share form's department list shows it (it made 567px)
        w.department("ພະແນກແຜນການ ແລະ ການລົງທຶນ ແຂວງຫຼວງພະບາງ ແລະ ແຂວງອຸດົມໄຊ", planning)
        grants.grant_role(w.ctx, w.ctx.db.merge(admin), folder.id, "viewer", department=planning)
        view = links.create_link(w.ctx, w.ctx.db.merge(admin), folder.id, "view")[1]
        upload = links.create_link(w.ctx, w.ctx.db.merge(admin), folder.id, "upload")[1]
        guarded = links.create_link(
            w.ctx, w.ctx.db.merge(admin), folder.id, "view", "a long password"
        )[1]
        limited = links.create_link(
            w.ctx,
            w.ctx.db.merge(admin),
            folder.id,
            "view",
            expires_at=utcnow() + timedelta(days=30),
            max_downloads=5,
        )[1]
        # a share to the administrator: a notice on their notices page, "via" on Shared with me
        colleague = w.ctx.db.scalar(select(User).where(User.username == "souksavanh"))
        theirs = w.folder(w.home(colleague), "ແຜນງານຂອງພະແນກ", actor=colleague)
        grants.grant_role(w.ctx, colleague, theirs.id, "editor", user=w.ctx.db.merge(admin))
        return view, upload, guarded, limited

    view, upload, guarded, limited = site.run(setup)
    person = {
        "start": "/",
        "my-files": "/my",
        "folder": f"/f/{folder.id}",
        "search": f"/f/{folder.id}/search?q=ບົດລາຍງານ",
        "search-everywhere": "/search?q=ບົດລາຍງານ 2025",
        "file-and-versions": f"/files/{version.node_id}",
        "folder-grid": f"/f/{photos.id}?view=grid",
        "pdf-preview": f"/files/{document.node_id}",
        "image-preview": f"/files/{picture.node_id}",
        "text-preview": f"/files/{notes.node_id}",
        "share-and-links": f"/nodes/{folder.id}/share",
        "move": f"/nodes/{version.node_id}/move",
        "shared-with-me": "/shared",
        "shared-with-department": "/shared/department",
        "department-spaces": "/spaces",
        "trash": f"/spaces/{home.space_id}/trash",
        "notices": "/notifications",
        "account": "/account",
        "sessions": "/account/sessions",
        "second-factor": "/account/factors",
        "access-keys": "/account/keys",
        "admin": "/admin/",
        "people": "/admin/users",
        "departments": "/admin/departments",
        "quotas": "/admin/spaces",
        "quarantine": "/admin/quarantine",
        "audit-log": "/admin/audit",
    }
    outsider = {
        "sign-in": "/login",
        "link-view": f"/s/{view}",
        "link-upload": f"/s/{upload}",
        "link-password": f"/s/{guarded}",
        "link-expiry-limit-zip": f"/s/{limited}",
    }
    return person, outsider


SMALL_TARGETS = """() => [...document.querySelectorAll(
    "button, .button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    + " header a, nav a, table a, ul.list a")]
  .filter((e) => e.getClientRects().length && e.getBoundingClientRect().height < 44)
  .map((e) => e.outerHTML.slice(0, 80))"""


def _problems(page, name, axe_source, width, tmp_path, lang):
    """What is wrong with the page shown: axe's violations, sideways scrolling, the h1."""
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    found = [f"{name}: {v}" for v in axe_violations(page, axe_source)]
    wide = page_width(page)
    if wide > width:
        found.append(f"{name}: {wide}px wide on a {width}px screen")
    if width < 600:
        found += [f"{name}: a tap target under 44px: {e}" for e in page.evaluate(SMALL_TARGETS)]
    if page.locator("h1").count() != 1:
        found.append(f"{name}: {page.locator('h1').count()} h1 headings")
    if page.locator("html").get_attribute("lang") != lang:
        found.append(f"{name}: <html lang> is not {lang}")
    return found


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["lo", "en"])
def test_every_page_passes_axe_and_fits_the_screen(
    site, open_page, axe_source, tmp_path, lang, size
):
    person, outsider = _office(site)
    viewport = SIZES[size]
    page = open_page(lang, **viewport)
    sign_in(page, "khamla")
    stranger = open_page(lang, **viewport)
    problems = []
    for visitor, pages in ((page, person), (stranger, outsider)):
        for name, path in pages.items():
            answer = visitor.goto(path)
            assert answer.ok, f"{name}: {path} answered {answer.status}"
            problems += _problems(visitor, name, axe_source, viewport["width"], tmp_path, lang)
    print(f"screenshots in {tmp_path}")
    assert not problems, "\n".join(problems)


FOCUSED = "() => document.activeElement.textContent.trim() || document.activeElement.id"
RING = "() => getComputedStyle(document.activeElement).boxShadow"


def test_keyboard_skips_to_the_content_and_opens_the_file_picker(site, open_page, tmp_path):
    site.user("somsak")
    (tmp_path / "ແຜນງານ.txt").write_text("ແຜນ")
    page = open_page("en", **DESKTOP)
    # Listening from the start has Playwright catch file choosers before the first one opens.
    page.on("filechooser", lambda chooser: None)
    sign_in(page, "somsak")
    page.goto("/my")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 20, "the focused skip link is on screen"
    assert page.evaluate(RING) != "none", "the focused element has a visible ring"
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    stops = []
    while page.evaluate(FOCUSED) != "Choose files":
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        assert len(stops) < 12, stops
    page.screenshot(path=str(tmp_path / "choose-files-focused.png"))
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(tmp_path / "ແຜນງານ.txt"))
    expect(page.locator("table.entries a.file", has_text="ແຜນງານ.txt")).to_be_visible()
    page.locator("button.pick", has_text="Choose a folder").focus()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    assert chooser.value.is_multiple()


def test_phone_header_is_one_line_and_its_menu_opens(site, open_page, tmp_path):
    site.user("somsak")
    page = open_page("lo", **PHONE)
    sign_in(page, "somsak")
    page.goto("/my")
    header = page.locator("header.top")
    button = page.locator("button.menu-button")
    nav = page.locator("nav.main")
    assert header.bounding_box()["height"] <= 70
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    page.keyboard.press("Tab")  # the skip link, the brand, the menu button, then the content
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    page.screenshot(path=str(tmp_path / "menu-open-lao-phone.png"), full_page=True)
    links = page.locator("#menu a, #menu button")
    for i in range(links.count()):
        assert links.nth(i).bounding_box()["height"] >= 44, links.nth(i).inner_text()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()
    button.click()
    page.locator("nav.main a", has_text="ແບ່ງປັນໃຫ້ຂ້ອຍ").click()
    expect(page).to_have_url(re.compile(r"/shared$"))


HEADER_ROWS = """() => [...document.querySelectorAll(
  "header.top a, header.top button, header.top input")]
  .filter((e) => e.getClientRects().length)
  .map((e) => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); })"""


def test_lao_desktop_header_is_one_line_and_more_opens(site, open_page):
    admin = site.user("khamla", "ກົມແຜນການ ແລະ ການເງິນ", role=UserRole.SYSTEM_ADMIN)
    site.run(lambda w: setattr(w.ctx.db.merge(admin), "display_name", "ຄຳລາ ພົມມະວົງ"))
    page = open_page("lo", **DESKTOP)
    sign_in(page, "khamla")
    page.goto("/my")
    expect(page.locator("nav.main a", has_text="ບໍລິຫານລະບົບ")).to_be_visible()
    middles = page.evaluate(HEADER_ROWS)
    shot(page, "header-lao-desktop")
    assert max(middles) - min(middles) <= 12, f"the header takes several lines: {middles}"
    shot(page, "header-lao-desktop")
    more = page.locator("button.more-button")
    keys = page.locator("header a.keys-link")
    expect(keys).to_be_hidden()
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(keys).to_be_visible()
    expect(page.locator("header a.sessions-link")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "header-more-open-lao-desktop.png"))
    page.keyboard.press("Escape")
    expect(keys).to_be_hidden()
    expect(more).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(keys).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/account/keys$"))


LINES = """(cell) => { const range = document.createRange(); range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""


@pytest.mark.parametrize("size", SIZES)
def test_tables_show_every_column_and_lao_names_stay_whole(site, open_page, tmp_path, size):
    person, _ = _office(site)
    page = open_page("lo", **SIZES[size])
    sign_in(page, "khamla")
    page.goto(person["people"])
    name = page.locator("td", has_text="ສຸກສະຫວັນ ພົມມະວົງສາ")
    expect(name).to_be_visible()
    assert page.evaluate(LINES, name.element_handle()) == 1, "the name is on one line"
    page.screenshot(path=str(tmp_path / f"people-lao-{size}.png"), full_page=True)
    page.goto(person["quarantine"])
    expect(page.locator("td", has_text="Eicar-Test")).to_be_visible()
    page.goto(person["share-and-links"])
    expect(page.locator("td", has_text="ຜູ້ເບິ່ງ")).to_be_visible()
    page.goto(person["departments"])
    expect(page.locator("td.actions button").first).to_be_visible()
    assert page_width(page) <= SIZES[size]["width"]
