"""Lao done right in the pages: a unit's name fits its level of the tree (`[org] unit_names`),
and the audit log's dates are typed as day/month/year whatever the browser's language."""

import pytest

from gshare.core.models import UserRole
from tests.web.conftest import sign_in

LO = {"Accept-Language": "lo"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def config(config):
    """This site names its levels: ministry > department > division."""
    return config.replace(org={"unit_names": ("ministry", "department", "division")})


@pytest.fixture
def noy(site):
    """A person in a division: ministry > department > division."""
    top = site.department("ກະຊວງ ເຕັກໂນໂລຊີ")
    division = site.department("ພະແນກ ລະບົບ", site.department("ກົມ ICT", top))
    return site.user("noy", department=division, role=UserRole.SYSTEM_ADMIN)


def test_home_names_a_division_as_a_division(client, noy):
    sign_in(client, "noy")
    lao = client.get("/", headers=LO).get_data(as_text=True)
    assert "ພະແນກຂອງຂ້ອຍ" in lao
    assert "ກົມຂອງຂ້ອຍ" not in lao
    english = client.get("/", headers=EN).get_data(as_text=True)
    assert "My division" in english and "Shared with my division" in english


def test_departments_page_shows_each_units_kind(client, noy):
    sign_in(client, "noy")
    page = client.get("/admin/departments", headers=LO).get_data(as_text=True)
    for kind in ("ກະຊວງ", "ກົມ", "ພະແນກ"):
        assert f'<span class="badge unit-kind">{kind}</span>' in page


def test_audit_log_dates_are_day_month_year(client, noy):
    sign_in(client, "noy")
    page = client.get("/admin/audit", headers=EN).get_data(as_text=True)
    assert 'type="date"' not in page and 'placeholder="dd/mm/yyyy"' in page
    today = client.get("/admin/audit?since=01/01/2020&until=31/12/2099", headers=EN)
    assert today.status_code == 200
    assert "No events." not in today.get_data(as_text=True)  # the sign-in is there
    none = client.get("/admin/audit?since=01/01/2099", headers=EN).get_data(as_text=True)
    assert "No events." in none
    older_links = client.get("/admin/audit?since=2020-01-01", headers=EN)
    assert older_links.status_code == 200
    wrong = client.get("/admin/audit?since=12/31/2025", headers=EN)
    assert wrong.status_code == 400
    assert "day/month/year" in wrong.get_data(as_text=True)
