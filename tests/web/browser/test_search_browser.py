"""The header's search box, as a person uses it in Chromium: on a desk and on a phone (inside
the menu), in Lao and English; each hit says where it is and opens its folder."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gshare.sharing import grants
from tests.web.browser.conftest import DESKTOP, PHONE, page_width, shot, sign_in

LONG = "ບົດລາຍງານກອງປະຊຸມປະຈຳປີຂອງກົມແຜນການແລະການເງິນສະບັບສົມບູນທີ່ມີຊື່ຍາວຫຼາຍ.pdf"


def _files(site):
    somsak = site.user("somsak")
    kham = site.user("kham", department="Health")
    plans = site.folder(site.home(somsak), "ແຜນການ 2026")
    site.upload(somsak, plans, "2026 Annual Report.pdf", b"%PDF-1.4\n")
    site.upload(somsak, plans, LONG, b"%PDF-1.4\n")
    joint = site.folder(site.home(kham), "ໂຄງການຮ່ວມ")
    site.upload(kham, joint, "ບົດລາຍງານ ສາທາລະນະສຸກ.docx", b"doc")
    site.upload(kham, site.home(kham), "ບົດລາຍງານ ສ່ວນຕົວ.docx", b"private")
    site.run(lambda w: grants.grant_role(w.ctx, kham, joint.id, "viewer", user=somsak))
    return plans


@pytest.mark.parametrize("lang", ["en", "lo"])
def test_header_search_finds_words_in_any_order_and_opens_the_folder(site, open_page, lang):
    plans = _files(site)
    page = open_page(lang, **DESKTOP)
    sign_in(page, "somsak")
    box = page.locator("header .header-search input[type=search]")
    expect(box).to_be_visible()
    box.fill("report 2026")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    hit = page.locator("ul.hits li", has_text="2026 Annual Report.pdf")
    expect(hit).to_be_visible()
    expect(hit.locator(".where")).to_have_text("Somsak › ແຜນການ 2026")
    shot(page, f"search-words-any-order-{lang}-desktop")
    hit.locator(".where a").click()
    expect(page).to_have_url(re.compile(rf"/f/{plans.id}$"))


def test_lao_search_finds_shares_but_not_a_strangers_own_files(site, open_page):
    _files(site)
    page = open_page("lo", **DESKTOP)
    sign_in(page, "somsak")
    page.locator("header .header-search input[type=search]").fill("ບົດລາຍງານ")
    page.locator("header .header-search button").click()
    expect(page.locator("ul.hits li", has_text="ບົດລາຍງານ ສາທາລະນະສຸກ.docx")).to_be_visible()
    expect(page.locator("ul.hits li", has_text=LONG)).to_be_visible()
    expect(page.locator("ul.hits li", has_text="ສ່ວນຕົວ")).to_have_count(0)
    shot(page, "search-lao-desktop")


@pytest.mark.parametrize("lang", ["lo", "en"])
def test_phone_search_is_in_the_menu_and_long_lao_names_fit(site, open_page, lang):
    _files(site)
    page = open_page(lang, **PHONE)
    sign_in(page, "somsak")
    box = page.locator("header .header-search input[type=search]")
    expect(box).to_be_hidden()  # behind the menu button
    page.locator("button.menu-button").click()
    expect(box).to_be_visible()
    assert box.bounding_box()["height"] >= 44
    assert page.locator("header .header-search button").bounding_box()["height"] >= 44
    shot(page, f"search-menu-open-{lang}-phone")
    box.fill("ບົດລາຍງານ")
    box.press("Enter")
    expect(page.locator("ul.hits li", has_text=LONG)).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    shot(page, f"search-results-{lang}-phone")


# Where the browser broke a name into lines, and where Lao words end (Intl.Segmenter, which
# uses the same ICU dictionary as the line breaker): every break must be between words.
BREAKS = """(el) => {
  const text = el.textContent, breaks = [];
  const range = document.createRange();
  let top = null;
  for (let i = 0; i < text.length; i++) {
    range.setStart(el.firstChild, i); range.setEnd(el.firstChild, i + 1);
    const rect = range.getClientRects()[0];
    if (!rect) continue;
    if (top !== null && Math.round(rect.top) > top + 2) breaks.push(i);
    top = Math.round(rect.top);
  }
  const words = [...new Intl.Segmenter('lo', {granularity: 'word'}).segment(text)]
    .map((s) => s.index);
  return {breaks, words};
}"""


@pytest.mark.parametrize("where", ["search", "folder"])
def test_a_long_lao_name_breaks_between_words_on_a_phone(site, open_page, where):
    plans = _files(site)
    page = open_page("lo", **PHONE)
    sign_in(page, "somsak")
    page.goto("/search?q=ກອງປະຊຸມ" if where == "search" else f"/f/{plans.id}")
    name = page.locator("a.file", has_text=LONG)
    expect(name).to_be_visible()
    found = page.evaluate(BREAKS, name.element_handle())
    assert found["breaks"], "the name is longer than one line on a phone"
    assert set(found["breaks"]) <= set(found["words"]), found
    assert page_width(page) <= PHONE["width"]
    shot(page, f"long-lao-name-{where}-lo-phone")
