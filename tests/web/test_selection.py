"""Several items at once: one ZIP of files and folders, move, copy, trash; rename in place;
the selection kept when something is refused; who may do what."""

from __future__ import annotations

import io
import zipfile

from gshare.core.models import Node, ScanState
from gshare.sharing import grants
from tests.fixtures.world import mark_scanned
from tests.web.conftest import post

EN = {"Accept-Language": "en"}


def _world(site):
    owner = site.user("somsak")
    home = site.home(owner)
    reports = site.folder(home, "ບົດລາຍງານ")
    site.upload(owner, reports, "q1.txt", b"first quarter")
    site.upload(owner, home, "plan.txt", b"the plan")
    archive = site.folder(home, "Archive")
    return owner, home, reports, archive


def _names(site, folder):
    return site.run(
        lambda w: sorted(
            n.name
            for n in w.ctx.db.query(Node).filter_by(parent_id=folder.id, deleted_at=None).all()
        )
    )


def test_one_zip_holds_the_chosen_files_and_folders(site, browser_for):
    owner, home, reports, _ = _world(site)
    plan = _names_to_ids(site, home)["plan.txt"]
    response = browser_for(owner).get(f"/zip?id={reports.id}&id={plan}")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["plan.txt", "ບົດລາຍງານ/q1.txt"]
    assert archive.read("ບົດລາຍງານ/q1.txt") == b"first quarter"


def test_zip_leaves_out_an_infected_file(site, browser_for):
    owner, home, reports, _ = _world(site)
    bad = site.upload(owner, reports, "bad.exe", b"x", clean=False)
    site.run(lambda w: mark_scanned(w.ctx.db.get(type(bad), bad.id), ScanState.INFECTED))
    response = browser_for(owner).get(f"/zip?id={reports.id}")
    assert zipfile.ZipFile(io.BytesIO(response.data)).namelist() == ["ບົດລາຍງານ/q1.txt"]


def test_a_stranger_gets_404_for_a_zip_of_others_items(site, browser_for):
    _, home, reports, _ = _world(site)
    stranger = site.user("noy", "Planning")
    assert browser_for(stranger).get(f"/zip?id={reports.id}").status_code == 404


def test_a_stranger_can_neither_move_nor_delete_nor_pick_others_items(site, browser_for):
    owner, home, reports, _ = _world(site)
    stranger = site.user("noy", "Planning")
    web = browser_for(stranger)
    target = site.home(stranger)
    assert web.get(f"/items/move?id={reports.id}").status_code == 404
    moved = post(web, "/items/move", {"id": [reports.id], "target": target.id})
    deleted = post(web, "/items/delete", {"id": [reports.id], "folder": target.id})
    assert moved.status_code == 404 and deleted.status_code == 404
    assert _names(site, home) == ["Archive", "plan.txt", "ບົດລາຍງານ"]


def test_move_several_items_into_a_folder(site, browser_for):
    owner, home, reports, archive = _world(site)
    plan = _names_to_ids(site, home)["plan.txt"]
    web = browser_for(owner)
    picker = web.get(f"/items/move?id={reports.id}&id={plan}", headers=EN)
    assert "Move 2 items to…" in picker.get_data(as_text=True)
    done = post(
        web,
        "/items/move",
        {"id": [reports.id, plan], "target": archive.id},
        headers=EN,
        follow_redirects=True,
    )
    assert "Moved: ບົດລາຍງານ, plan.txt." in done.get_data(as_text=True)
    assert _names(site, archive) == ["plan.txt", "ບົດລາຍງານ"]
    assert _names(site, home) == ["Archive"]


def test_copy_several_items_keeps_the_originals(site, browser_for):
    owner, home, reports, archive = _world(site)
    plan = _names_to_ids(site, home)["plan.txt"]
    post(browser_for(owner), "/items/copy", {"id": [reports.id, plan], "target": archive.id})
    assert _names(site, archive) == ["plan.txt", "ບົດລາຍງານ"]
    assert _names(site, home) == ["Archive", "plan.txt", "ບົດລາຍງານ"]


def test_delete_several_items_to_the_trash_in_lao(site, browser_for):
    owner, home, reports, _ = _world(site)
    plan = _names_to_ids(site, home)["plan.txt"]
    done = post(
        browser_for(owner),
        "/items/delete",
        {"id": [reports.id, plan], "folder": home.id},
        headers={"Accept-Language": "lo"},
        follow_redirects=True,
    )
    assert "ຍ້າຍໄປຖັງຂີ້ເຫຍື້ອແລ້ວ: ບົດລາຍງານ, plan.txt." in done.get_data(as_text=True)
    assert _names(site, home) == ["Archive"]


def test_a_refused_batch_changes_nothing_and_keeps_the_selection(site, browser_for):
    owner, home, reports, archive = _world(site)
    plan = _names_to_ids(site, home)["plan.txt"]
    site.upload(owner, archive, "plan.txt", b"another plan")  # the move of plan.txt clashes
    web = browser_for(owner)
    answer = post(
        web,
        "/items/move",
        {"id": [reports.id, plan], "target": archive.id, "folder": home.id},
        headers=EN,
    )
    assert answer.status_code == 302
    assert f"sel={reports.id}" in answer.location and f"sel={plan}" in answer.location
    page = web.get(answer.location, headers=EN).get_data(as_text=True)
    assert "&#39;plan.txt&#39; already exists in this folder." in page
    assert f'value="{reports.id}" form="selection" aria-label="Choose ບົດລາຍງານ" checked' in page
    assert _names(site, home) == ["Archive", "plan.txt", "ບົດລາຍງານ"]  # nothing moved


def test_a_viewer_may_zip_and_copy_but_not_move_or_delete(site, browser_for):
    owner, home, reports, archive = _world(site)
    viewer = site.user("noy", "Planning")
    site.run(
        lambda w: grants.grant_role(
            w.ctx, w.ctx.db.merge(owner), reports.id, "viewer", user=w.ctx.db.merge(viewer)
        )
    )
    web = browser_for(viewer)
    page = web.get(f"/f/{reports.id}", headers=EN).get_data(as_text=True)
    assert "Download as ZIP" in page and "Copy…" in page
    assert "Move…" not in page and "Move to trash" not in page and "Rename" not in page
    q1 = _names_to_ids(site, reports)["q1.txt"]
    assert post(web, "/items/delete", {"id": [q1], "folder": reports.id}).status_code == 302
    assert _names(site, reports) == ["q1.txt"]
    assert web.get(f"/zip?id={q1}").status_code == 200


def test_rename_a_folder_in_place(site, browser_for):
    owner, home, reports, _ = _world(site)
    web = browser_for(owner)
    page = web.get(f"/f/{home.id}", headers=EN).get_data(as_text=True)
    assert f'action="/nodes/{reports.id}/rename"' in page
    done = post(
        web,
        f"/nodes/{reports.id}/rename",
        {"name": "ລາຍງານ 2025"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Renamed to ລາຍງານ 2025." in done.get_data(as_text=True)
    assert "ລາຍງານ 2025" in _names(site, home)


def test_a_refused_rename_says_why_on_the_folder_page(site, browser_for):
    owner, home, reports, _ = _world(site)
    done = post(
        browser_for(owner),
        f"/nodes/{reports.id}/rename",
        {"name": "Archive"},
        headers=EN,
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "&#39;Archive&#39; already exists in this folder." in page
    assert 'aria-label="Choose plan.txt"' in page  # the folder's listing, not an error page
    assert _names(site, home) == ["Archive", "plan.txt", "ບົດລາຍງານ"]


def _names_to_ids(site, folder):
    return site.run(
        lambda w: {n.name: n.id for n in w.ctx.db.query(Node).filter_by(parent_id=folder.id)}
    )
