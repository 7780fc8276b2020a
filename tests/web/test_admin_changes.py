"""Administrators: a person's department and role changed with a confirmation; a quota saved
with one; the audit log in words, filtered by person and space by name, exported as CSV; the
quarantine with dates."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from gshare.core.models import ScanState, User, UserRole, Version
from tests.fixtures.world import mark_scanned
from tests.web.conftest import post

EN = {"Accept-Language": "en"}
LO = {"Accept-Language": "lo"}


def test_a_system_admin_moves_a_person_and_makes_them_a_department_admin(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    person = site.user("noy", "Finance")
    planning = site.department("Planning")
    done = post(
        browser_for(admin),
        f"/admin/users/{person.id}/place",
        {"department": planning.id, "role": "department_admin"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Noy is now in Planning as Department administrator." in done.get_data(as_text=True)
    moved = site.run(
        lambda w: (
            w.ctx.db.get(User, person.id).department_id,
            str(w.ctx.db.get(User, person.id).role),
        )
    )
    assert moved == (planning.id, "department_admin")


def test_a_department_admin_cannot_place_someone_outside_their_department(site, browser_for):
    boss = site.user("boss", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    person = site.user("noy", "Finance")
    planning = site.department("Planning")
    answer = post(
        browser_for(boss),
        f"/admin/users/{person.id}/place",
        {"department": planning.id, "role": "member"},
        headers=EN,
    )
    assert answer.status_code == 403
    assert site.run(lambda w: w.ctx.db.get(User, person.id).department_id) != planning.id


def test_saving_a_quota_says_so_in_lao(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    space_id = site.run(lambda w: w.home(w.ctx.db.merge(admin)).space_id)
    done = post(
        browser_for(admin),
        f"/admin/spaces/{space_id}/quota",
        {"quota_gb": "5"},
        headers=LO,
        follow_redirects=True,
    )
    assert "ໂຄຕາຂອງ Admin ຕອນນີ້ແມ່ນ 5 GB." in done.get_data(as_text=True)


def test_the_people_page_says_who_disabled_an_account(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    left = site.user("left", "Finance")
    site.user("noy", "Finance")
    web = browser_for(admin)
    post(web, f"/admin/users/{left.id}/disable", {}, headers=EN)

    def gone_from_directory(w):
        noy = w.ctx.db.scalar(select(User).where(User.username == "noy"))
        noy.disabled, noy.disabled_by = True, "directory"

    site.run(gone_from_directory)
    page = web.get("/admin/users", headers=EN).get_data(as_text=True)
    row = {name: _row_of(page, name) for name in ("left", "noy", "admin")}
    assert "Disabled by an administrator" in row["left"]
    assert "Disabled by the directory" in row["noy"]
    assert "Disabled by" not in row["admin"]
    lao = web.get("/admin/users", headers=LO).get_data(as_text=True)
    assert "ຖືກປິດການນຳໃຊ້ໂດຍໄດເຣັກທໍຣີ" in _row_of(lao, "noy")
    assert "ຖືກປິດການນຳໃຊ້ໂດຍຜູ້ບໍລິຫານ" in _row_of(lao, "left")


def _row_of(page: str, username: str) -> str:
    return re.search(rf"<tr[^>]*><td>{username}</td>.*?</tr>", page, re.S).group(0)


def _events(site, admin):
    owner = site.user("somsak", "Finance")
    folder = site.folder(site.home(owner), "ງົບປະມານ")
    version = site.upload(owner, folder, "plan.txt")
    return owner, folder, version


def test_the_audit_log_speaks_in_sentences_filtered_by_names(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    owner, folder, version = _events(site, admin)
    space = site.run(lambda w: w.ctx.db.get(type(folder), folder.id).space)
    web = browser_for(admin)
    page = web.get(f"/admin/audit?person=Somsak+(somsak)&space={space.id}", headers=EN)
    text = page.get_data(as_text=True)
    assert "Somsak (somsak) uploaded Somsak › ງົບປະມານ › plan.txt" in text
    assert "home-somsak" not in text
    assert "file.upload" not in text
    assert "None" not in text
    assert f'<option value="{space.id}" selected>Somsak</option>' in text
    lao = web.get("/admin/audit?person=somsak", headers=LO).get_data(as_text=True)
    assert "Somsak (somsak) ໄດ້ອັບໂຫຼດ Somsak › ງົບປະມານ › plan.txt" in lao
    assert "home-somsak" not in lao


def test_the_audit_log_exports_as_csv_in_words(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    owner, folder, version = _events(site, admin)
    answer = browser_for(admin).get("/admin/audit.csv?person=somsak", headers=EN)
    assert answer.is_streamed
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Number", "When", "Person", "What happened"]
    uploads = [r for r in rows[1:] if r[4] == "file.upload"]
    assert uploads[0][3] == "Somsak (somsak) uploaded Somsak › ງົບປະມານ › plan.txt"
    assert uploads[0][5] == "home-somsak/ງົບປະມານ/plan.txt"  # the path as stored, for tools
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", uploads[0][1])


def test_the_quarantine_shows_dates_and_never_none(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    owner = site.user("somsak", "Finance")
    version = site.upload(owner, site.home(owner), "bad.exe", b"x", clean=False)

    def infect(w):
        held = w.ctx.db.get(Version, version.id)
        mark_scanned(held, ScanState.INFECTED)
        held.scan_signature = None

    site.run(infect)
    page = browser_for(admin).get("/admin/quarantine", headers=EN).get_data(as_text=True)
    assert "bad.exe" in page and "Unknown" in page and "None" not in page
    uploaded = site.run(lambda w: w.ctx.db.get(Version, version.id).uploaded_at)
    assert uploaded.strftime("%Y") in page


def _import(web, content: bytes | None, headers=EN):
    files = {} if content is None else {"csv": (io.BytesIO(content), "people.csv")}
    return post(
        web, "/admin/users/import", files, headers=headers, content_type="multipart/form-data"
    )


def test_a_csv_import_that_cannot_be_read_says_why_and_creates_no_one(site, browser_for):
    admin = site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    site.department("Planning")
    web = browser_for(admin)
    good = "username,display_name,department\nkeo,ແກ້ວ,Planning\n".encode()
    assert "keo" in _import(web, good).get_data(as_text=True)  # presence: a good file imports
    latin1 = "username,display_name,department\nnoi,Noé,Planning\n".encode("latin-1")
    refused = _import(web, latin1)
    assert refused.status_code == 400
    assert "save it from the spreadsheet as &#39;CSV UTF-8&#39;" in refused.get_data(as_text=True)
    lao = _import(web, None, headers=LO)
    assert lao.status_code == 400 and "ກະລຸນາເລືອກໄຟລ໌ CSV ກ່ອນ" in lao.get_data(as_text=True)
    big = good + b"x" * (1024 * 1024)
    assert "larger than 1 MB" in _import(web, big).get_data(as_text=True)
    names = site.run(lambda w: set(w.ctx.db.scalars(select(User.username))))
    assert "keo" in names and "noi" not in names
