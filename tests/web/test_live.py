"""What a page learns without a reload (/api/v1/live): the scan badges of the files being
scanned, the unread notices, the space's use; and an upload cancelled from the page."""

import os

from gshare.activity import notifications
from gshare.core.models import ScanState, Space, UserRole, Version
from tests.fixtures.world import mark_scanned
from tests.web.conftest import csrf_token

EN = {"Accept-Language": "en"}


def _live(web, folder_id=None, *version_ids):
    query = {"versions": ",".join(str(i) for i in version_ids)}
    if folder_id is not None:
        query["folder"] = folder_id
    return web.get("/api/v1/live", query_string=query, headers=EN)


def test_the_uploader_sees_their_pending_file_change_and_others_only_once_clean(site, browser_for):
    owner = site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    colleague = browser_for(site.user("colleague", "Finance"))
    stranger = browser_for(site.user("stranger", "Planning"))
    folder = site.folder(site.department_root("Finance"), "Reports")
    version = site.upload(owner, folder, "plan.txt", b"the plan", clean=False)
    uploader = browser_for(owner)

    mine = _live(uploader, folder.id, version.id).json
    assert mine["badges"][str(version.id)]["state"] == "pending"
    theirs = _live(colleague, folder.id, version.id)
    assert theirs.status_code == 200 and theirs.json["badges"] == {}
    outside = _live(stranger, folder.id, version.id)
    assert outside.status_code == 404 and "badges" not in outside.json

    site.run(lambda w: mark_scanned(w.ctx.db.get(Version, version.id), ScanState.CLEAN))
    mine = _live(uploader, folder.id, version.id).json
    assert mine["badges"][str(version.id)]["state"] == "clean"
    assert "Clean" in mine["badges"][str(version.id)]["html"]
    assert _live(colleague, folder.id, version.id).json["badges"][str(version.id)]["state"] == (
        "clean"
    )
    assert _live(stranger, folder.id, version.id).status_code == 404


def test_a_strangers_version_id_asked_about_through_their_own_folder_gives_nothing(
    site, browser_for
):
    owner = site.user("owner", "Finance")
    stranger = site.user("stranger", "Planning")
    version = site.upload(owner, site.home(owner), "secret.txt", b"secret")
    assert (
        str(version.id) in _live(browser_for(owner), site.home(owner).id, version.id).json["badges"]
    )
    answer = _live(browser_for(stranger), site.home(stranger).id, version.id)
    assert answer.status_code == 200 and answer.json["badges"] == {}


def test_the_unread_count_follows_the_notices(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    assert _live(web).json == {"unread": 0}
    site.run(lambda w: notifications.notify(w.ctx, user.id, "scan.infected", name="x.txt"))
    assert _live(web).json["unread"] == 1


def test_the_space_use_is_shown_to_who_may_change_the_folder(site, browser_for):
    user = site.user("somsak")
    home = site.home(user)
    site.run(lambda w: setattr(w.ctx.db.get(Space, home.space_id), "quota_bytes", 1000))
    web = browser_for(user)
    assert "0 B of 1,000 B used" in _live(web, home.id).json["space_use"]
    site.upload(user, home, "a.txt", b"x" * 250)
    use = _live(web, home.id).json["space_use"]
    assert "250 B of 1,000 B used" in use and 'value="250"' in use
    page = web.get(f"/f/{home.id}", headers=EN).get_data(as_text=True)
    assert "250 B of 1,000 B used" in page


def test_cancelling_an_upload_removes_its_parts_from_the_store(site, browser_for, s3_store):
    user = site.user("somsak")
    web = browser_for(user)
    token = csrf_token(web)
    headers = {"X-CSRFToken": token, **EN}
    size = 6 * 1024 * 1024
    started = web.post(
        "/api/v1/uploads",
        json={"folder": site.home(user).id, "name": "big.bin", "size": size + 10},
        headers=headers,
    )
    assert started.status_code == 201
    upload = started.json["token"]
    part = web.put(f"/api/v1/uploads/{upload}/parts/1", data=os.urandom(size), headers=headers)
    assert part.status_code == 200
    [stored] = list(s3_store.list_multipart_uploads())
    assert web.get(f"/api/v1/uploads/{upload}/parts").json["items"] == [{"number": 1, "size": size}]

    assert web.delete(f"/api/v1/uploads/{upload}", headers=headers).status_code == 204
    assert list(s3_store.list_multipart_uploads()) == []
    gone = web.get(f"/api/v1/uploads/{upload}/parts", headers=EN)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    assert stored.upload_id not in {u.upload_id for u in s3_store.list_multipart_uploads()}
