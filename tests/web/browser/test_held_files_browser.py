"""An infected upload's page shows only its state, in English and Lao; a preview whose bytes
cannot be read shows one sentence inside the preview box."""

from __future__ import annotations

import base64

from playwright.sync_api import expect

from gshare.core.models import Version
from tests.fixtures.clamd import eicar_bytes
from tests.web.browser.conftest import sign_in

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_an_infected_file_offers_nothing_but_its_state(site, open_page, tmp_path):
    site.user("somsak")
    (tmp_path / "eicar.txt").write_bytes(eicar_bytes())
    page = open_page(width=1366)
    sign_in(page, "somsak")
    page.goto("/my")
    page.set_input_files("#pick-files", str(tmp_path / "eicar.txt"))
    row = page.locator("table.listing tr", has=page.locator(".badge.scan-infected"))
    expect(row.locator("a.file")).to_have_text("eicar.txt")
    expect(row.get_by_role("checkbox")).to_have_count(0)
    expect(row.get_by_role("link", name="Download")).to_have_count(0)
    row.locator("a.file").click()
    expect(page.locator(".held-state")).to_contain_text(
        "This file was found infected and is quarantined."
    )
    for name in ("Download", "Share", "Move", "Copy", "Move to trash", "Rename"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.locator(".preview")).to_have_count(0)
    _shot(page, tmp_path, "infected-file-en")
    page.click("button[value=lo]")
    expect(page.locator(".held-state")).to_contain_text("ໄຟລ໌ນີ້ພົບວ່າມີໄວຣັສ ແລະ ຖືກກັກກັນໄວ້.")
    _shot(page, tmp_path, "infected-file-lo")


def test_a_preview_that_fails_says_so_inside_its_box(site, gs, open_page, tmp_path):
    owner = site.user("somsak")
    image = site.upload(owner, site.home(owner), "ແຜນທີ່.png", PNG)
    text = site.upload(owner, site.home(owner), "notes.txt", "ບັນທຶກ".encode())
    for version in (image, text):  # the bytes are gone from the store: the preview cannot load
        gs.store.delete(site.run(lambda w, v=version: w.ctx.db.get(Version, v.id).blob_key))
    page = open_page(width=1366)
    sign_in(page, "somsak")
    page.goto(f"/files/{image.node_id}")
    expect(page.locator(".preview .preview-failed")).to_have_text("This preview cannot be shown.")
    _shot(page, tmp_path, "image-preview-failed-en")
    page.goto(f"/files/{text.node_id}")
    expect(page.locator(".preview .preview-failed")).to_have_text("This preview cannot be shown.")
    expect(page.locator(".preview header")).to_have_count(0)
    _shot(page, tmp_path, "text-preview-failed-en")
