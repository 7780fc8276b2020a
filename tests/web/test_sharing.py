"""Sharing between departments, public links with passwords and upload-only links."""

import re

from gshare.core.models import ScanState, UserRole, Version
from tests.web.conftest import csrf_token, post


def _share(web, node_id, **form):
    return post(web, f"/nodes/{node_id}/grants", form)


def test_share_with_another_department_and_see_it_as_a_member_there(site, browser_for):
    owner = site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    planning = site.user("planner", "Planning")
    folder = site.folder(site.department_root("Finance"), "ງົບປະມານ")
    site.upload(owner, folder, "budget.txt", b"numbers")
    web = browser_for(owner)
    planning_id = site.department("Planning").id
    assert _share(web, folder.id, department=planning_id, role="viewer").status_code == 302
    member = browser_for(planning)
    page = member.get("/shared/department").get_data(as_text=True)
    assert "ງົບປະມານ" in page
    assert member.get(f"/f/{folder.id}").status_code == 200


def test_pending_file_in_a_shared_folder_stays_invisible_to_them(site, browser_for):
    owner = site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    planning = site.user("planner", "Planning")
    folder = site.folder(site.department_root("Finance"), "Shared")
    version = site.upload(owner, folder, "virus.txt", b"x", clean=False)
    clean = site.upload(owner, folder, "minutes.txt", b"read me")
    web = browser_for(owner)
    _share(web, folder.id, department=site.department("Planning").id, role="viewer")
    assert "virus.txt" in web.get(f"/f/{folder.id}").get_data(as_text=True)  # its uploader's
    member = browser_for(planning)
    page = member.get(f"/f/{folder.id}").get_data(as_text=True)
    assert "minutes.txt" in page
    assert "virus.txt" not in page
    assert member.get(f"/files/{clean.node_id}/download").data == b"read me"
    assert member.get(f"/files/{version.node_id}/download").status_code == 404


def test_revoke_a_grant(site, browser_for, gs):
    owner = site.user("owner", "Finance")
    friend = site.user("friend", "Planning")
    folder = site.folder(site.home(owner), "Mine")
    web = browser_for(owner)
    _share(web, folder.id, username="friend", role="editor")
    assert browser_for(friend).get(f"/f/{folder.id}").status_code == 200
    grant_id = int(
        re.search(
            r"/grants/(\d+)/revoke", web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)
        ).group(1)
    )
    post(web, f"/grants/{grant_id}/revoke")
    assert browser_for(friend).get(f"/f/{folder.id}").status_code == 404


def _link(web, node_id, **form):
    post(web, f"/nodes/{node_id}/links", form)
    page = web.get(f"/nodes/{node_id}/share").get_data(as_text=True)
    return re.search(r'value="http://localhost(/s/[^"]+)"', page).group(1)


def test_public_link_with_password(site, browser_for, app):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Public")
    version = site.upload(owner, folder, "notice.txt", b"read me")
    path = _link(browser_for(owner), folder.id, mode="view", password="open sesame")
    outsider = app.test_client()
    assert "password" in outsider.get(path).get_data(as_text=True)
    assert outsider.get(f"{path}/files/{version.node_id}").status_code == 404
    token = csrf_token(outsider, path)
    wrong = outsider.post(path, data={"password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    outsider.post(path, data={"password": "open sesame", "csrf_token": token})
    assert "notice.txt" in outsider.get(path).get_data(as_text=True)
    assert outsider.get(f"{path}/files/{version.node_id}").data == b"read me"


def test_download_limit_is_kept(site, browser_for, app):
    owner = site.user("owner")
    version = site.upload(owner, site.home(owner), "once.txt", b"1")
    path = _link(browser_for(owner), version.node_id, mode="view", max_downloads="1")
    outsider = app.test_client()
    assert outsider.get(f"{path}/files/{version.node_id}").status_code == 200
    assert outsider.get(f"{path}/files/{version.node_id}").status_code == 403


def test_upload_only_link_takes_files_without_showing_any(site, browser_for, app, gs):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Inbox")
    site.upload(owner, folder, "secret.txt", b"s")
    web = browser_for(owner)
    viewing = app.test_client().get(_link(web, folder.id, mode="view")).get_data(as_text=True)
    assert "secret.txt" in viewing  # a view link of the same folder shows it
    path = _link(web, folder.id, mode="upload")
    outsider = app.test_client()
    page = outsider.get(path).get_data(as_text=True)
    assert f'data-link="{path}/upload"' in page  # the uploader, ready to take files
    assert "secret.txt" not in page
    response = outsider.post(
        f"{path}/upload?name=secret.txt",
        data=b"from outside",
        headers={"X-CSRFToken": csrf_token(outsider, path)},
    )
    assert response.status_code == 201
    assert response.json["name"] == "secret (2).txt"
    with gs.unit_of_work() as ctx:
        newest = ctx.db.query(Version).order_by(Version.id.desc()).first()
        assert newest.uploaded_by is None and newest.scan_state != ScanState.CLEAN


def test_revoked_link_stops_working(site, browser_for, app):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Gone")
    web = browser_for(owner)
    site.upload(owner, folder, "farewell.txt", b"bye")
    path = _link(web, folder.id, mode="view")
    assert "farewell.txt" in app.test_client().get(path).get_data(as_text=True)
    link_id = re.search(
        r"/links/(\d+)/revoke", web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)
    ).group(1)
    post(web, f"/links/{link_id}/revoke")
    assert app.test_client().get(path).status_code == 404


def test_shared_file_without_a_clean_version_is_not_listed_as_shared(site, browser_for):
    owner = site.user("owner", "Finance")
    friend = site.user("friend", "Planning")
    pending = site.upload(owner, site.home(owner), "waiting.txt", clean=False)
    ready = site.upload(owner, site.home(owner), "ready.txt")
    web = browser_for(owner)
    for version in (pending, ready):
        _share(web, version.node_id, username="friend", role="viewer")
    page = browser_for(friend).get("/shared").get_data(as_text=True)
    assert "ready.txt" in page
    assert "waiting.txt" not in page
