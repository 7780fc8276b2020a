"""Uploads that recover, and a folder page that follows what happens without a reload: a failed
upload says why (Lao and English) and Retry sends it once the cause is gone; a connection cut
mid-upload resumes on its own; Pause, Resume and Cancel; the warning before a file the scanner
will not take; the scan badge, the notices count and the space's use bar change by themselves."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from gshare.activity import notifications
from gshare.core.models import Space, utcnow
from gshare.files import uploads
from gshare.scanning.queue import Backoff, claim, scan_version
from gshare.sharing import links
from tests.fixtures.clamd import eicar_bytes
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    page_width,
    shot,
    sign_in,
)

UPLOAD_TIMEOUT_MS = 120_000  # a bound for a busy machine; every wait ends at its event
LIVE_MS = 60_000  # the page asks every few seconds, less often while nothing changes
PART_URL = re.compile(r".*/api/v1/uploads/[^/]+/parts/(\d+)$")
SCREENS = {"desktop-en": ("en", DESKTOP), "phone-lo": ("lo", PHONE)}
TEXT = {
    "en": {
        "quota": "The space is full",
        "busy": "The server is busy. Trying again in",
        "name": "This name is refused.",
        "offline": "It will continue when the connection is back.",
        "held": "it will not be shared until an administrator allows it",
        "cancelled": "Cancelled",
        "retry": "Retry",
        "confirm": "Upload anyway",
    },
    "lo": {
        "quota": "ພື້ນທີ່ເຕັມແລ້ວ",
        "busy": "ເຊີບເວີກຳລັງຫຍຸ້ງ. ຈະລອງໃໝ່ໃນອີກ",
        "name": "ຊື່ນີ້ໃຊ້ບໍ່ໄດ້.",
        "offline": "ຈະອັບໂຫຼດຕໍ່ເອງ ເມື່ອການເຊື່ອມຕໍ່ກັບມາ.",
        "held": "ຈົນກວ່າຜູ້ບໍລິຫານລະບົບຈະອະນຸຍາດ",
        "cancelled": "ຍົກເລີກແລ້ວ",
        "retry": "ລອງໃໝ່",
        "confirm": "ອັບໂຫຼດເຖິງຢ່າງໃດກໍ່ຕາມ",
    },
}


@pytest.fixture(params=SCREENS, ids=SCREENS)
def screen(request):
    """A language and a window: English on a desk, Lao on a phone."""
    return request.param


@pytest.fixture
def my_files(site, open_page, screen):
    """Somsak's files page open in the screen's language and size; returns (page, user, lang)."""
    user = site.user("somsak")
    lang, size = SCREENS[screen]
    page = open_page(lang, **size)
    sign_in(page, "somsak")
    page.goto("/my")
    return page, user, lang


def _check_page(page, axe_source, screen):
    assert axe_violations(page, axe_source) == []
    if screen == "phone-lo":
        assert page_width(page) <= PHONE["width"]


def _shot_row(page, row, name):
    """Screenshot a queue row: on a phone the window around it (a full-page picture would draw
    the selection bar, sticky at the window's foot, over the middle of the page)."""
    if page.viewport_size["width"] > PHONE["width"]:
        return shot(page, name)
    row.evaluate("(li) => li.scrollIntoView({block: 'center'})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _set_quota(site, user, quota):
    def change(w):
        w.ctx.db.get(Space, w.home(user).space_id).quota_bytes = quota

    site.run(change)


def _download_sha256(page, name):
    link = page.locator("table.entries a.file", has_text=name)
    expect(link).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)  # the page reloads when all are done
    download = page.request.get(link.get_attribute("href") + "/download")
    assert download.ok
    return hashlib.sha256(download.body()).hexdigest()


def _chunked_file(page, tmp_path, parts=3):
    """Write a file of `parts` parts of the page's uploader (the last one short)."""
    chunk = page.evaluate("CHUNK")
    data = os.urandom((parts - 1) * chunk + 1024 * 1024)
    path = tmp_path / "survey.bin"
    path.write_bytes(data)
    return path, data


def _upload_held_at_part_2(page, path):
    """Start uploading path with its part 2 held in flight (never answered); return its row."""
    page.route(
        PART_URL,
        lambda route: None if route.request.url.endswith("/parts/2") else route.continue_(),
    )
    with page.expect_request(lambda r: r.url.endswith("/parts/2")):
        page.set_input_files("#pick-files", str(path))
    return page.locator("#queue li", has_text=path.name)


def _stored_parts(page) -> list[int]:
    return page.evaluate(
        """async () => {
             const key = Object.keys(localStorage).find((k) => k.startsWith("gshare-upload:"));
             const answer = await fetch(`/api/v1/uploads/${localStorage.getItem(key)}/parts`);
             return (await answer.json()).items.map((part) => part.number);
           }"""
    )


def test_a_full_space_says_so_and_retry_sends_the_file_once_there_is_room(
    site, my_files, screen, axe_source, tmp_path
):
    page, user, lang = my_files
    _set_quota(site, user, 10)
    (tmp_path / "ລາຍງານ.txt").write_text("ລາຍງານປະຈຳເດືອນ " * 10)
    page.set_input_files("#pick-files", str(tmp_path / "ລາຍງານ.txt"))
    row = page.locator("#queue li", has_text="ລາຍງານ.txt")
    expect(row).to_have_attribute("data-state", "failed", timeout=UPLOAD_TIMEOUT_MS)
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["quota"])
    retry = row.get_by_role("button", name=TEXT[lang]["retry"])
    expect(retry).to_be_visible()
    _check_page(page, axe_source, screen)
    _shot_row(page, row, f"uploads-quota-full-{screen}")

    _set_quota(site, user, 10_000)
    retry.click()
    expect(page.locator("table.entries a.file", has_text="ລາຍງານ.txt")).to_be_visible(
        timeout=UPLOAD_TIMEOUT_MS
    )


def test_a_refused_name_says_why(my_files, screen):
    page, _, lang = my_files
    page.set_input_files(
        "#pick-files",
        files=[{"name": "rtl\u202efdp.js", "mimeType": "text/plain", "buffer": b"x"}],
    )
    row = page.locator("#queue li[data-state=failed]")
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["name"], timeout=UPLOAD_TIMEOUT_MS)
    _shot_row(page, row, f"uploads-name-refused-{screen}")


def test_a_connection_cut_mid_upload_resumes_on_its_own_without_sending_stored_parts(
    site, my_files, screen, tmp_path
):
    page, _, lang = my_files
    path, data = _chunked_file(page, tmp_path)
    sent: list[int] = []
    cut = [True]

    def cut_after_part_1(route):
        number = int(PART_URL.match(route.request.url).group(1))
        sent.append(number)
        if cut[0] and number != 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(PART_URL, cut_after_part_1)
    page.set_input_files("#pick-files", str(path))
    row = page.locator("#queue li", has_text="survey.bin")
    expect(row).to_have_attribute("data-state", "retrying", timeout=UPLOAD_TIMEOUT_MS)
    assert _stored_parts(page) == [1]
    page.context.set_offline(True)
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["offline"])
    _shot_row(page, row, f"uploads-offline-{screen}")

    cut[0] = False
    page.context.set_offline(False)  # the page hears "online" and goes on at once
    assert _download_sha256(page, "survey.bin") == hashlib.sha256(data).hexdigest()
    assert sent.count(1) == 1, sent  # part 1 was stored before the cut: never sent again
    assert sent.count(2) >= 2 and sent.count(3) >= 2, sent


def test_pause_stops_and_resume_sends_only_the_missing_parts(site, open_page, tmp_path):
    site.user("somsak")
    page = open_page("en", **DESKTOP)
    sign_in(page, "somsak")
    page.goto("/my")
    path, data = _chunked_file(page, tmp_path)
    held = []

    def hold_part_2(route):
        if route.request.url.endswith("/parts/2") and not held:
            held.append(route)  # never answered: the part is "on its way" until Pause
        else:
            route.continue_()

    page.route(PART_URL, hold_part_2)
    with page.expect_request(lambda r: r.url.endswith("/parts/2")):
        page.set_input_files("#pick-files", str(path))
    row = page.locator("#queue li", has_text="survey.bin")
    expect(row).to_have_attribute("data-state", "uploading")
    row.get_by_role("button", name="Pause").click()
    expect(row).to_have_attribute("data-state", "paused")
    expect(row.locator(".status")).to_have_text("Paused")
    shot(page, "uploads-paused-desktop-en")
    stored = _stored_parts(page)
    assert 2 not in stored

    sent: list[int] = []

    def record(route):
        sent.append(int(PART_URL.match(route.request.url).group(1)))
        route.continue_()

    page.unroute(PART_URL)
    page.route(PART_URL, record)
    row.get_by_role("button", name="Resume").click()
    assert _download_sha256(page, "survey.bin") == hashlib.sha256(data).hexdigest()
    assert sorted(sent) == sorted({1, 2, 3} - set(stored)), (sent, stored)


def test_cancel_ends_the_upload_and_the_store_drops_its_parts(site, open_page, s3_store, tmp_path):
    site.user("somsak")
    page = open_page("lo", **PHONE)
    sign_in(page, "somsak")
    page.goto("/my")
    path, _ = _chunked_file(page, tmp_path)
    row = _upload_held_at_part_2(page, path)
    expect(row).to_have_attribute("data-state", "uploading")
    assert len(list(s3_store.list_multipart_uploads())) == 1
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        row.get_by_role("button", name="ຍົກເລີກ").click()
    assert deleted.value.status == 204
    expect(row).to_have_attribute("data-state", "cancelled")
    expect(row.locator(".status")).to_have_text(TEXT["lo"]["cancelled"])
    _shot_row(page, row, "uploads-cancelled-phone-lo")
    assert list(s3_store.list_multipart_uploads()) == []
    assert page.evaluate("Object.keys(localStorage)") == []
    assert page.locator("table.entries a.file").count() == 0


def test_a_file_larger_than_the_scanner_takes_is_announced_and_goes_on_when_confirmed(
    site, gs, my_files, screen, axe_source, tmp_path
):
    gs.config = gs.config.replace(antivirus={"max_scan_size_mb": 1})
    page, _, lang = my_files
    page.reload()  # the page learns the limit when it is drawn
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(1024 * 1024 + 1))
    (tmp_path / "small.txt").write_text("small")
    page.set_input_files("#pick-files", [str(tmp_path / "scan.pdf"), str(tmp_path / "small.txt")])
    row = page.locator("#queue li", has_text="scan.pdf")
    expect(row).to_have_attribute("data-state", "held")
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["held"])
    small = page.locator("#queue li", has_text="small.txt")
    expect(small).to_have_attribute("data-state", "done", timeout=UPLOAD_TIMEOUT_MS)
    _check_page(page, axe_source, screen)
    _shot_row(page, row, f"uploads-too-large-to-scan-{screen}")

    row.get_by_role("button", name=TEXT[lang]["confirm"]).click()
    expect(page.locator("table.entries a.file", has_text="scan.pdf")).to_be_visible(
        timeout=UPLOAD_TIMEOUT_MS
    )
    expect(page.locator("table.entries .badge.scan-unscannable")).to_have_count(1)


def test_an_outsider_with_an_upload_link_is_warned_of_a_file_the_scanner_will_not_take(
    site, gs, open_page, screen, axe_source, tmp_path
):
    gs.config = gs.config.replace(antivirus={"max_scan_size_mb": 1})
    owner = site.user("owner")
    inbox = site.folder(site.home(owner), "ກ່ອງຮັບເອກະສານ")
    token = site.run(
        lambda w: links.create_link(w.ctx, w.ctx.db.merge(owner), inbox.id, "upload")[1]
    )
    lang, size = SCREENS[screen]
    page = open_page(lang, **size)
    page.goto(f"/s/{token}")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(1024 * 1024 + 1))
    (tmp_path / "small.txt").write_text("small")
    page.set_input_files("#pick-files", [str(tmp_path / "scan.pdf"), str(tmp_path / "small.txt")])
    small = page.locator("#queue li", has_text="small.txt")
    expect(small).to_have_attribute("data-state", "done", timeout=UPLOAD_TIMEOUT_MS)
    row = page.locator("#queue li", has_text="scan.pdf")
    expect(row).to_have_attribute("data-state", "held")
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["held"])
    _check_page(page, axe_source, screen)
    _shot_row(page, row, f"uploads-link-too-large-to-scan-{screen}")

    row.get_by_role("button", name=TEXT[lang]["confirm"]).click()
    expect(row).to_have_attribute("data-state", "done", timeout=UPLOAD_TIMEOUT_MS)


def test_badges_and_the_notices_count_change_without_a_reload(site, gs, my_files, screen, tmp_path):
    gs.config = gs.config.replace(antivirus={"scan_while_uploading": False})
    page, _, _ = my_files
    (tmp_path / "minutes.txt").write_text("minutes of the meeting")
    (tmp_path / "eicar.txt").write_bytes(eicar_bytes())
    page.set_input_files(
        "#pick-files", [str(tmp_path / "minutes.txt"), str(tmp_path / "eicar.txt")]
    )
    expect(page.locator("table.entries .badge.scan-pending")).to_have_count(
        2, timeout=UPLOAD_TIMEOUT_MS
    )
    expect(page.locator(".notices-link .count")).to_be_hidden()
    page.evaluate("window.stillTheSamePage = true")
    shot(page, f"uploads-being-scanned-{screen}")

    while (version_id := claim(gs, "test-worker", None)) is not None:
        scan_version(gs, version_id, "test-worker", Backoff(base=0.1, cap=0.5))  # real clamd
    expect(page.locator("table.entries .badge.scan-clean")).to_have_count(1, timeout=LIVE_MS)
    expect(page.locator("table.entries .badge.scan-infected")).to_have_count(1, timeout=LIVE_MS)
    expect(page.locator(".notices-link .count")).to_have_text("1", timeout=LIVE_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    shot(page, f"uploads-scanned-without-reload-{screen}")


def test_the_space_use_bar_moves_after_uploads(site, my_files, screen, axe_source, tmp_path):
    page, user, _ = my_files
    _set_quota(site, user, 4 * 1024 * 1024)
    page.reload()
    meter = page.locator("#space-use meter")
    expect(meter).to_have_attribute("value", "0")
    (tmp_path / "plan.txt").write_bytes(b"p" * 1024 * 1024)
    page.set_input_files("#pick-files", str(tmp_path / "plan.txt"))
    expect(page.locator("#space-use meter")).to_have_attribute(
        "value", str(1024 * 1024), timeout=UPLOAD_TIMEOUT_MS
    )
    page.evaluate("window.stillTheSamePage = true")

    site.upload(user, site.home(user), "from-the-phone.txt", b"q" * 1024 * 1024)  # elsewhere
    expect(page.locator("#space-use meter")).to_have_attribute(
        "value", str(2 * 1024 * 1024), timeout=LIVE_MS
    )
    assert page.evaluate("window.stillTheSamePage") is True
    _check_page(page, axe_source, screen)
    shot(page, f"uploads-space-use-{screen}")


def test_the_notices_count_appears_without_a_reload_on_any_page(site, open_page):
    user = site.user("somsak")
    page = open_page("en", **DESKTOP)
    sign_in(page, "somsak")
    expect(page.locator(".notices-link .count")).to_be_hidden()
    site.run(lambda w: notifications.notify(w.ctx, user.id, "scan.infected", name="x.txt"))
    expect(page.locator(".notices-link .count")).to_have_text("1", timeout=LIVE_MS)
    expect(page.locator(".notices-link .count")).to_have_attribute("aria-label", "1 unread")


def test_a_busy_server_is_waited_for_as_it_asks_and_the_upload_goes_on(site, my_files, screen):
    page, _, lang = my_files
    busy = []

    def busy_once(route):
        if busy:
            return route.continue_()
        busy.append(route.request.url)
        route.fulfill(
            status=503,
            headers={"Retry-After": "2"},
            json={"error": {"code": "busy", "message": "busy"}},
        )

    page.route(re.compile(r".*/api/v1/folders/\d+/files\?.*"), busy_once)
    page.set_input_files(
        "#pick-files", files=[{"name": "ແຜນ.txt", "mimeType": "text/plain", "buffer": b"plan"}]
    )
    row = page.locator("#queue li", has_text="ແຜນ.txt")
    expect(row).to_have_attribute("data-state", "retrying", timeout=UPLOAD_TIMEOUT_MS)
    expect(row.locator(".status")).to_contain_text(TEXT[lang]["busy"])
    _shot_row(page, row, f"uploads-server-busy-{screen}")
    expect(page.locator("table.entries a.file", has_text="ແຜນ.txt")).to_be_visible(
        timeout=UPLOAD_TIMEOUT_MS
    )
    assert len(busy) == 1


def test_an_upload_ended_on_the_server_says_so_and_retry_starts_it_again(
    site, gs, open_page, tmp_path
):
    site.user("somsak")
    page = open_page("en", **DESKTOP)
    sign_in(page, "somsak")
    page.goto("/my")
    path, data = _chunked_file(page, tmp_path)
    row = _upload_held_at_part_2(page, path)
    row.get_by_role("button", name="Pause").click()
    expect(row).to_have_attribute("data-state", "paused")
    with gs.unit_of_work() as ctx:  # what `gshare` does to sessions nobody touched for a while
        assert uploads.expire_uploads(ctx, utcnow() + timedelta(minutes=1)) == 1

    page.unroute(PART_URL)
    row.get_by_role("button", name="Resume").click()
    expect(row).to_have_attribute("data-state", "failed")
    expect(row.locator(".status")).to_contain_text("The upload was ended on the server")
    shot(page, "uploads-session-expired-desktop-en")
    row.get_by_role("button", name="Retry").click()
    assert _download_sha256(page, "survey.bin") == hashlib.sha256(data).hexdigest()
