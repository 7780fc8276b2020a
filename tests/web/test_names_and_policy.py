"""What a person sees of the name rules and the content policy: direction controls refused with
a sentence in Lao and English, blocked macros explained, hidden files' names not given away."""

from gshare.core.actor import OPERATOR
from gshare.core.models import ScanState, UserRole, Version
from gshare.files import lookup
from gshare.scanning import quarantine, verdicts
from tests.web.conftest import csrf_token, post

EN, LO = {"Accept-Language": "en"}, {"Accept-Language": "lo"}
SPOOF = "rtl\u202efdp.js"  # shows as 'rtlsj.pdf'
LAO_DIRECTION = "ຊື່ບໍ່ສາມາດມີຕົວອັກສອນທີ່ເບິ່ງບໍ່ເຫັນ ເຊິ່ງປ່ຽນທິດທາງຂອງຂໍ້ຄວາມ"


def _put(web, folder_id: int, name: str):
    return web.put(
        f"/api/v1/folders/{folder_id}/files",
        query_string={"name": name},
        data=b"%PDF-1.4\n%%EOF\n",
        headers={"X-CSRFToken": csrf_token(web), **EN},
    )


def test_a_name_with_a_direction_override_is_refused_at_upload_through_the_api(site, browser_for):
    user = site.user("somsak")
    home = site.home(user)
    web = browser_for(user)
    assert _put(web, home.id, "report.pdf").status_code == 201
    response = _put(web, home.id, SPOOF)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "name_invalid"
    assert "change the direction of text" in response.json["error"]["message"]
    listing = web.get(f"/f/{home.id}", headers=EN).get_data(as_text=True)
    assert "report.pdf" in listing and "fdp.js" not in listing


def test_new_folder_and_rename_with_a_direction_override_say_why_in_lao(site, browser_for):
    user = site.user("somsak")
    home = site.home(user)
    web = browser_for(user)
    created = post(web, f"/f/{home.id}/folders", {"name": "ແຜນການ"})
    assert created.status_code == 302
    refused = post(web, f"/f/{home.id}/folders", {"name": "a\u2067b"}, headers=LO)
    assert refused.status_code == 400
    assert LAO_DIRECTION in refused.get_data(as_text=True)
    folder_id = int(created.headers["Location"].rsplit("/", 1)[1])
    renamed = post(web, f"/nodes/{folder_id}/rename", {"name": SPOOF}, headers=EN)
    assert renamed.status_code == 302  # back to the folder's listing, which says why
    listing = web.get(renamed.location, headers=EN)
    assert "change the direction of text" in listing.get_data(as_text=True)


def test_a_blocked_macro_document_is_explained_in_lao(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "budget.docx", clean=False)
    reason = (
        "documents with macros (application/vnd.ms-word.document.macroEnabled.12) may not be shared"
    )
    site.run(
        lambda w: verdicts.record_verdict(
            w.ctx, w.ctx.db.get(Version, version.id), ScanState.BLOCKED, reason
        )
    )
    web = browser_for(user)
    assert reason in web.get("/notifications", headers=EN).get_data(as_text=True)
    lao = web.get("/notifications", headers=LO).get_data(as_text=True)
    assert "ບໍ່ອະນຸຍາດໃຫ້ແບ່ງປັນເອກະສານທີ່ມີມາໂຄຣ" in lao and "documents with macros" not in lao


def _hidden_infected_file(site):
    """Alice's infected plan.pdf in Finance's space; Bob, an editor there, cannot see it."""
    alice = site.user("alice", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    bob = site.user("bob", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    root = site.department_root("Finance")
    version = site.upload(alice, root, "plan.pdf", b"%PDF-1.4\n", clean=False)
    site.run(
        lambda w: verdicts.record_verdict(
            w.ctx, w.ctx.db.get(Version, version.id), ScanState.INFECTED, "Eicar-Test"
        )
    )
    return alice, bob, root, version


def test_a_new_folder_named_like_a_hidden_infected_file_is_created_as_any_other(site, browser_for):
    alice, bob, root, version = _hidden_infected_file(site)
    web = browser_for(bob)
    assert "plan.pdf" not in web.get(f"/f/{root.id}").get_data(as_text=True)
    free = post(web, f"/f/{root.id}/folders", {"name": "other"})
    hidden = post(web, f"/f/{root.id}/folders", {"name": "plan.pdf"})
    assert (hidden.status_code, free.status_code) == (302, 302)
    api = web.post(
        f"/api/v1/folders/{root.id}/folders",
        json={"name": "notes.pdf"},
        headers={"X-CSRFToken": csrf_token(web)},
    )
    assert api.status_code == 201
    assert ">plan.pdf</a>" in web.get(f"/f/{root.id}").get_data(as_text=True)

    def seen(w):
        folder = w.ctx.db.merge(root)
        mine = {e.node.name: e.node.kind for e in lookup.list_folder(w.ctx, alice, folder)}
        held = [i.version.id for i in quarantine.list_quarantine(w.ctx, OPERATOR)]
        return mine, held

    mine, held = site.run(seen)  # nothing of alice's is lost: her file stepped aside
    assert mine["plan.pdf"] == "folder" and mine["plan (2).pdf"] == "file"
    assert held == [version.id]


def test_an_s3_folder_path_through_a_hidden_file_name_is_created_as_any_other(site, browser_for):
    alice, bob, root, version = _hidden_infected_file(site)
    web = browser_for(bob)
    for path in ("free", "plan.pdf"):
        response = web.put(
            f"/api/v1/folders/{root.id}/files",
            query_string={"name": "inside.txt", "path": path},
            data=b"text",
            headers={"X-CSRFToken": csrf_token(web)},
        )
        assert response.status_code == 201, response.json


def test_renaming_a_file_to_an_ending_windows_runs_says_why_in_lao_and_keeps_its_name(
    site, browser_for
):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "notes.txt", data=b"del /q notes\n")
    web = browser_for(user)
    renamed = post(web, f"/nodes/{version.node_id}/rename", {"name": "minutes.txt"})
    assert renamed.status_code == 302
    assert "minutes.txt" in web.get(renamed.location, headers=EN).get_data(as_text=True)
    refused = post(web, f"/nodes/{version.node_id}/rename", {"name": "minutes.bat"}, headers=LO)
    listing = web.get(refused.location, headers=LO).get_data(as_text=True)
    assert "ບໍ່ອະນຸຍາດໃຫ້ແບ່ງປັນໄຟລ໌ທີ່ລົງທ້າຍດ້ວຍ .bat" in listing
    assert "minutes.txt" in listing and "minutes.bat" not in listing
