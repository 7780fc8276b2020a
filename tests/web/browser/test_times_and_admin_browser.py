"""Times and dates as a Lao reader sees them, and the administrator's changes in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from gshare.core.actor import OPERATOR
from gshare.core.models import UserRole
from gshare.org import users
from tests.web.browser.conftest import (
    DESKTOP,
    PHONE,
    axe_violations,
    page_width,
    shot,
    sign_in,
)


def _shot(page, tmp_path, name):
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_a_link_expiry_typed_as_day_month_year_in_lao(site, open_page, tmp_path):
    owner = site.user("somsak")
    folder = site.folder(site.home(owner), "ປະກາດ")
    page = open_page("lo", width=1366)
    sign_in(page, "somsak")
    page.goto("/my")
    expect(page.locator("time", has_text="ເມື່ອຄູ່ນີ້").first).to_be_visible()
    page.goto(f"/nodes/{folder.id}/share")
    year = datetime.now(UTC).year + 1
    page.get_by_label("ໝົດອາຍຸວັນທີ (ບໍ່ບັງຄັບ), ເປັນ ວັນ/ເດືອນ/ປີ").fill(f"31/12/{year}")
    page.click("form[action$='/links'] button.primary")
    expect(page.get_by_text(f"31/12/{year} 23:59")).to_be_visible()
    _shot(page, tmp_path, "link-expiry-lo")


def test_an_admin_moves_a_person_and_reads_the_log_in_lao(site, open_page, tmp_path):
    site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    site.user("noy", "Finance")
    site.department("Planning")
    page = open_page("lo", width=1366)
    sign_in(page, "admin")
    page.goto("/admin/users")
    row = page.locator("tr", has_text="noy")
    row.locator("summary").click()
    row.locator("select[name=department]").select_option(label="Planning")
    row.get_by_role("button", name="ບັນທຶກ").click()
    expect(page.locator(".flash")).to_contain_text("ຕອນນີ້ Noy ຢູ່ Planning")
    _shot(page, tmp_path, "admin-place-lo")
    page.goto("/admin/audit")
    expect(page.get_by_text("ໄດ້ປ່ຽນໜ່ວຍງານ ຫຼື ບົດບາດຂອງ noy")).to_be_visible()
    _shot(page, tmp_path, "audit-lo")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_people_page_says_who_disabled_an_account_in_lao(site, open_page, axe_source, size):
    site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    left, gone = site.user("noy", "Finance"), site.user("bounmy", "Finance")

    def disable(w):
        users.set_disabled(w.ctx, OPERATOR, w.ctx.db.merge(left), True)
        moved = w.ctx.db.merge(gone)
        moved.disabled, moved.disabled_by = True, "directory"

    site.run(disable)
    page = open_page("lo", **size)
    sign_in(page, "admin")
    page.goto("/admin/users")
    expect(page.locator("tr", has_text="noy").locator(".disabled-by")).to_have_text(
        "ຖືກປິດການນຳໃຊ້ໂດຍຜູ້ບໍລິຫານ"
    )
    expect(page.locator("tr", has_text="bounmy").locator(".disabled-by")).to_have_text(
        "ຖືກປິດການນຳໃຊ້ໂດຍໄດເຣັກທໍຣີ"
    )
    assert axe_violations(page, axe_source) == []
    assert page_width(page) <= size["width"]
    width = "phone" if size == PHONE else "desktop"
    shot(page, f"people-disabled-by-lo-{width}")


def test_the_audit_log_names_the_space_not_its_slug_in_lao(site, open_page):
    site.user("admin", "ICT", role=UserRole.SYSTEM_ADMIN)
    owner = site.user("somsak", "Finance")
    site.upload(owner, site.folder(site.home(owner), "ງົບປະມານ"), "plan.txt")
    page = open_page("lo", **DESKTOP)
    sign_in(page, "admin")
    page.goto("/admin/audit")
    expect(page.get_by_text("Somsak (somsak) ໄດ້ອັບໂຫຼດ Somsak › ງົບປະມານ › plan.txt")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("home-somsak")
    shot(page, "audit-space-names-lo-desktop")
