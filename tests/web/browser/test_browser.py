"""What people do in the browser: sign in, upload, resume, share, public links, Lao."""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

from gshare.core.models import UserRole
from tests.fixtures.clamd import eicar_bytes
from tests.web.browser.conftest import follow, shot, sign_in

FAKE_FOLDER_DROP = """([folderName, files]) => {
  const entry = (name, text) => ({isFile: true, isDirectory: false, name,
    file: (ok) => ok(new File([text], name, {type: "text/plain"}))});
  const folder = {isFile: false, isDirectory: true, name: folderName,
    createReader: () => { let done = false;
      return {readEntries: (ok) => { ok(done ? [] : files.map(([n, t]) => entry(n, t)));
                                     done = true; }}; }};
  const event = new Event("drop", {bubbles: true, cancelable: true});
  Object.defineProperty(event, "dataTransfer",
    {value: {items: [{webkitGetAsEntry: () => folder}], files: []}});
  document.getElementById("drop").dispatchEvent(event);
}"""


def test_sign_in_and_see_my_start_page(site, open_page):
    site.user("somsak")
    page = open_page()
    page.goto("/login")
    shot(page, "01-sign-in")
    sign_in(page, "somsak")
    assert page.locator("h1").inner_text() == "Welcome, Somsak"
    shot(page, "02-start-page")


def test_upload_by_picking_files(site, open_page, tmp_path):
    site.user("somsak")
    (tmp_path / "ບົດລາຍງານ.txt").write_text("ສະບາຍດີ")
    page = open_page()
    sign_in(page, "somsak")
    page.goto("/my")
    page.set_input_files("#pick-files", str(tmp_path / "ບົດລາຍງານ.txt"))
    page.wait_for_selector("table.entries a.file:has-text('ບົດລາຍງານ.txt')")
    shot(page, "03-my-files-after-upload")


def test_upload_a_folder_by_drag_and_drop(site, open_page):
    site.user("somsak")
    page = open_page()
    sign_in(page, "somsak")
    page.goto("/my")
    page.evaluate(FAKE_FOLDER_DROP, ["ກອງປະຊຸມ", [["a.txt", "one"], ["b.txt", "two"]]])
    page.wait_for_selector("table.entries a.folder:has-text('ກອງປະຊຸມ')")
    follow(page, "a.folder:has-text('ກອງປະຊຸມ')")
    assert page.locator("a.file").all_inner_texts() == ["a.txt", "b.txt"]


def test_pick_a_whole_folder(site, open_page, tmp_path):
    site.user("somsak")
    folder = tmp_path / "Minutes"
    folder.mkdir()
    (folder / "one.txt").write_text("1")
    page = open_page()
    sign_in(page, "somsak")
    page.goto("/my")
    page.set_input_files("#pick-folder", str(folder))
    page.wait_for_selector("a.folder:has-text('Minutes')")


# Waits on uploads allow for a busy machine; they end as soon as the awaited event happens.
UPLOAD_TIMEOUT_MS = 120_000
PART_URL = re.compile(r".*/api/v1/uploads/[^/]+/parts/(\d+)$")


def test_resume_an_interrupted_upload_without_sending_the_stored_parts_again(
    site, open_page, tmp_path
):
    """A chunked upload loses its connection on part 2 (every time: the page keeps retrying)
    while parts 1 and 3 are under way; the page is reloaded, says an upload was interrupted,
    the same file is picked again, and only the parts the server does not have are sent: the
    file arrives whole."""
    site.user("somsak")
    page = open_page()
    sign_in(page, "somsak")
    page.goto("/my")
    chunk, parallel = page.evaluate("[CHUNK, PARALLEL]")  # what the page's uploader uses
    assert parallel == 3
    data = os.urandom(4 * chunk + 1024 * 1024)  # five parts, the last one short
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    sent: list[int] = []  # part numbers, in the order the page sent them

    def drop_part_2(route):
        number = int(PART_URL.match(route.request.url).group(1))
        sent.append(number)
        if number == 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(PART_URL, drop_part_2)
    page.set_input_files("#pick-files", str(big))
    retrying = page.locator("#queue li[data-state=retrying]")
    expect(retrying).to_have_count(1, timeout=UPLOAD_TIMEOUT_MS)  # once the parts under way end
    expect(retrying.locator(".status")).to_contain_text("The connection was lost.")
    shot(page, "04-upload-interrupted")
    stored = dict(
        page.evaluate(
            """async () => {
                 const key = Object.keys(localStorage).find((k) => k.startsWith("gshare-upload:"));
                 const answer = await fetch(`/api/v1/uploads/${localStorage.getItem(key)}/parts`);
                 return (await answer.json()).items.map((part) => [part.number, part.size]);
               }"""
        )
    )
    # Parts 1 and 3 went with part 2 (three at a time) and were stored; so was any part a
    # free slot took before the failure was known; part 2 was not.
    assert {1, 3} <= set(stored) and set(stored) == set(sent) - {2}, (sent, stored)
    assert stored == {n: min(chunk, len(data) - (n - 1) * chunk) for n in stored}

    def record(route):
        sent.append(int(PART_URL.match(route.request.url).group(1)))
        route.continue_()

    page.unroute(PART_URL)
    page.route(PART_URL, record)
    page.reload()
    hint = page.locator("#resumable")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("big.bin")
    sent.clear()
    with page.expect_response(
        lambda r: r.url.endswith("/complete") and r.request.method == "POST",
        timeout=UPLOAD_TIMEOUT_MS,
    ) as completed:
        page.set_input_files("#pick-files", str(big))
    assert completed.value.status == 201
    assert sorted(sent) == sorted({1, 2, 3, 4, 5} - set(stored))  # nothing stored sent again
    link = page.locator("table.entries a.file", has_text="big.bin")
    expect(link).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)  # the page reloads when done
    download = page.request.get(link.get_attribute("href") + "/download")
    assert download.ok and download.body() == data


def test_share_with_another_department_eicar_never_visible(site, open_page, tmp_path):
    site.user("owner", "Finance", role=UserRole.DEPARTMENT_ADMIN)
    site.user("planner", "Planning")
    folder = site.folder(site.department_root("Finance"), "ງົບປະມານ 2025")
    (tmp_path / "plan.txt").write_text("the plan")
    (tmp_path / "eicar.txt").write_bytes(eicar_bytes())
    owner = open_page()
    sign_in(owner, "owner")
    owner.goto(f"/f/{folder.id}")
    owner.set_input_files("#pick-files", [str(tmp_path / "plan.txt"), str(tmp_path / "eicar.txt")])
    owner.wait_for_selector("a.file:has-text('plan.txt')")
    owner.goto(f"/nodes/{folder.id}/share")
    owner.locator("#who").press_sequentially("Plann")
    owner.locator("#who-list .kind-department", has_text="Planning").click()
    owner.click("form[action$='/grants'] button.primary")
    owner.wait_for_selector("text=Shared.")
    shot(owner, "05-share-dialog")
    member = open_page()
    sign_in(member, "planner")
    member.goto("/shared/department")
    follow(member, "a.folder:has-text('ງົບປະມານ 2025')")
    assert member.locator("a.file").all_inner_texts() == ["plan.txt"]
    shot(member, "06-shared-folder-as-member")


def _create_link(page, folder_id, mode, password=""):
    page.goto(f"/nodes/{folder_id}/share")
    page.select_option("select[name=mode]", mode)
    if password:
        page.fill("form[action$='/links'] input[name=password]", password)
    page.click("form[action$='/links'] button.primary")
    return page.input_value("li.link-item.new input[readonly]")


def test_public_link_with_password(site, open_page):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Notices")
    site.upload(owner, folder, "ປະກາດ.txt", "ແຈ້ງການ".encode())
    page = open_page()
    sign_in(page, "owner")
    url = _create_link(page, folder.id, "view", password="a long password")
    outsider = open_page()
    outsider.goto(url)
    outsider.fill("input[name=password]", "a long password")
    outsider.click("button.primary")
    outsider.wait_for_selector("a.file:has-text('ປະກາດ.txt')")
    shot(outsider, "07-public-link")
    with outsider.expect_download() as download:
        outsider.click("a.file")
    assert download.value.suggested_filename == "ປະກາດ.txt"


def test_upload_only_link(site, open_page, tmp_path):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Inbox")
    page = open_page()
    sign_in(page, "owner")
    url = _create_link(page, folder.id, "upload")
    (tmp_path / "from-province.txt").write_text("report from the province")
    outsider = open_page(width=390)
    outsider.goto(url)
    outsider.set_input_files("#pick-files", str(tmp_path / "from-province.txt"))
    outsider.wait_for_selector("#queue li[data-state=done]")
    shot(outsider, "08-upload-only-link-phone")
    page.goto(f"/f/{folder.id}")
    assert page.locator("a.file").all_inner_texts() == ["from-province.txt"]


def test_switch_to_lao(site, open_page):
    owner = site.user("somsak")
    site.upload(owner, site.home(owner), "ແຜນງານ.pdf", b"%PDF-1.4 test")
    page = open_page()
    sign_in(page, "somsak")
    page.click("button[value=lo]")
    page.wait_for_selector("text=ໄຟລ໌ຂອງຂ້ອຍ")
    shot(page, "09-start-page-lao")
    page.goto("/my")
    assert page.locator("html").get_attribute("lang") == "lo"
    shot(page, "10-my-files-lao")
    page.goto("/login")


def test_infected_upload_shows_its_badge_and_a_notification(site, open_page, tmp_path):
    site.user("somsak")
    (tmp_path / "eicar.txt").write_bytes(eicar_bytes())
    page = open_page()
    sign_in(page, "somsak")
    page.goto("/my")
    page.set_input_files("#pick-files", str(tmp_path / "eicar.txt"))
    page.wait_for_selector("table.entries .badge.scan-infected")
    assert page.locator(".notices-link .count").inner_text() == "1"
    shot(page, "11-infected-upload-badge")
    follow(page, ".notices-link")
    assert "eicar.txt was found infected" in page.locator("ul.notices").inner_text()
    shot(page, "12-notifications")
    page.click("button[value=lo]")
    page.wait_for_selector("text=ການແຈ້ງເຕືອນ")
    shot(page, "13-notifications-lao")


def test_create_a_project_space(site, open_page):
    site.user("somsak")
    page = open_page(width=390)
    sign_in(page, "somsak")
    page.fill("input[name=name]", "Budget committee 2026")
    page.click("form[action$='/spaces/new'] button.primary")
    page.wait_for_selector("text=The space Budget committee 2026 was created.")
    page.goto("/")
    shot(page, "14-start-page-project-spaces-phone")


def test_create_an_access_key_in_english_and_in_lao(site, open_page):
    site.user("somsak")
    page = open_page()
    sign_in(page, "somsak")
    page.click("header button.more-button")  # on a desk the S3 keys sit under "More"
    page.click("header a.keys-link")
    page.fill("#create-key input[name=label]", "office laptop")
    page.check("#create-key input[name=read_only]")
    page.select_option("#create-key select[name=space]", label="Finance (finance)")
    page.click("#create-key button.primary")
    key_id = page.inner_text("#new-key-id")
    assert page.inner_text("#new-key-secret") in page.inner_text("#rclone-settings")
    assert "read only; Finance" in page.inner_text(f"#key-{key_id} td.scope")
    shot(page, "15-access-keys")
    phone = open_page("lo", width=390)
    sign_in(phone, "somsak")
    phone.goto("/account/keys")
    phone.fill("#create-key input[name=label]", "ສຳຮອງຂໍ້ມູນທຸກຄືນ ຈາກຄອມພິວເຕີຢູ່ຫ້ອງການ")
    phone.click("#create-key button.primary")
    phone.wait_for_selector("#new-key")
    assert phone.locator("html").get_attribute("lang") == "lo"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    shot(phone, "16-access-keys-lao")


def test_rename_a_project_space_in_lao(site, open_page):
    site.user("somsak")
    page = open_page(lang="lo", width=390)
    sign_in(page, "somsak")
    page.fill("form[action$='/spaces/new'] input[name=name]", "Budget 2026")
    page.click("form[action$='/spaces/new'] button.primary")
    page.wait_for_selector("details.space-settings")
    page.click("details.space-settings summary")
    page.fill("details.space-settings input[name=name]", "ງົບປະມານ 2026")
    page.click("form[action*='/rename'] button")
    page.wait_for_selector("h1:has-text('ງົບປະມານ 2026'), nav :text('ງົບປະມານ 2026')")
    page.click("details.space-settings summary")
    shot(page, "17-project-space-settings-lao-phone")
