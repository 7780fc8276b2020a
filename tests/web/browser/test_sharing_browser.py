"""Sharing in the browser: pick a person by part of a Lao name with the keyboard, share, and
they see the notice and the item under Shared with me; a department share says "via ...";
a link's copy button puts it on the clipboard, its QR code shows, and it is shown again after
a reload; the outsider sees the expiry and a ZIP of the folder. Desktop 1366x768 and phone
390x844, Lao and English; axe-core on every page visited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from gshare.core.actor import OPERATOR
from gshare.core.models import utcnow
from gshare.org import users
from tests.fixtures.world import PASSWORD
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    axe_violations,
    page_width,
    shot,
    sign_in,
)

SIZES = {"desktop": DESKTOP, "phone": PHONE}
WORDS = {
    "en": {
        "share": "Share",
        "via": "via ກົມແຜນການ",
        "shared": "Owner shared “ແຜນງານ 2026” with you",
        "unknown": "No active person or department is called “ບໍ່ມີຜູ້ນີ້”",
        "copied": "Copied",
        "until": "This link works until",
        "zip": "Download everything as ZIP",
    },
    "lo": {
        "share": "ແບ່ງປັນ",
        "via": "ຜ່ານ ກົມແຜນການ",
        "shared": "Owner ໄດ້ແບ່ງປັນ “ແຜນງານ 2026” ໃຫ້ທ່ານ",
        "unknown": "ບໍ່ມີບຸກຄົນ ຫຼື ໜ່ວຍງານທີ່ໃຊ້ງານຢູ່ຊື່ “ບໍ່ມີຜູ້ນີ້”",
        "copied": "ສຳເນົາແລ້ວ",
        "until": "ລິ້ງນີ້ໃຊ້ໄດ້ຮອດ",
        "zip": "ດາວໂຫຼດທັງໝົດເປັນ ZIP",
    },
}


@pytest.fixture
def window(chromium, server):
    """Return a function opening a signed-out browser window of a size, in a language."""
    contexts = []

    def make(lang, size):
        context = chromium.new_context(base_url=server, locale=lang, viewport=size)
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def office(site):
    """The owner's folder with a clean file; Somsak (a Lao name) in Planning; Noy in the
    ministry department ກົມແຜນການ."""
    owner = site.user("owner", "Finance")

    def people(w):
        planning = w.department("Planning")
        users.add_user(w.ctx, OPERATOR, "somsak", "ສົມສັກ ພົມມະວົງ", planning, password=PASSWORD)
        unit = w.department("ກົມແຜນການ")
        users.add_user(w.ctx, OPERATOR, "noy", "ນ້ອຍ ສີສຸວັນ", unit, password=PASSWORD)

    site.run(people)
    folder = site.folder(site.home(owner), "ແຜນງານ 2026")
    site.upload(owner, folder, "ງົບປະມານ.txt", b"budget lines")
    return folder


def _checked(page, name, size, problems):
    """Take a screenshot and note what axe and the width check find on the page as it is."""
    shot(page, name)
    problems += [f"{name}: {v}" for v in axe_violations(page, page.axe)]
    if page_width(page) > SIZES[size]["width"]:
        problems.append(f"{name}: {page_width(page)}px wide")


def _pick(page, typed, expected):
    """Type part of a name in the picker, move to the suggestion with the keyboard, Enter."""
    box = page.locator("#who")
    box.fill("")
    box.press_sequentially(typed)
    option = page.locator("#who-list [role=option]", has_text=expected)
    expect(option).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["en", "lo"])
def test_share_by_picking_a_lao_name_then_links_copy_qr_and_zip(
    office, window, axe_source, lang, size
):
    words, problems, tag = WORDS[lang], [], f"{lang}-{size}"
    owner = window(lang, SIZES[size])
    owner.axe = axe_source
    sign_in(owner, "owner")
    share_path = f"/nodes/{office.id}/share"
    owner.goto(share_path)

    # a name nobody has: the form comes back as typed, with a sentence
    owner.locator("#who").fill("ບໍ່ມີຜູ້ນີ້")
    owner.locator("form.share-form button.primary").click()
    expect(owner.locator("#who-problem")).to_contain_text(words["unknown"])
    expect(owner.locator("#who")).to_have_value("ບໍ່ມີຜູ້ນີ້")
    _checked(owner, f"share-unknown-name-{tag}", size, problems)

    # part of a Lao family name, chosen with the arrow key and Enter
    _pick(owner, "ພົມມະ", "ສົມສັກ ພົມມະວົງ")
    _checked(owner, f"share-picker-open-{tag}", size, problems)
    owner.locator("#who").press("Enter")
    expect(owner.locator("#who")).to_have_value("ສົມສັກ ພົມມະວົງ")
    expect(owner.locator("#who-list")).to_be_hidden()
    owner.locator("form.share-form button.primary").click()
    expect(owner.locator("table.entries")).to_contain_text("ສົມສັກ ພົມມະວົງ (somsak)")

    # a department, found by part of its name
    _pick(owner, "ແຜນການ", "ກົມແຜນການ")
    owner.locator("#who").press("Enter")
    owner.locator("form.share-form button.primary").click()
    expect(owner.locator("table.entries")).to_contain_text("ກົມແຜນການ")

    # a link: listed with its settings, copied, its QR code shown, and shown again later
    day = (utcnow() + timedelta(days=30)).strftime("%d/%m/%Y")
    owner.locator("input[name=expires]").fill(day)
    owner.locator("input[name=max_downloads]").fill("5")
    owner.locator("form[action$='/links'] button.primary").click()
    item = owner.locator("li.link-item").first
    address = item.locator("input[readonly]").input_value()
    assert "/s/" in address
    expect(item.locator(".qr svg")).to_be_visible()
    item.locator("button.copy").click()
    expect(item.locator(".copy-state")).to_have_text(words["copied"])
    assert owner.evaluate("navigator.clipboard.readText()") == address
    _checked(owner, f"share-link-copied-{tag}", size, problems)
    owner.reload()
    item = owner.locator("li.link-item").first
    expect(item.locator("input[readonly]")).to_have_value(address)
    item.locator("summary").click()
    expect(item.locator(".qr svg")).to_be_visible()

    # Somsak: the notice, in his language, with a link; the folder under Shared with me
    somsak = window(lang, SIZES[size])
    somsak.axe = axe_source
    sign_in(somsak, "somsak")
    expect(somsak.locator(".notices-link .count")).to_have_text("1")
    somsak.goto("/notifications")
    notice = somsak.locator("li.notice", has_text=words["shared"])
    expect(notice).to_be_visible()
    _checked(somsak, f"notice-of-a-share-{tag}", size, problems)
    with somsak.expect_navigation():
        notice.locator("a.open").click()
    expect(somsak.locator("h1")).to_contain_text("ແຜນງານ 2026")
    somsak.goto("/shared")
    expect(somsak.locator("main")).to_contain_text("ແຜນງານ 2026")

    # Noy: the department's share, with the department named
    noy = window(lang, SIZES[size])
    noy.axe = axe_source
    sign_in(noy, "noy")
    noy.goto("/shared")
    row = noy.locator("tr", has_text="ແຜນງານ 2026")
    expect(row).to_contain_text(words["via"])
    _checked(noy, f"shared-with-me-via-department-{tag}", size, problems)

    # the outsider: the expiry, and the whole folder as one ZIP
    outsider = window(lang, SIZES[size])
    outsider.axe = axe_source
    outsider.goto(address)
    expect(outsider.locator(".link-expiry")).to_contain_text(words["until"])
    expect(outsider.locator(".link-expiry")).to_contain_text(day)
    zip_button = outsider.locator("a.button", has_text=words["zip"])
    expect(zip_button).to_be_visible()
    _checked(outsider, f"link-page-expiry-zip-{tag}", size, problems)
    with outsider.expect_download() as download:
        zip_button.click()
    assert download.value.suggested_filename == "ແຜນງານ 2026.zip"
    assert not problems, "\n".join(problems)


def test_without_the_clipboard_api_the_copy_button_selects_the_address(office, window):
    """On a plain-http intranet address browsers offer no navigator.clipboard: the button then
    selects the address and says how to copy it."""
    page = window("en", PHONE)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    sign_in(page, "owner")
    page.goto(f"/nodes/{office.id}/share")
    page.locator("form[action$='/links'] button.primary").click()
    item = page.locator("li.link-item").first
    expect(item.locator("input[readonly]")).to_have_value(re.compile(r"/s/"))
    item.locator("button.copy").click()
    expect(item.locator(".copy-state")).to_have_text("Selected: press Ctrl+C to copy")
    expect(item.locator("input[readonly]")).to_be_focused()
    selected = page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.value.slice(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == item.locator("input[readonly]").input_value()
    shot(page, "share-link-copy-fallback-en-phone")
