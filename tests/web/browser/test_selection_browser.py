"""Several items at once in the browser: choose (one, a shift-click range, all), download as
one ZIP, move, copy, trash; rename in place with the keyboard; drag files onto a folder; a
refused move keeps the selection. Desktop 1366x768 and phone 390x844, English and Lao."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import expect

from gshare.core.actor import OPERATOR
from tests.web.browser.conftest import SCREENSHOTS, TIMEOUT_MS, sign_in

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def window(chromium, server):
    """Return a function opening a signed-out browser window of a size, in a language."""
    contexts = []

    def make(lang="en", size=DESKTOP):
        context = chromium.new_context(base_url=server, locale=lang, viewport=size)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def somsak_home(site):
    owner = site.user("somsak")
    home = site.home(owner)
    site.folder(home, "Archive")
    reports = site.folder(home, "ບົດລາຍງານ")
    site.upload(owner, reports, "q1.txt", b"first quarter")
    for name in ("a.txt", "b.txt", "c.txt"):
        site.upload(owner, home, name, name.encode())
    return home


def _signed_in(window, lang="en", size=DESKTOP):
    page = window(lang, size)
    sign_in(page, "somsak")
    page.goto("/my")
    return page


def _row(page, name):
    return page.locator("table.listing tbody tr", has=page.locator(f"td a:text-is('{name}')"))


def _shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_choose_a_range_with_shift_click_and_move_it_into_a_folder(
    site, somsak_home, window, tmp_path
):
    page = _signed_in(window)
    bar = page.locator(".selection-bar")
    expect(bar.locator(".selection-count")).to_have_text("0 chosen")
    expect(bar.get_by_role("button", name="Move…")).to_be_disabled()
    page.get_by_label("Choose a.txt").check()
    page.get_by_label("Choose c.txt").click(modifiers=["Shift"])
    expect(bar.locator(".selection-count")).to_have_text("3 chosen")
    expect(page.get_by_label("Choose b.txt")).to_be_checked()
    expect(page.get_by_label("Choose Archive")).not_to_be_checked()
    _shot(page, tmp_path, "selection-desktop-en")
    bar.get_by_role("button", name="Move…").click()
    expect(page.locator("h1")).to_have_text("Move 3 items to…")
    page.get_by_role("link", name="Archive").click()
    page.get_by_role("button", name="Move here").click()
    expect(page.locator(".flash")).to_have_text("Moved: a.txt, b.txt, c.txt.")
    expect(page.locator("table.listing a.file")).to_have_text(["a.txt", "b.txt", "c.txt"])
    _shot(page, tmp_path, "moved-desktop-en")


def test_choose_all_and_download_one_zip_in_lao(site, somsak_home, window, tmp_path):
    page = _signed_in(window, "lo")
    page.get_by_label("ເລືອກທັງໝົດ").check()
    expect(page.locator(".selection-count")).to_have_text("ເລືອກແລ້ວ 5 ລາຍການ")
    with page.expect_download() as download:
        page.locator(".selection-bar").get_by_role("button", name="ດາວໂຫຼດເປັນ ZIP").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert sorted(archive.namelist()) == [
        "Archive/",
        "a.txt",
        "b.txt",
        "c.txt",
        "ບົດລາຍງານ/q1.txt",
    ]
    expect(page.locator(".selection-count")).to_have_text("ເລືອກແລ້ວ 5 ລາຍການ")  # still chosen


def test_move_two_items_to_the_trash_after_confirming_in_lao(site, somsak_home, window, tmp_path):
    page = _signed_in(window, "lo")
    page.get_by_label("ເລືອກ ບົດລາຍງານ").check()
    page.get_by_label("ເລືອກ a.txt").check()
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.locator(".selection-bar").get_by_role("button", name="ຍ້າຍໄປຖັງຂີ້ເຫຍື້ອ").click()
    expect(page.locator(".flash")).to_have_text("ຍ້າຍໄປຖັງຂີ້ເຫຍື້ອແລ້ວ: ບົດລາຍງານ, a.txt.")
    assert questions == ["ຍ້າຍ 2 ລາຍການທີ່ເລືອກໄປຖັງຂີ້ເຫຍື້ອບໍ?"]
    expect(page.locator("table.listing td:nth-child(2) a")).to_have_text(
        ["Archive", "b.txt", "c.txt"]
    )
    _shot(page, tmp_path, "trashed-desktop-lo")


def test_rename_a_folder_in_place_with_the_keyboard(site, somsak_home, window, tmp_path):
    page = _signed_in(window)
    summary = _row(page, "ບົດລາຍງານ").locator("summary", has_text="Rename")
    summary.focus()
    page.keyboard.press("Enter")
    field = page.get_by_label("New name for ບົດລາຍງານ")
    expect(field).to_be_visible()
    field.fill("ລາຍງານ 2025")
    _shot(page, tmp_path, "rename-in-place-en")
    field.press("Enter")
    expect(page.locator(".flash")).to_have_text("Renamed to ລາຍງານ 2025.")
    expect(page.locator("a.folder", has_text="ລາຍງານ 2025")).to_be_visible()


def test_drag_chosen_files_onto_a_folder_moves_them(site, somsak_home, window, tmp_path):
    page = _signed_in(window)
    page.get_by_label("Choose a.txt").check()
    page.get_by_label("Choose b.txt").check()
    page.drag_and_drop("tr:has(a:text-is('a.txt')) a.file", "tr:has(a:text-is('Archive')) a.folder")
    expect(page.locator(".flash")).to_have_text("Moved: a.txt, b.txt.")
    expect(page.locator("table.listing a.file")).to_have_text(["c.txt"])


def test_a_refused_move_says_why_and_keeps_the_selection(site, somsak_home, window, tmp_path):
    page = _signed_in(window)
    archive_id = _row(page, "Archive").get_attribute("data-id")
    page.get_by_label("Choose a.txt").check()
    page.get_by_label("Choose b.txt").check()
    page.goto(f"/f/{archive_id}")
    page.set_input_files(
        "#pick-files", files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": b"another a"}]
    )
    expect(page.locator("a.file", has_text="a.txt")).to_be_visible()
    page.goto("/my")
    page.get_by_label("Choose a.txt").check()
    page.get_by_label("Choose b.txt").check()
    page.drag_and_drop("tr:has(a:text-is('b.txt')) a.file", "tr:has(a:text-is('Archive')) a.folder")
    expect(page.locator(".flash")).to_have_text("'a.txt' already exists in this folder.")
    expect(page.get_by_label("Choose a.txt")).to_be_checked()
    expect(page.get_by_label("Choose b.txt")).to_be_checked()
    expect(page.locator(".selection-count")).to_have_text("2 chosen")
    expect(page.locator("table.listing a.file")).to_have_text(["a.txt", "b.txt", "c.txt"])
    _shot(page, tmp_path, "refused-move-keeps-selection-en")


def test_the_selection_toolbar_on_a_phone_in_lao_and_english(site, somsak_home, window, tmp_path):
    for lang, choose, count, buttons in [
        ("lo", "ເລືອກ b.txt", "ເລືອກແລ້ວ 1 ລາຍການ", ["ດາວໂຫຼດເປັນ ZIP", "ຍ້າຍ…", "ສຳເນົາ…"]),
        ("en", "Choose b.txt", "1 chosen", ["Download as ZIP", "Move…", "Copy…"]),
    ]:
        page = _signed_in(window, lang, PHONE)
        page.get_by_label(choose).check()
        bar = page.locator(".selection-bar")
        expect(bar.locator(".selection-count")).to_have_text(count)
        for name in buttons:
            button = bar.get_by_role("button", name=name)
            expect(button).to_be_enabled()
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (name, box)
            assert box["height"] >= 44, (name, box)
        names = page.locator("table.listing td:nth-child(2) a")
        expect(names.first).to_be_visible()  # the names stay, whatever hides on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, tmp_path, f"selection-phone-{lang}")


IN_SIGHT = """(e) => { const r = e.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight; }"""


@pytest.mark.parametrize("view", ["list", "grid"])
def test_on_a_phone_the_selection_bar_covers_nothing_until_items_are_chosen(
    site, somsak_home, window, view
):
    for n in range(12):  # a list longer than the screen
        site.upload(OPERATOR, somsak_home, f"ບົດລາຍງານ {n:02}.txt", b"x")
    page = _signed_in(window, "lo", PHONE)
    bar = page.locator(".selection-bar")
    toggle = page.locator(".view-toggle")
    label = {"list": "ລາຍຊື່", "grid": "ຮູບຫຍໍ້"}[view]
    toggle.get_by_role("link", name=label).click()
    expect(toggle.locator("[aria-current=page]")).to_have_text(label)
    expect(page.locator("nav.main")).to_be_hidden()  # the page's scripts ran (menu folded)
    gap = toggle.bounding_box()["y"] - (bar.bounding_box()["y"] + bar.bounding_box()["height"])
    assert 0 <= gap <= 20, f"{gap}px of nothing above the List/Grid switch"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"folder-{view}-nothing-chosen-phone-lo.png"))
    page.get_by_label("ເລືອກ c.txt").scroll_into_view_if_needed()
    assert not bar.evaluate(IN_SIGHT)  # nothing chosen: the bar scrolled away with the page
    page.get_by_label("ເລືອກ a.txt").check()
    page.get_by_label("ເລືອກ b.txt").check()
    expect(bar.locator(".selection-count")).to_have_text("ເລືອກແລ້ວ 2 ລາຍການ")
    page.get_by_label("ເລືອກ c.txt").scroll_into_view_if_needed()
    assert bar.evaluate(IN_SIGHT)  # two chosen: the bar stays in sight as the list scrolls
    expect(bar.get_by_role("button", name="ຍ້າຍ…")).to_be_enabled()
    page.screenshot(path=str(SCREENSHOTS / f"folder-{view}-two-chosen-phone-lo.png"))
