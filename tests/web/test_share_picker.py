"""The share form's picker: people and departments found by part of a name, the form kept
when a name matches no one or several, notices to whoever gets a share, and department shares
under "Shared with me" with the department named."""

import re

import pytest

from gshare.core.models import Notification, User, UserRole
from tests.web.conftest import post


def _named(site, username, display_name, department="Planning"):
    user = site.user(username, department)

    def rename(w):
        w.ctx.db.get(User, user.id).display_name = display_name

    site.run(rename)
    return user


@pytest.fixture
def english(browser_for):
    """Return a function giving a signed-in client that reads English."""

    def make(user):
        web = browser_for(user)
        web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return web

    return make


def _share_form(web, node_id, **form):
    return post(web, f"/nodes/{node_id}/grants", form)


def test_suggestions_find_people_by_part_of_a_lao_name_and_departments_by_name(site, browser_for):
    owner = site.user("owner", "Finance")
    _named(site, "somsak", "ສົມສັກ ພົມມະວົງ")
    site.department("ພະແນກແຜນການ")
    web = browser_for(owner)
    people = web.get("/grantees?q=ສັກ").get_json()["suggestions"]
    assert [(p["kind"], p["label"]) for p in people] == [("user", "ສົມສັກ ພົມມະວົງ")]
    assert "somsak" in people[0]["detail"]
    by_username = web.get("/grantees?q=SOMS").get_json()["suggestions"]
    assert [p["label"] for p in by_username] == ["ສົມສັກ ພົມມະວົງ"]
    units = web.get("/grantees?q=ແຜນ").get_json()["suggestions"]
    assert [(u["kind"], u["label"]) for u in units] == [("department", "ພະແນກແຜນການ")]


# The same Lao text keyed two ways (escaped, so an editor cannot merge them): ໜ as one letter
# (U+0EDC) or as ຫ + ນ; a tone mark after the vowel above the letter (ສີ່) or before it (ສ່ີ).
NOI_ONE_LETTER = "\u0edc\u0ec9\u0ead\u0e8d"  # ໜ້ອຍ
NOI_TWO_LETTERS = "\u0eab\u0e99\u0ec9\u0ead\u0e8d"  # ຫນ້ອຍ
SIPHON_TONE_LAST = "\u0eaa\u0eb5\u0ec8\u0e9e\u0ead\u0e99"  # ສີ່ພອນ
SIPHON_TONE_FIRST = "\u0eaa\u0ec8\u0eb5\u0e9e\u0ead\u0e99"  # ສ່ີພອນ
NONGKHAI_ONE_LETTER = "\u0edd\u0ead\u0e87\u0e84\u0eb2\u0e8d"  # ໝອງຄາຍ
NONGKHAI_TWO_LETTERS = "\u0eab\u0ea1\u0ead\u0e87"  # ຫມອງ


def test_suggestions_match_lao_spelled_either_way_as_the_search_does(site, browser_for):
    owner = site.user("owner", "Finance")
    _named(site, "noy", f"{NOI_ONE_LETTER} {SIPHON_TONE_LAST}")
    site.department(f"ພະແນກ {NONGKHAI_ONE_LETTER}")
    web = browser_for(owner)
    found = web.get(f"/grantees?q={NOI_ONE_LETTER}").get_json()["suggestions"]
    assert [p["label"] for p in found] == [f"{NOI_ONE_LETTER} {SIPHON_TONE_LAST}"]
    assert web.get(f"/grantees?q={NOI_TWO_LETTERS}").get_json()["suggestions"] == found
    assert web.get(f"/grantees?q={SIPHON_TONE_FIRST}").get_json()["suggestions"] == found
    units = web.get(f"/grantees?q={NONGKHAI_TWO_LETTERS}").get_json()["suggestions"]
    assert [(u["kind"], u["label"]) for u in units] == [
        ("department", f"ພະແນກ {NONGKHAI_ONE_LETTER}")
    ]


def test_suggestions_leave_out_disabled_people_and_are_limited(site, browser_for):
    owner = site.user("owner", "Finance")
    for n in range(12):
        _named(site, f"staff{n}", f"Staff member {n}")
    gone = _named(site, "staffgone", "Staff member gone")
    web = browser_for(owner)
    found = web.get("/grantees?q=staff").get_json()["suggestions"]
    assert len(found) == 8
    assert all(s["kind"] == "user" for s in found)

    def disable(w):
        w.ctx.db.get(User, gone.id).disabled = True

    assert web.get("/grantees?q=gone").get_json()["suggestions"][0]["label"] == (
        "Staff member gone"
    )
    site.run(disable)
    assert web.get("/grantees?q=gone").get_json()["suggestions"] == []


def test_suggestions_need_a_signed_in_person(app, site):
    site.user("somsak", "Planning")
    assert app.test_client().get("/grantees?q=som").status_code in (302, 401)


def test_share_with_a_chosen_suggestion_and_the_person_is_told(site, browser_for, english):
    owner = site.user("owner", "Finance")
    somsak = _named(site, "somsak", "ສົມສັກ ພົມມະວົງ")
    folder = site.folder(site.home(owner), "ບົດລາຍງານ")
    web = browser_for(owner)
    ref = web.get("/grantees?q=ສົມສັກ").get_json()["suggestions"][0]["ref"]
    answer = _share_form(web, folder.id, grantee=ref, who="ສົມສັກ ພົມມະວົງ", role="editor")
    assert answer.status_code == 302
    assert "ສົມສັກ ພົມມະວົງ (somsak)" in web.get(f"/nodes/{folder.id}/share").get_data(True)
    reader = english(somsak)
    notices = reader.get("/notifications").get_data(as_text=True)
    assert "Owner shared “ບົດລາຍງານ” with you (role: Editor)." in notices
    assert f'href="/f/{folder.id}"' in notices
    assert "ບົດລາຍງານ" in reader.get("/shared").get_data(as_text=True)


def test_a_name_typed_without_choosing_is_found_when_only_one_matches(site, browser_for):
    owner = site.user("owner", "Finance")
    somsak = _named(site, "somsak", "ສົມສັກ ພົມມະວົງ")
    folder = site.folder(site.home(owner), "Plans")
    web = browser_for(owner)
    assert _share_form(web, folder.id, who="ພົມມະ", role="viewer").status_code == 302
    assert browser_for(somsak).get(f"/f/{folder.id}").status_code == 200


def test_an_unknown_name_shows_the_form_again_as_typed_with_a_sentence(site, english):
    owner = site.user("owner", "Finance")
    folder = site.folder(site.home(owner), "Plans")
    web = english(owner)
    answer = _share_form(web, folder.id, who="ບໍ່ມີຜູ້ນີ້", role="editor", subdepartments="1")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Share “Plans”" in page  # the share page, not an error page
    assert "No active person or department is called “ບໍ່ມີຜູ້ນີ້”" in page
    assert 'value="ບໍ່ມີຜູ້ນີ້"' in page
    assert re.search(r'<option value="editor"\s+selected>', page)
    assert 'name="subdepartments" value="1" checked' in page
    assert "This item does not exist" not in page


def test_a_name_several_people_share_asks_to_choose_one(site, browser_for, english):
    owner = site.user("owner", "Finance")
    first = _named(site, "khamla1", "ຄຳລາ ສີສຸວັນ")
    _named(site, "khamla2", "ຄຳລາ ວົງສາ")
    folder = site.folder(site.home(owner), "Plans")
    web = english(owner)
    answer = _share_form(web, folder.id, who="ຄຳລາ", role="viewer")
    assert answer.status_code == 400
    assert "Several people or departments match “ຄຳລາ”" in answer.get_data(as_text=True)
    assert _share_form(web, folder.id, who="khamla1", role="viewer").status_code == 302
    assert browser_for(first).get(f"/f/{folder.id}").status_code == 200


def test_the_form_in_lao_says_what_is_wrong_in_lao(site, browser_for):
    owner = site.user("owner", "Finance")
    folder = site.folder(site.home(owner), "Plans")
    web = browser_for(owner)
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "lo"
    page = _share_form(web, folder.id, who="nobody-here", role="viewer").get_data(as_text=True)
    assert "ບໍ່ມີ" in page and "“nobody-here”" in page
    assert "No active person" not in page


def test_a_department_share_tells_each_member_and_shows_via_the_department(
    site, browser_for, english, gs
):
    owner = site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    ministry = site.department("ກະຊວງການເງິນ")
    division = site.department("ຂະແໜງງົບປະມານ", ministry)
    member = site.user("noy", division)
    other = site.user("bee", "Planning")
    folder = site.folder(site.department_root("Finance"), "ງົບປະມານ 2026")
    web = browser_for(owner)
    answer = _share_form(
        web, folder.id, grantee=f"department:{ministry.id}", role="viewer", subdepartments="1"
    )
    assert answer.status_code == 302
    reader = english(member)
    shared = reader.get("/shared").get_data(as_text=True)
    assert "ງົບປະມານ 2026" in shared
    assert "via ກະຊວງການເງິນ" in shared
    notices = reader.get("/notifications").get_data(as_text=True)
    assert "with ກະຊວງການເງິນ, your department" in notices
    assert "ງົບປະມານ 2026" not in browser_for(other).get("/shared").get_data(as_text=True)
    with gs.unit_of_work() as ctx:
        told = {n.user_id for n in ctx.db.query(Notification).filter_by(kind="share.granted")}
    assert told == {member.id}


def test_a_notice_never_names_a_file_not_yet_clean(site, browser_for, english):
    owner = site.user("owner", "Finance")
    reader_user = site.user("reader", "Planning")
    version = site.upload(owner, site.home(owner), "ລາຍງານລັບ.pdf", b"%PDF-", clean=False)
    web = browser_for(owner)
    assert "ລາຍງານລັບ.pdf" in web.get(f"/files/{version.node_id}").get_data(as_text=True)
    post(web, f"/nodes/{version.node_id}/grants", {"username": "reader", "role": "viewer"})
    notices = english(reader_user).get("/notifications").get_data(as_text=True)
    assert "Something was shared with you that you cannot open now" in notices
    assert "ລາຍງານລັບ" not in notices
