"""Project spaces people create for themselves ([spaces] allow_user_spaces)."""

from sqlalchemy import select

from gshare.core.actor import OPERATOR
from gshare.core.context import Gshare
from gshare.core.models import Space
from gshare.files import trash
from gshare.org import spaces
from gshare.sharing import grants
from tests.web.conftest import post
from web import create_app

EN = {"Accept-Language": "en"}


def test_create_a_project_space_and_find_it_on_the_start_page(site, browser_for):
    web = browser_for(site.user("somsak"))
    response = post(web, "/spaces/new", {"name": "Budget committee 2026"})
    assert response.status_code == 302
    assert web.get(response.headers["Location"]).status_code == 200
    home = web.get("/", headers=EN).get_data(as_text=True)
    assert "Budget committee 2026" in home and "budget-committee-2026" in home


def test_a_lao_name_gets_a_name_for_sync_tools_of_its_own(site, browser_for, gs):
    user = site.user("somsak")
    web = browser_for(user)
    post(web, "/spaces/new", {"name": "ຄະນະກຳມະການງົບປະມານ"})
    created = site.run(lambda w: spaces.project_spaces(w.ctx, w.ctx.db.merge(user)))
    assert [s.name for s in created] == ["ຄະນະກຳມະການງົບປະມານ"]
    assert created[0].slug.startswith("project-")


def test_other_people_do_not_see_my_project_space(site, browser_for):
    web = browser_for(site.user("somsak"))
    folder_url = post(web, "/spaces/new", {"name": "Secret plans"}).headers["Location"]
    assert web.get(folder_url).status_code == 200
    assert "Secret plans" in web.get("/", headers=EN).get_data(as_text=True)
    other = browser_for(site.user("other"))
    assert other.get(folder_url).status_code == 404
    assert "Secret plans" not in other.get("/", headers=EN).get_data(as_text=True)


def test_spaces_of_ones_own_can_be_turned_off(site, config, gs, browser_for):
    from tests.web.conftest import sign_in

    opened = browser_for(site.user("somsak"))  # the same person on a site that allows them
    assert "New project space" in opened.get("/", headers=EN).get_data(as_text=True)
    assert post(opened, "/spaces/new", {"name": "Allowed"}).status_code == 302
    closed = config.replace(spaces={"allow_user_spaces": False})
    web = create_app(closed, Gshare(closed, gs.store, engine=gs.engine)).test_client()
    sign_in(web, "somsak")
    assert "New project space" not in web.get("/", headers=EN).get_data(as_text=True)
    assert post(web, "/spaces/new", {"name": "Not allowed"}).status_code == 403


def _new_space(site, web, name):
    """Create a project space through the form; return its root folder's address and space."""
    folder_url = post(web, "/spaces/new", {"name": name}).headers["Location"]
    space = site.run(lambda w: w.ctx.db.scalar(select(Space).where(Space.name == name)))
    return folder_url, space


def test_the_manager_renames_a_space_and_its_sync_name_stays(site, browser_for):
    web = browser_for(site.user("somsak"))
    folder_url, space = _new_space(site, web, "Roads committee 2026")
    page = web.get(folder_url, headers=EN).get_data(as_text=True)
    assert "Space settings" in page and "roads-committee-2026" in page
    response = post(web, f"/spaces/{space.id}/rename", {"name": "Bridges committee"})
    assert response.status_code == 302 and response.headers["Location"] == folder_url
    home = web.get("/", headers=EN).get_data(as_text=True)
    assert "Bridges committee" in home and "Roads committee 2026" not in home
    assert "roads-committee-2026" in home
    assert post(web, f"/spaces/{space.id}/rename", {"name": "  "}).status_code == 400


def test_the_manager_deletes_an_empty_space(site, browser_for):
    web = browser_for(site.user("somsak"))
    folder_url, space = _new_space(site, web, "Short-lived")
    assert "Short-lived" in web.get("/", headers=EN).get_data(as_text=True)
    assert web.get(folder_url).status_code == 200
    response = post(web, f"/spaces/{space.id}/delete", headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "The space Short-lived was deleted." in web.get("/", headers=EN).get_data(as_text=True)
    assert "Short-lived" not in web.get("/", headers=EN).get_data(as_text=True)
    assert web.get(folder_url).status_code == 404


def test_a_space_with_a_file_or_a_trashed_file_is_not_deleted(site, browser_for):
    user = site.user("somsak")
    web = browser_for(user)
    folder_url, space = _new_space(site, web, "Busy space")
    root = site.run(lambda w: spaces.root_of(w.ctx.db, w.ctx.db.merge(space)))
    version = site.upload(user, root, "minutes.txt")
    response = post(web, f"/spaces/{space.id}/delete", headers=EN, follow_redirects=True)
    assert "Empty the space and its trash first" in response.get_data(as_text=True)
    assert "minutes.txt" in web.get(folder_url, headers=EN).get_data(as_text=True)
    site.run(lambda w: trash.delete_node(w.ctx, w.ctx.db.merge(user), version.node_id))
    response = post(web, f"/spaces/{space.id}/delete", headers=EN, follow_redirects=True)
    assert "Empty the space and its trash first" in response.get_data(as_text=True)
    assert web.get(folder_url).status_code == 200
    assert "Busy space" in web.get("/", headers=EN).get_data(as_text=True)


def test_an_editor_of_the_space_sees_no_settings_and_may_not_change_it(site, browser_for):
    owner, editor = site.user("somsak"), site.user("noy")
    folder_url, space = _new_space(site, browser_for(owner), "Shared project")
    site.run(
        lambda w: grants.grant_role(
            w.ctx,
            OPERATOR,
            int(folder_url.rsplit("/", 1)[1]),
            "editor",
            user=w.ctx.db.merge(editor),
        )
    )
    managing = browser_for(owner).get(folder_url, headers=EN).get_data(as_text=True)
    assert "Space settings" in managing  # the same page, to its manager
    web = browser_for(editor)
    page = web.get(folder_url, headers=EN)
    assert page.status_code == 200 and "Space settings" not in page.get_data(as_text=True)
    assert post(web, f"/spaces/{space.id}/rename", {"name": "Taken over"}).status_code == 403
    assert post(web, f"/spaces/{space.id}/delete").status_code == 403
    stranger = browser_for(site.user("other"))
    assert post(stranger, f"/spaces/{space.id}/delete").status_code == 404
    assert web.get(folder_url).status_code == 200
    assert "Shared project" in web.get(folder_url, headers=EN).get_data(as_text=True)


def test_space_settings_need_the_form_token(site, browser_for):
    web = browser_for(site.user("somsak"))
    folder_url, space = _new_space(site, web, "Guarded")
    assert web.post(f"/spaces/{space.id}/rename", data={"name": "Forged"}).status_code == 400
    assert web.post(f"/spaces/{space.id}/delete").status_code == 400
    assert web.get(folder_url).status_code == 200
    assert "Guarded" in web.get("/", headers=EN).get_data(as_text=True)
