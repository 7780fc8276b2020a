"""A photo folder as a grid of thumbnails, and the previews of a PDF, an image and a Lao text,
on a desk and on a phone, in Lao and English."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.web.browser.conftest import DESKTOP, PHONE, page_width, shot, sign_in
from tests.web.test_previews import word_document

SIZES = {"desktop": DESKTOP, "phone": PHONE}
LOADED = "(img) => img.complete && img.naturalWidth > 0"
TOGGLE = {"en": ("List", "Grid"), "lo": ("ລາຍຊື່", "ຮູບຫຍໍ້")}


def photo(colour, size=(1600, 1000), orientation=None) -> bytes:
    """A JPEG with a sky, a hill and a sun, so a thumbnail shows something."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((0, h * 2 // 3, w, h), fill=(40, 120, 50))
    draw.ellipse((w // 2, h // 8, w // 2 + h // 4, h // 8 + h // 4), fill=(250, 210, 40))
    draw.polygon([(0, h * 2 // 3), (w // 3, h // 3), (w * 2 // 3, h * 2 // 3)], fill=(70, 90, 80))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


def report_pdf(pages=3) -> bytes:
    """A PDF of a few A4 pages with a title bar, lines of 'text' and a page number."""
    drawn = []
    for n in range(1, pages + 1):
        page = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(page)
        draw.rectangle((100, 100, 1140, 220), fill=(26, 95, 180))
        draw.text((130, 140), f"Annual report 2025 - page {n}", fill="white", font_size=48)
        for line in range(14):
            y = 320 + line * 70
            draw.rectangle((130, y, 130 + (900 if line % 4 else 600), y + 24), fill=(190, 195, 200))
        draw.text((600, 1650), str(n), fill="black", font_size=40)
        drawn.append(page)
    out = io.BytesIO()
    drawn[0].save(out, "PDF", save_all=True, append_images=drawn[1:], resolution=150)
    return out.getvalue()


def _photo_folder(site):
    owner = site.user("somsak", "ກົມແຜນການ ແລະ ການເງິນ")
    folder = site.folder(site.home(owner), "ຮູບພາບກອງປະຊຸມ 2025")
    site.folder(folder, "ງານບຸນ")
    files = {
        "river": site.upload(owner, folder, "ແມ່ນ້ຳຂອງ.jpg", photo((120, 170, 230))),
        "sunset": site.upload(owner, folder, "sunset_vientiane.jpg", photo((240, 140, 90))),
        "portrait": site.upload(owner, folder, "ພາບຄົນ.jpg", photo((150, 200, 240), orientation=6)),
        "report": site.upload(owner, folder, "ບົດລາຍງານ.pdf", report_pdf()),
        "notes": site.upload(
            owner,
            folder,
            "ບັນທຶກກອງປະຊຸມ.txt",
            "ບັນທຶກກອງປະຊຸມ ວັນທີ 30/11/2025\n\n1. ກົມແຜນການ ແລະ ການເງິນ ລາຍງານ <ຄວາມຄືບໜ້າ>.\n"
            "2. ພະແນກໄອທີ ຈະຍ້າຍຂໍ້ມູນໄປ G-Share.\n".encode(),
        ),
    }
    files["minutes"] = site.upload(owner, folder, "ບົດບັນທຶກ.docx", word_document())
    return folder, files


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["lo", "en"])
def test_a_photo_folder_shows_as_a_grid_of_thumbnails(site, open_page, lang, size):
    folder, files = _photo_folder(site)
    page = open_page(lang, **SIZES[size])
    sign_in(page, "somsak")
    page.goto(f"/f/{folder.id}")
    expect(page.locator("table.listing")).to_be_visible()
    list_label, grid_label = TOGGLE[lang]
    page.get_by_role("link", name=grid_label, exact=True).click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?view=grid", timeout=10_000)
    expect(page.locator("ul.grid li.tile")).to_have_count(7)
    pictures = page.locator("ul.grid img.tile-picture")
    expect(pictures).to_have_count(4)  # three photos and the PDF; not the folder, text, Word
    for i in range(4):
        expect(pictures.nth(i)).to_be_visible()
        pictures.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(LOADED, arg=pictures.nth(i).element_handle(), timeout=30_000)
    portrait = page.locator("li.tile", has_text="ພາບຄົນ.jpg").locator("img")
    width, height = portrait.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert height > width, "the portrait photo is turned as its EXIF says"
    assert page_width(page) <= SIZES[size]["width"]
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, f"previews-grid-{lang}-{size}")

    tile = page.locator("li.tile", has_text="ແມ່ນ້ຳຂອງ.jpg").locator("a.tile-link")
    tile.focus()
    expect(tile).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("ແມ່ນ້ຳຂອງ.jpg")
    page.go_back()
    page.get_by_role("link", name=list_label, exact=True).click()
    expect(page.locator("table.listing")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["lo", "en"])
def test_pdf_image_text_and_word_previews(site, open_page, lang, size):
    _, files = _photo_folder(site)
    page = open_page(lang, **SIZES[size])
    sign_in(page, "somsak")

    page.goto(f"/files/{files['report'].node_id}")
    pages = page.locator(".preview.pdf-pages img")
    expect(pages).to_have_count(3)
    page.wait_for_function(LOADED, arg=pages.first.element_handle(), timeout=30_000)
    assert pages.first.evaluate("(img) => img.naturalWidth") >= 900
    expect(page.locator("iframe")).to_have_count(0)
    assert page_width(page) <= SIZES[size]["width"]
    shot(page, f"previews-pdf-{lang}-{size}")

    page.goto(f"/files/{files['sunset'].node_id}")
    image = page.locator(".preview img")
    page.wait_for_function(LOADED, arg=image.element_handle(), timeout=30_000)
    assert page_width(page) <= SIZES[size]["width"]
    shot(page, f"previews-image-{lang}-{size}")

    page.goto(f"/files/{files['notes'].node_id}")
    text = page.locator(".preview pre.text-preview")
    expect(text).to_contain_text("ກົມແຜນການ ແລະ ການເງິນ ລາຍງານ <ຄວາມຄືບໜ້າ>.")
    assert "Noto Sans Lao" in text.evaluate("(pre) => getComputedStyle(pre).fontFamily")
    assert page_width(page) <= SIZES[size]["width"]
    shot(page, f"previews-text-{lang}-{size}")

    page.goto(f"/files/{files['minutes'].node_id}")
    expect(page.locator(".preview pre.text-preview")).to_contain_text("ງົບປະມານ\t1.000.000 ກີບ")
    shot(page, f"previews-word-{lang}-{size}")
