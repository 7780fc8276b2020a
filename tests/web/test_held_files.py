"""Quarantined and blocked files offer nothing but their state (and, to system admins, the
quarantine's actions); a preview that cannot be shown is one sentence, not a page."""

from __future__ import annotations

import pytest

from gshare.core.models import ScanState, UserRole, Version
from tests.fixtures.world import mark_scanned

EN = {"Accept-Language": "en"}
OFFERS = ("/download", "/raw", "/share", "/move", "/copy", "/rename", "/delete")


def _held(site, owner, state, name="invoice.pdf"):
    version = site.upload(owner, site.home(owner), name, b"%PDF-1.4 x", clean=False)

    def verdict(w):
        held = w.ctx.db.get(Version, version.id)
        mark_scanned(held, state)
        held.scan_signature = "Eicar-Test-Signature" if state == ScanState.INFECTED else "exe"

    site.run(verdict)
    return version


@pytest.mark.parametrize(
    "state, says",
    [
        (ScanState.INFECTED, "This file was found infected and is quarantined."),
        (ScanState.BLOCKED, "This file is blocked by the content policy and held back."),
    ],
)
def test_a_held_file_shows_its_state_and_offers_nothing(site, browser_for, state, says):
    owner = site.user("somsak")
    version = _held(site, owner, state)
    web = browser_for(owner)
    page = web.get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    assert says in page
    for offer in OFFERS:
        assert f"/files/{version.node_id}{offer}" not in page, offer
        assert f"/nodes/{version.node_id}{offer}" not in page, offer
    assert "/admin/quarantine" not in page  # not an administrator
    listing = web.get("/my", follow_redirects=True, headers=EN).get_data(as_text=True)
    assert "invoice.pdf" in listing
    assert f"/files/{version.node_id}/download" not in listing
    assert f'value="{version.node_id}" form="selection"' not in listing


def test_a_system_admin_gets_the_quarantine_actions_on_the_file(site, browser_for):
    admin = site.user("admin", role=UserRole.SYSTEM_ADMIN)
    version = _held(site, admin, ScanState.INFECTED)
    page = browser_for(admin).get(f"/files/{version.node_id}", headers=EN).get_data(as_text=True)
    assert f'action="/admin/quarantine/{version.id}/release"' in page
    assert f'action="/admin/quarantine/{version.id}/delete"' in page
    assert f"/files/{version.node_id}/download" not in page


def test_a_preview_that_fails_is_one_sentence(site, browser_for):
    owner = site.user("somsak")
    version = _held(site, owner, ScanState.INFECTED)
    answer = browser_for(owner).get(f"/files/{version.node_id}/raw", headers=EN)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert "This preview cannot be shown." in text
    assert "<header" not in text and "<nav" not in text
    assert answer.headers["Content-Security-Policy"].startswith("sandbox")
