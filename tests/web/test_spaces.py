"""Project spaces people create for themselves ([spaces] allow_user_spaces)."""

from gshare import spaces
from gshare.runtime import Gshare
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
    created = site.run(lambda w: spaces.project_spaces(w.ctx.db, w.ctx.db.merge(user)))
    assert [s.name for s in created] == ["ຄະນະກຳມະການງົບປະມານ"]
    assert created[0].slug.startswith("project-")


def test_other_people_do_not_see_my_project_space(site, browser_for):
    web = browser_for(site.user("somsak"))
    folder_url = post(web, "/spaces/new", {"name": "Secret plans"}).headers["Location"]
    other = browser_for(site.user("other"))
    assert other.get(folder_url).status_code == 404
    assert "Secret plans" not in other.get("/", headers=EN).get_data(as_text=True)


def test_spaces_of_ones_own_can_be_turned_off(site, config, gs):
    from tests.web.conftest import sign_in

    site.user("somsak")
    closed = config.replace(spaces={"allow_user_spaces": False})
    web = create_app(closed, Gshare(closed, gs.store, engine=gs.engine)).test_client()
    sign_in(web, "somsak")
    assert "New project space" not in web.get("/", headers=EN).get_data(as_text=True)
    assert post(web, "/spaces/new", {"name": "Not allowed"}).status_code == 403
