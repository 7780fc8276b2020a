"""The search box in the header: names everywhere a person sees, words in any order, Lao and
English, each hit with where it is; nothing a person may not see, nothing in the trash."""

import re

from gshare.files import trash
from gshare.sharing import grants

EN = {"Accept-Language": "en"}


def _search(web, q, **args):
    page = web.get("/search", query_string={"q": q, **args}, headers=EN)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_header_search_box_is_on_every_signed_in_page(site, browser_for):
    web = browser_for(site.user("somsak"))
    for path in ("/", "/shared", "/spaces", "/notifications"):
        page = web.get(path, headers=EN, follow_redirects=True).get_data(as_text=True)
        assert 'class="header-search"' in page, path
        assert 'aria-label="Search files and folders"' in page, path


def test_words_in_any_order_find_a_name_in_another_folder(site, browser_for):
    user = site.user("somsak")
    reports = site.folder(site.home(user), "Reports")
    site.upload(user, reports, "2026 Annual Report.pdf")
    web = browser_for(user)
    page = _search(web, "report 2026")
    assert "2026 Annual Report.pdf" in page
    assert f'href="/f/{reports.id}"' in page  # its folder
    assert "Somsak › Reports" in page  # where it is: the space, then the folders
    assert "2026 Annual Report.pdf" not in _search(web, "report 2025")


def test_lao_finds_a_part_of_a_name_whatever_the_mark_order(site, browser_for):
    user = site.user("somsak")
    site.upload(user, site.home(user), "ບົດລາຍງານກອງປະຊຸມ.docx")
    site.upload(user, site.home(user), "ໜັງສືແຈ້ງການ.pdf")  # ໜ as one letter
    site.upload(user, site.home(user), "ນ້ຳປະປາ.txt")  # ຳ as one letter
    web = browser_for(user)
    assert "ບົດລາຍງານກອງປະຊຸມ.docx" in _search(web, "ກອງປະຊຸມ")
    assert "ໜັງສືແຈ້ງການ.pdf" in _search(web, "ຫນັງສື")  # typed as ຫ + ນ
    assert "ນ້ຳປະປາ.txt" in _search(web, "ນ\u0ec9\u0ecd\u0eb2")  # ້ + ໍ + າ
    assert "ນ້ຳປະປາ.txt" in _search(web, "ປະປາ")


def test_search_covers_the_department_and_shares_but_not_a_strangers_files(site, browser_for):
    somsak, noy = site.user("somsak"), site.user("noy")
    stranger = site.user("kham", department="Health")
    site.upload(noy, site.department_root("Finance"), "budget plan.xlsx")
    shared = site.folder(site.home(stranger), "Joint budget")
    site.upload(stranger, shared, "budget health.xlsx")
    site.upload(stranger, site.home(stranger), "budget private.xlsx")
    site.run(lambda w: grants.grant_role(w.ctx, stranger, shared.id, "viewer", user=somsak))
    web = browser_for(somsak)
    page = _search(web, "budget")
    assert "budget plan.xlsx" in page and "budget health.xlsx" in page
    assert "Joint budget" in page
    assert "budget private.xlsx" not in page
    assert "budget private.xlsx" in _search(browser_for(stranger), "budget")


def test_an_upload_only_share_finds_nothing_of_what_is_in_the_folder(site, browser_for):
    owner, viewer = site.user("kham", department="Health"), site.user("somsak")
    dropbox = site.folder(site.home(owner), "Submissions")
    site.upload(owner, dropbox, "budget submission kham.xlsx")
    site.run(lambda w: grants.grant_role(w.ctx, owner, dropbox.id, "viewer", user=viewer))
    assert "budget submission kham.xlsx" in _search(browser_for(viewer), "budget submission")
    uploader = site.user("noy")
    site.run(lambda w: grants.grant_role(w.ctx, owner, dropbox.id, "uploader", user=uploader))
    page = _search(browser_for(uploader), "budget submission")
    assert "budget submission kham.xlsx" not in page and "Submissions" not in page


def test_someone_elses_pending_or_infected_file_is_not_found(site, browser_for):
    somsak, noy = site.user("somsak"), site.user("noy")
    root = site.department_root("Finance")
    site.upload(noy, root, "minutes clean.txt")
    site.upload(noy, root, "minutes pending.txt", clean=False)
    assert "minutes pending.txt" in _search(browser_for(noy), "minutes")  # the uploader's own
    page = _search(browser_for(somsak), "minutes")
    assert "minutes clean.txt" in page
    assert "minutes pending.txt" not in page


def test_trashed_items_and_what_is_inside_a_trashed_folder_are_not_found(site, browser_for):
    user = site.user("somsak")
    old = site.folder(site.home(user), "Old plans")
    inside = site.upload(user, old, "plan inside.txt")
    loose = site.upload(user, site.home(user), "plan loose.txt")
    web = browser_for(user)
    assert "plan inside.txt" in _search(web, "plan")
    site.run(lambda w: trash.delete_nodes(w.ctx, user, [old.id, loose.node_id]))
    page = _search(web, "plan")
    assert "Nothing found." in page
    assert inside.node_id and "plan inside.txt" not in page and "plan loose.txt" not in page


def test_search_in_this_folder_or_everywhere(site, browser_for):
    user = site.user("somsak")
    a, b = site.folder(site.home(user), "A"), site.folder(site.home(user), "B")
    site.upload(user, a, "notes a.txt")
    site.upload(user, b, "notes b.txt")
    web = browser_for(user)
    here = web.get(f"/f/{a.id}/search?q=notes", headers=EN).get_data(as_text=True)
    assert "notes a.txt" in here and "notes b.txt" not in here
    assert "In “A”" in here
    assert "notes b.txt" in _search(web, "notes", **{"in": ""})
    assert "notes b.txt" not in _search(web, "notes", **{"in": str(a.id)})


def test_more_results_page_on(site, browser_for):
    user = site.user("somsak")
    folder = site.folder(site.home(user), "Many")
    site.run(lambda w: [w.folder(w.ctx.db.merge(folder), f"item {i:03}") for i in range(55)])
    web = browser_for(user)
    first = _search(web, "item")
    assert "item 000" in first and "item 049" in first and "item 050" not in first
    assert "More results" in first
    second = _search(web, "item", page="1")
    assert "item 050" in second and "item 054" in second and "item 000" not in second
    assert "More results" not in second


def test_a_folder_the_person_may_not_see_is_404_as_a_scope(site, browser_for):
    stranger = site.user("kham", department="Health")
    hidden = site.folder(site.home(stranger), "Hidden")
    web = browser_for(site.user("somsak"))
    assert web.get(f"/search?q=x&in={hidden.id}").status_code == 404


def test_api_search_gives_hits_with_their_location(site, browser_for):
    user = site.user("somsak")
    folder = site.folder(site.home(user), "ກົມແຜນການ")
    site.upload(user, folder, "ແຜນ 2026.pdf")
    web = browser_for(user)
    answer = web.get("/api/v1/search?q=2026 ແຜນ").get_json()
    assert [(h["name"], h["location"], h["folder_id"]) for h in answer["items"]] == [
        ("ແຜນ 2026.pdf", ["Somsak", "ກົມແຜນການ"], folder.id)
    ]
    assert answer["more"] is False
    refused = web.get("/api/v1/search?q=a&limit=0")
    assert refused.status_code == 400
    assert web.get("/api/v1/search?q=PDF&limit=1").get_json()["items"] != []


def test_search_query_with_like_wildcards_finds_them_literally(site, browser_for):
    user = site.user("somsak")
    site.upload(user, site.home(user), "100% done.txt")
    site.upload(user, site.home(user), "1000 done.txt")
    page = _search(browser_for(user), "100%")
    assert "100% done.txt" in page and "1000 done.txt" not in page
    assert re.search(r"Results for “100%”", page)


def test_the_header_box_keeps_the_words_on_the_results_page(site, browser_for):
    page = _search(browser_for(site.user("somsak")), "ລາຍງານ ປີ")
    assert page.count('value="ລາຍງານ ປີ"') == 2  # the header's box and the page's
