"""Thumbnails and previews on the web: the same access and scan gate as a download, 404
otherwise; a grid of thumbnails; PDF pages as pictures; text in the page, escaped."""

from __future__ import annotations

import io

import docx

from gshare.core.models import ScanState, Version
from tests.fixtures.world import mark_scanned
from tests.gshare.test_thumbnails import image_bytes, jpeg, pdf

EN = {"Accept-Language": "en"}


def _thumb(version) -> str:
    return f"/files/{version.node_id}/thumbnail/{version.id}"


def test_the_owner_and_a_member_after_the_scan_see_the_thumbnail_a_stranger_gets_404(
    site, browser_for
):
    owner, member = site.user("owner"), site.user("member")
    stranger = site.user("stranger", department="Health")
    photos = site.folder(site.department_root("Finance"), "Photos")
    version = site.upload(owner, photos, "river.jpg", jpeg(), clean=False)

    assert browser_for(owner).get(_thumb(version)).status_code == 404  # pending: none yet
    assert browser_for(member).get(_thumb(version)).status_code == 404

    site.run(lambda w: mark_scanned(w.ctx.db.get(Version, version.id), ScanState.CLEAN))
    for person in (owner, member):
        answer = browser_for(person).get(_thumb(version))
        assert answer.status_code == 200, person.username
        assert answer.mimetype == "image/webp"
        assert answer.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert browser_for(stranger).get(_thumb(version)).status_code == 404
    assert (
        browser_for(stranger).get(f"/files/{version.node_id}/pages/{version.id}/1").status_code
        == 404
    )


def test_a_pending_file_s_thumbnail_is_404_to_others_and_to_its_uploader(site, browser_for):
    owner, member = site.user("owner"), site.user("member")
    photos = site.folder(site.department_root("Finance"), "Photos")
    clean = site.upload(owner, photos, "clean.jpg", jpeg())
    pending = site.upload(owner, photos, "pending.jpg", jpeg(), clean=False)
    assert browser_for(member).get(_thumb(clean)).status_code == 200
    assert browser_for(member).get(_thumb(pending)).status_code == 404
    assert browser_for(owner).get(_thumb(pending)).status_code == 404
    listing = browser_for(owner).get(f"/f/{photos.id}?view=grid", headers=EN).get_data(as_text=True)
    assert _thumb(clean) in listing and "pending.jpg" in listing
    assert _thumb(pending) not in listing


def test_a_newer_pending_version_keeps_the_clean_one_s_thumbnail_for_others(site, browser_for):
    owner, member = site.user("owner"), site.user("member")
    root = site.department_root("Finance")
    first = site.upload(owner, root, "river.jpg", jpeg())
    second = site.upload(owner, root, "river.jpg", jpeg(800, 800), clean=False)
    assert browser_for(member).get(_thumb(first)).status_code == 200
    assert browser_for(member).get(_thumb(second)).status_code == 404
    page = browser_for(member).get(f"/f/{root.id}?view=grid").get_data(as_text=True)
    assert _thumb(first) in page


def test_the_grid_view_shows_thumbnails_with_names_and_the_list_stays_the_default(
    site, browser_for
):
    owner = site.user("owner")
    photos = site.folder(site.home(owner), "Photos")
    version = site.upload(owner, photos, "ນ້ຳຕົກ.jpg", jpeg())
    web = browser_for(owner)
    grid = web.get(f"/f/{photos.id}?view=grid", headers=EN).get_data(as_text=True)
    assert 'class="grid"' in grid and "ນ້ຳຕົກ.jpg" in grid and _thumb(version) in grid
    assert 'aria-current="page">Grid' in grid
    listing = web.get(f"/f/{photos.id}", headers=EN).get_data(as_text=True)
    assert 'class="entries listing"' in listing and 'class="grid"' not in listing


def test_a_pdf_is_previewed_as_pictures_of_its_pages_never_inline(site, browser_for):
    owner = site.user("owner")
    version = site.upload(owner, site.home(owner), "plan.pdf", pdf(2))
    web = browser_for(owner)
    page = web.get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    for n in (1, 2):
        assert f"/files/{version.node_id}/pages/{version.id}/{n}" in page
    assert "Page 2 of 2" in page and "<iframe" not in page
    picture = web.get(f"/files/{version.node_id}/pages/{version.id}/2")
    assert picture.status_code == 200 and picture.mimetype == "image/webp"
    assert web.get(f"/files/{version.node_id}/pages/{version.id}/3").status_code == 404
    raw = web.get(f"/files/{version.node_id}/raw")
    assert raw.status_code == 302 and raw.location.endswith("/download")


def test_a_broken_pdf_shows_one_sentence_in_the_box(site, browser_for):
    owner = site.user("owner")
    version = site.upload(owner, site.home(owner), "broken.pdf", b"%PDF-1.7\n1 0 obj <<")
    answer = browser_for(owner).get(f"/files/{version.node_id}", headers=EN)
    assert answer.status_code == 200
    assert '<p class="preview-failed">This preview cannot be shown.</p>' in answer.get_data(
        as_text=True
    )


def test_text_is_shown_escaped_in_the_page_whatever_its_encoding(site, browser_for):
    owner = site.user("owner")
    home = site.home(owner)
    lao = site.upload(owner, home, "ບົດລາຍງານ.txt", "ສະບາຍດີ <script>alert(1)</script>".encode())
    latin = site.upload(owner, home, "old.txt", "café crème brûlée, déjà vu".encode("cp1252"))
    web = browser_for(owner)
    page = web.get(f"/files/{lao.node_id}", headers=EN).get_data(as_text=True)
    assert "ສະບາຍດີ &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    page = web.get(f"/files/{latin.node_id}", headers=EN).get_data(as_text=True)
    assert "café crème" in page


def test_a_long_text_shows_its_start_and_says_so(site, browser_for):
    owner = site.user("owner")
    data = ("ກ" * 100_000).encode()  # 300,000 bytes: past the 256 KiB shown
    version = site.upload(owner, site.home(owner), "long.txt", data)
    page = browser_for(owner).get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    assert "The preview shows the start of the file" in page
    assert "ກ" * 80_000 in page and "ກ" * 90_000 not in page


def test_a_thumbnail_made_while_clean_is_not_served_once_a_rescan_finds_it_infected(
    site, browser_for
):
    owner, member = site.user("owner"), site.user("member")
    version = site.upload(owner, site.department_root("Finance"), "river.jpg", jpeg())
    assert browser_for(member).get(_thumb(version)).status_code == 200
    site.run(lambda w: mark_scanned(w.ctx.db.get(Version, version.id), ScanState.INFECTED))
    assert browser_for(member).get(_thumb(version)).status_code == 404
    assert browser_for(owner).get(_thumb(version)).status_code == 403  # held: it says so


def test_a_tiff_is_previewed_as_a_drawn_picture(site, browser_for):
    owner = site.user("owner")
    version = site.upload(owner, site.home(owner), "scan.tiff", image_bytes("TIFF"))
    web = browser_for(owner)
    page = web.get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    drawn = f"/files/{version.node_id}/pages/{version.id}/1"
    assert drawn in page
    answer = web.get(drawn)
    assert answer.status_code == 200 and answer.mimetype == "image/webp"
    assert web.get(f"/files/{version.node_id}/pages/{version.id}/2").status_code == 404


def word_document() -> bytes:
    document = docx.Document()
    document.add_heading("ບົດລາຍງານກອງປະຊຸມ", 1)
    document.add_paragraph("ກົມແຜນການ <ລາຍງານ> & ສະຫຼຸບ.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "ງົບປະມານ", "1.000.000 ກີບ"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_word_document_shows_its_text_once_clean_and_one_sentence_before(site, browser_for):
    owner, member = site.user("owner"), site.user("member")
    version = site.upload(
        owner, site.department_root("Finance"), "ກອງປະຊຸມ.docx", word_document(), clean=False
    )
    pending = browser_for(owner).get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    assert '<p class="preview-failed">This preview cannot be shown.</p>' in pending
    assert "ກົມແຜນການ" not in pending
    site.run(lambda w: mark_scanned(w.ctx.db.get(Version, version.id), ScanState.CLEAN))
    page = browser_for(member).get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    assert "ບົດລາຍງານກອງປະຊຸມ\nກົມແຜນການ &lt;ລາຍງານ&gt; &amp; ສະຫຼຸບ.\nງົບປະມານ\t1.000.000 ກີບ" in page


def test_a_broken_word_document_shows_one_sentence(site, browser_for):
    owner = site.user("owner")
    broken = word_document()[:9000]  # the start of the ZIP: detected as Word, cannot be read
    version = site.upload(owner, site.home(owner), "broken.docx", broken)
    page = browser_for(owner).get(f"/files/{version.node_id}", headers=EN)
    assert page.status_code == 200
    assert '<p class="preview-failed">This preview cannot be shown.</p>' in page.get_data(
        as_text=True
    )
