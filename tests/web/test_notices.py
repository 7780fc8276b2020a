"""Notifications from the scanner and the scan-state badges, in English and Lao."""

import re

from gshare.core.models import ScanState, UserRole, Version
from gshare.scanning import verdicts
from tests.web.conftest import post

EN, LO = {"Accept-Language": "en"}, {"Accept-Language": "lo"}
DISGUISED = "the content is a program (application/x-dosexec) but the name says application/pdf"


def _verdict(site, version, state, signature=None):
    site.run(
        lambda w: verdicts.record_verdict(
            w.ctx, w.ctx.db.get(Version, version.id), state, signature
        )
    )


def _unread(page: str) -> str | None:
    match = re.search(r'class="count"([^>]*)>(\d+)<', page)  # hidden at 0: not seen
    return match.group(2) if match and " hidden" not in match.group(1) else None


def test_uploader_sees_an_infected_upload_counted_in_the_header_and_listed(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "ບົດລາຍງານ.docx", clean=False)
    _verdict(site, version, ScanState.INFECTED, "Win.Test.EICAR_HDB-1")
    web = browser_for(user)
    assert _unread(web.get("/", headers=EN).get_data(as_text=True)) == "1"
    page = web.get("/notifications", headers=EN).get_data(as_text=True)
    assert "Your upload ບົດລາຍງານ.docx was found infected (Win.Test.EICAR_HDB-1)" in page
    lao = web.get("/notifications", headers=LO).get_data(as_text=True)
    assert "ບົດລາຍງານ.docx" in lao and "ກວດພົບໄວຣັສ" in lao


def test_marking_notices_read_clears_the_count(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", clean=False)
    _verdict(site, version, ScanState.INFECTED, "Eicar")
    web = browser_for(user)
    notice_id = re.search(
        r'name="id" value="(\d+)"', web.get("/notifications").get_data(as_text=True)
    ).group(1)
    assert _unread(web.get("/", headers=EN).get_data(as_text=True)) == "1"
    assert post(web, "/notifications/read", {"id": notice_id}).status_code == 302
    assert _unread(web.get("/", headers=EN).get_data(as_text=True)) is None


def test_nobody_can_mark_or_see_the_notices_of_someone_else(site, browser_for):
    owner, other = site.user("owner"), site.user("other")
    version = site.upload(owner, site.home(owner), "secret-name.txt", clean=False)
    _verdict(site, version, ScanState.INFECTED, "Eicar")
    web = browser_for(owner)
    notice_id = re.search(
        r'name="id" value="(\d+)"', web.get("/notifications").get_data(as_text=True)
    ).group(1)
    assert "secret-name.txt" in web.get("/notifications").get_data(as_text=True)
    stranger = browser_for(other)
    assert "secret-name.txt" not in stranger.get("/notifications").get_data(as_text=True)
    post(stranger, "/notifications/read", {"id": notice_id})
    assert _unread(web.get("/", headers=EN).get_data(as_text=True)) == "1"
    post(web, "/notifications/read", {"id": notice_id})  # the same form, by its owner
    assert _unread(web.get("/", headers=EN).get_data(as_text=True)) is None


def test_blocked_upload_notice_gives_the_reason_in_lao(site, browser_for):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "invoice.pdf", clean=False)
    _verdict(site, version, ScanState.BLOCKED, DISGUISED)
    web = browser_for(user)
    english = web.get("/notifications", headers=EN).get_data(as_text=True)
    assert "was blocked: the content is a program (application/x-dosexec)" in english
    lao = web.get("/notifications", headers=LO).get_data(as_text=True)
    assert "application/x-dosexec" in lao and "the content is a program" not in lao


def test_managers_hear_when_a_shared_file_is_pulled_back(site, browser_for):
    owner = site.user("owner", "Finance")
    manager = site.user("boss", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    bystander = site.user("colleague", "Finance")
    version = site.upload(owner, site.department_root("Finance"), "plan.xlsx")
    _verdict(site, version, ScanState.INFECTED, "Xls.Macro-1")
    page = browser_for(owner).get("/notifications", headers=EN).get_data(as_text=True)
    assert "plan.xlsx was found infected (Xls.Macro-1) after it had been shared" in page
    assert _unread(browser_for(manager).get("/", headers=EN).get_data(as_text=True)) == "1"
    assert _unread(browser_for(bystander).get("/", headers=EN).get_data(as_text=True)) is None


def test_uploader_sees_a_badge_for_every_scan_state(site, browser_for):
    cases = [
        (ScanState.PENDING, None, None, "Being scanned"),
        (ScanState.CLEAN, None, None, "Clean"),
        (ScanState.INFECTED, "Eicar-Test", None, "Infected: Eicar-Test"),
        (
            ScanState.BLOCKED,
            "files ending in .exe may not be shared",
            None,
            "Blocked: files ending in .exe may not be shared",
        ),
        (
            ScanState.UNSCANNABLE,
            "larger than the scanner accepts",
            None,
            "Too large to scan: not shared",
        ),
        (
            ScanState.UNSCANNABLE,
            "larger than the scanner accepts",
            "allowed by policy: larger than the scanner accepts",
            "Not scanned: too large",
        ),
        (ScanState.ERROR, "connection refused", None, "Scanner error, will retry"),
    ]
    for number, (state, signature, release, label) in enumerate(cases):
        user = site.user(f"uploader{number}")
        version = site.upload(user, site.home(user), "file.bin", clean=False)

        def judge(w, v=version, s=state, sig=signature, rel=release):
            row = w.ctx.db.get(Version, v.id)
            row.scan_state, row.scan_signature, row.release_reason = s, sig, rel

        site.run(judge)
        page = browser_for(user).get(f"/files/{version.node_id}", headers=EN)
        assert label in page.get_data(as_text=True), (state, label)


def test_others_see_not_scanned_too_large_on_a_version_allowed_by_policy(site, browser_for):
    owner, colleague = site.user("owner"), site.user("colleague")
    big = site.upload(owner, site.department_root("Finance"), "video.mp4", clean=False)
    clean = site.upload(owner, site.department_root("Finance"), "memo.txt")

    def allow(w):
        row = w.ctx.db.get(Version, big.id)
        row.scan_state = ScanState.UNSCANNABLE
        row.release_reason = "allowed by policy: larger than the scanner accepts"

    site.run(allow)
    web = browser_for(colleague)
    assert "Not scanned: too large" in web.get(f"/files/{big.node_id}", headers=EN).get_data(
        as_text=True
    )
    memo = web.get(f"/files/{clean.node_id}", headers=EN).get_data(as_text=True)
    assert "badge" not in memo
