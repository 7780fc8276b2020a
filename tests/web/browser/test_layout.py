"""What every page looks like to a keyboard, a screen reader and a phone: axe-core finds
nothing, nothing is wider than the screen, Lao words stay whole, the menu and the skip link."""

from __future__ import annotations

import pytest

from gshare.core.actor import OPERATOR
from gshare.core.models import ScanState, UserRole, Version
from gshare.files import trash
from gshare.org import users
from gshare.scanning import verdicts
from gshare.sharing import grants, links
from tests.fixtures.world import PASSWORD
from tests.web.browser.conftest import DESKTOP, PHONE, axe_violations, page_width, sign_in

SIZES = {"desktop": DESKTOP, "phone": PHONE}


def _office(site):
    """An administrator with files, a subfolder, a share, links, trash, a quarantined file,
    a notice, and colleagues with long Lao names; return the pages a person visits."""
    admin = site.user("khamla", "ກົມແຜນການ ແລະ ການເງິນ", role=UserRole.SYSTEM_ADMIN)
    site.run(
        lambda w: users.add_user(
            w.ctx,
            OPERATOR,
            "souksavanh",
            "ສຸກສະຫວັນ ພົມມະວົງສາ",
            w.department("ກົມແຜນການ ແລະ ການເງິນ"),
            password=PASSWORD,
        )
    )
    home = site.home(admin)
    folder = site.folder(home, "ບົດລາຍງານປະຈຳປີ 2025 ຂອງກົມແຜນການ")
    version = site.upload(admin, folder, "ບົດລາຍງານ_ຂະໜາດໃຫຍ່_ສະບັບສົມບູນ_final_v3.pdf", b"%PDF-1.4\n")
    site.upload(admin, folder, "ບົດລາຍງານ_ຂະໜາດໃຫຍ່_ສະບັບສົມບູນ_final_v3.pdf", b"%PDF-1.4\n2")
    gone = site.upload(admin, home, "old.txt", b"old")
    bad = site.upload(admin, home, "virus.txt", b"x", clean=False)

    def setup(w):
        verdicts.record_verdict(
            w.ctx, w.ctx.db.get(Version, bad.id), ScanState.INFECTED, "Eicar-Test"
        )
        trash.delete_node(w.ctx, w.ctx.db.merge(admin), gone.node_id)
        planning = w.department("ກົມແຜນການ ແລະ ການເງິນ")
        grants.grant_role(w.ctx, w.ctx.db.merge(admin), folder.id, "viewer", department=planning)
        view = links.create_link(w.ctx, w.ctx.db.merge(admin), folder.id, "view")[1]
        upload = links.create_link(w.ctx, w.ctx.db.merge(admin), folder.id, "upload")[1]
        guarded = links.create_link(
            w.ctx, w.ctx.db.merge(admin), folder.id, "view", "a long password"
        )[1]
        return view, upload, guarded

    view, upload, guarded = site.run(setup)
    person = {
        "start": "/",
        "my-files": "/my",
        "folder": f"/f/{folder.id}",
        "search": f"/f/{folder.id}/search?q=ບົດລາຍງານ",
        "file-and-versions": f"/files/{version.node_id}",
        "share-and-links": f"/nodes/{folder.id}/share",
        "move": f"/nodes/{version.node_id}/move",
        "shared-with-me": "/shared",
        "shared-with-department": "/shared/department",
        "department-spaces": "/spaces",
        "trash": f"/spaces/{home.space_id}/trash",
        "notices": "/notifications",
        "account": "/account",
        "sessions": "/account/sessions",
        "access-keys": "/account/keys",
        "admin": "/admin/",
        "people": "/admin/users",
        "departments": "/admin/departments",
        "quotas": "/admin/spaces",
        "quarantine": "/admin/quarantine",
        "audit-log": "/admin/audit",
    }
    outsider = {
        "sign-in": "/login",
        "link-view": f"/s/{view}",
        "link-upload": f"/s/{upload}",
        "link-password": f"/s/{guarded}",
    }
    return person, outsider


def _problems(page, name, axe_source, width, tmp_path, lang):
    """What is wrong with the page shown: axe's violations, sideways scrolling, the h1."""
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    found = [f"{name}: {v}" for v in axe_violations(page, axe_source)]
    wide = page_width(page)
    if wide > width:
        found.append(f"{name}: {wide}px wide on a {width}px screen")
    if page.locator("h1").count() != 1:
        found.append(f"{name}: {page.locator('h1').count()} h1 headings")
    if page.locator("html").get_attribute("lang") != lang:
        found.append(f"{name}: <html lang> is not {lang}")
    return found


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["lo", "en"])
def test_every_page_passes_axe_and_fits_the_screen(
    site, open_page, axe_source, tmp_path, lang, size
):
    person, outsider = _office(site)
    viewport = SIZES[size]
    page = open_page(lang, **viewport)
    sign_in(page, "khamla")
    stranger = open_page(lang, **viewport)
    problems = []
    for visitor, pages in ((page, person), (stranger, outsider)):
        for name, path in pages.items():
            answer = visitor.goto(path)
            assert answer.ok, f"{name}: {path} answered {answer.status}"
            problems += _problems(visitor, name, axe_source, viewport["width"], tmp_path, lang)
    print(f"screenshots in {tmp_path}")
    assert not problems, "\n".join(problems)
