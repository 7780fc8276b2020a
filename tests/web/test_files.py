"""Browsing, downloading (ranges, Lao names), previews, ZIPs and the scan gate in the pages."""

import io
import zipfile
from urllib.parse import quote

import pytest

from gshare.core.models import ScanState, UserRole, Version
from tests.fixtures.world import mark_scanned
from tests.web.conftest import post

LAO_NAME = "ລາຍງານ ປີ 2024.txt"


def test_my_files_lists_an_upload_with_its_scan_badge(site, browser_for):
    user = site.user("somsak")
    site.upload(user, site.home(user), LAO_NAME, clean=False)
    web = browser_for(user)
    page = web.get("/my", follow_redirects=True, headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert LAO_NAME in text
    assert "Being scanned" in text


def test_download_is_an_attachment_whose_lao_name_survives(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), LAO_NAME, b"hello world")
    response = browser_for(user).get(f"/files/{version.node_id}/download")
    assert response.data == b"hello world"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(LAO_NAME)}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_download_answers_a_byte_range(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    response = browser_for(user).get(
        f"/files/{version.node_id}/download", headers={"Range": "bytes=2-5"}
    )
    assert response.status_code == 206
    assert response.data == b"2345"
    assert response.headers["Content-Range"] == "bytes 2-5/10"


@pytest.mark.parametrize(
    "asked, data, content_range",
    [("bytes=-4", b"6789", "bytes 6-9/10"), ("bytes=7-", b"789", "bytes 7-9/10")],
)
def test_download_answers_a_suffix_or_an_open_range(site, browser_for, asked, data, content_range):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    response = browser_for(user).get(f"/files/{version.node_id}/download", headers={"Range": asked})
    assert response.status_code == 206
    assert response.data == data
    assert response.headers["Content-Range"] == content_range


@pytest.mark.parametrize("asked", ["bytes=-100", "bytes=5-2", "bytes=x-y", "items=0-1", "bytes="])
def test_a_range_longer_than_the_file_or_unreadable_gets_the_whole_file(site, browser_for, asked):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    response = browser_for(user).get(f"/files/{version.node_id}/download", headers={"Range": asked})
    assert response.status_code == 200
    assert response.data == b"0123456789"
    assert "Content-Range" not in response.headers


def test_a_range_that_starts_past_the_end_is_not_satisfiable(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    response = browser_for(user).get(
        f"/api/v1/files/{version.node_id}/content", headers={"Range": "bytes=10-"}
    )
    assert response.status_code == 416
    assert response.json["error"]["code"] == "range_not_satisfiable"


def test_text_preview_is_sandboxed_plain_text(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "page.html", b"<script>alert(1)</script>")
    response = browser_for(user).get(f"/files/{version.node_id}/raw")
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_folder_zip_holds_only_clean_files_for_others(site, browser_for):
    owner, colleague = site.user("owner"), site.user("colleague")
    root = site.department_root("Finance")
    reports = site.folder(root, "Reports")
    site.upload(owner, reports, "clean.txt", b"ok")
    site.upload(owner, reports, "pending.txt", b"wait", clean=False)
    response = browser_for(colleague).get(f"/f/{reports.id}/zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["clean.txt"]
    assert archive.read("clean.txt") == b"ok"


def test_a_pending_upload_reaches_another_department_only_once_clean(site, browser_for):
    """Finance shares a folder with Planning: a file being scanned is shown to its uploader and
    to nobody else, not even a colleague in Finance; once clean, Planning sees and gets it."""
    owner = site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    planner = browser_for(site.user("planner", "Planning"))
    colleague = browser_for(site.user("colleague", "Finance"))
    root = site.department_root("Finance")
    reports = site.folder(root, "Reports")
    uploader = browser_for(owner)
    share = post(
        uploader,
        f"/nodes/{reports.id}/grants",
        {"department": site.department("Planning").id, "role": "viewer"},
    )
    assert share.status_code == 302
    site.upload(owner, root, "ready.txt", b"checked")
    site.upload(owner, root, "pending.txt", clean=False)
    version = site.upload(owner, reports, "waiting.txt", b"scanning", clean=False)
    site.upload(owner, reports, "published.txt", b"checked")
    download = f"/files/{version.node_id}/download"

    mine = uploader.get(f"/f/{reports.id}").get_data(as_text=True)
    assert "waiting.txt" in mine and "scan-pending" in mine
    assert uploader.get(download).data == b"scanning"
    page = colleague.get("/department", follow_redirects=True).get_data(as_text=True)
    assert "ready.txt" in page
    assert "pending.txt" not in page
    theirs = planner.get(f"/f/{reports.id}")
    assert theirs.status_code == 200 and "published.txt" in theirs.get_data(as_text=True)
    assert "waiting.txt" not in theirs.get_data(as_text=True)
    assert planner.get(download).status_code == 404

    site.run(lambda w: mark_scanned(w.ctx.db.get(Version, version.id), ScanState.CLEAN))
    assert "waiting.txt" in planner.get(f"/f/{reports.id}").get_data(as_text=True)
    assert planner.get(download).data == b"scanning"


def test_create_rename_delete_restore(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    home = site.home(user)
    response = post(web, f"/f/{home.id}/folders", {"name": "ກົມແຜນການ"})
    folder_id = int(response.headers["Location"].rsplit("/", 1)[1])
    post(web, f"/nodes/{folder_id}/rename", {"name": "Plans"})
    assert "Plans" in web.get(f"/f/{home.id}").get_data(as_text=True)
    post(web, f"/nodes/{folder_id}/delete")
    assert ">Plans</a>" not in web.get(f"/f/{home.id}").get_data(as_text=True)
    assert "Plans" in web.get(f"/spaces/{home.space_id}/trash").get_data(as_text=True)
    post(web, f"/nodes/{folder_id}/restore")
    assert ">Plans</a>" in web.get(f"/f/{home.id}").get_data(as_text=True)


def test_search_finds_lao_names_case_insensitively(site, browser_for):
    user = site.user("somsak")
    site.upload(user, site.home(user), "Budget ກະຊວງ.xlsx")
    web = browser_for(user)
    home = site.home(user)
    assert "Budget" in web.get(f"/f/{home.id}/search?q=ກະຊວງ").get_data(as_text=True)
    assert "Budget" in web.get(f"/f/{home.id}/search?q=BUDGET").get_data(as_text=True)


def test_move_and_copy_through_the_folder_picker(site, browser_for):
    user = site.user("somsak")
    home = site.home(user)
    target = site.folder(home, "Archive")
    version = site.upload(user, home, "a.txt")
    web = browser_for(user)
    assert web.get(f"/nodes/{version.node_id}/copy?to={target.id}").status_code == 200
    post(web, f"/nodes/{version.node_id}/copy", {"target": target.id})
    post(web, f"/nodes/{version.node_id}/move", {"target": target.id, "name": "b.txt"})
    listing = web.get(f"/f/{target.id}").get_data(as_text=True)
    assert "a (2).txt" in listing or listing.count("a.txt") >= 1


def test_upload_through_the_api_into_a_new_subfolder(site, browser_for):
    from tests.web.conftest import csrf_token

    user = site.user("somsak")
    web = browser_for(user)
    home = site.home(user)
    response = web.put(
        f"/api/v1/folders/{home.id}/files?name=ກ.txt&path=ໂຟນເດີ/ຍ່ອຍ",
        data=b"abc",
        headers={"X-CSRFToken": csrf_token(web)},
    )
    assert response.status_code == 201, response.json
    assert response.json["scan_state"] in ("pending", "clean")
    assert "ໂຟນເດີ" in web.get(f"/f/{home.id}").get_data(as_text=True)


def test_if_range_with_the_current_etag_resumes_with_the_range(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    web = browser_for(user)
    first = web.get(f"/files/{version.node_id}/download")
    response = web.get(
        f"/files/{version.node_id}/download",
        headers={"Range": "bytes=4-", "If-Range": first.headers["ETag"]},
    )
    assert response.status_code == 206
    assert response.data == b"456789"


def test_if_range_of_a_changed_file_sends_it_whole(site, browser_for):
    user = site.user("somsak")
    old = site.upload(user, site.home(user), "a.txt", b"old bytes")
    web = browser_for(user)
    stale = web.get(f"/files/{old.node_id}/download")
    site.upload(user, site.home(user), "a.txt", b"new bytes, longer")
    for condition in (stale.headers["ETag"], "Wed, 21 Oct 2015 07:28:00 GMT", 'W/"weak"'):
        response = web.get(
            f"/files/{old.node_id}/download", headers={"Range": "bytes=3-", "If-Range": condition}
        )
        assert response.status_code == 200
        assert response.data == b"new bytes, longer"


def test_if_range_with_the_last_modified_date_resumes(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    web = browser_for(user)
    first = web.get(f"/api/v1/files/{version.node_id}/content")
    response = web.get(
        f"/api/v1/files/{version.node_id}/content",
        headers={"Range": "bytes=8-", "If-Range": first.headers["Last-Modified"]},
    )
    assert response.status_code == 206
    assert response.data == b"89"


def test_several_ranges_at_once_get_the_whole_file(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"0123456789")
    response = browser_for(user).get(
        f"/files/{version.node_id}/download", headers={"Range": "bytes=0-1,5-6"}
    )
    assert response.status_code == 200
    assert response.data == b"0123456789"


@pytest.mark.parametrize("node_id", [2**31, 2**70])
def test_an_id_too_large_for_the_database_is_not_found_on_every_page(site, browser_for, node_id):
    user = site.user("somsak")
    home = site.home(user)
    web = browser_for(user)
    assert web.get(f"/f/{home.id}").status_code == 200  # the page exists for a real id
    for path in (f"/f/{node_id}", f"/f/{node_id}/zip", f"/f/{node_id}/search?q=a"):
        assert web.get(path).status_code == 404, path
