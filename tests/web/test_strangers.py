"""Every endpoint that takes an id, tried by a signed-in stranger: nothing is found or allowed."""

import re

import pytest

from tests.web.conftest import csrf_token

PUBLIC = {"auth.login", "auth.logout", "auth.language", "static", "api.openapi"}
ALLOWED_FOR_ANYONE = {"health.healthz", "health.readyz", "health.metrics"}


def _filled(rule, ids):
    path = rule.rule
    for name in rule.arguments:
        value = {"verb": "move", "token": "x" * 32}.get(name, ids.get(name, 1))
        path = re.sub(rf"<(?:[^:>]+:)?{name}>", str(value), path)
    if "<any(" in path:
        path = re.sub(r"<any\(([a-z_]+)[^>]*\):\w+>", r"\1", path)
    return path


def test_a_stranger_finds_nothing_by_id(site, app, browser_for):
    owner = site.user("owner", "Finance")
    folder = site.folder(site.home(owner), "Private")
    version = site.upload(owner, folder, "private.txt", b"secret")
    stranger = browser_for(site.user("stranger", "Planning"))
    token = csrf_token(stranger)
    ids = {
        "node_id": version.node_id,
        "version_id": version.id,
        "space_id": folder.space_id,
        "grant_id": 1,
        "link_id": 1,
        "user_id": owner.id,
        "department_id": 1,
        "token_id": 1,
        "number": 1,
    }
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC | ALLOWED_FOR_ANYONE or not rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for node_id in (version.node_id, folder.id):
                ids["node_id"] = node_id
                path = _filled(rule, ids)
                response = stranger.open(
                    path,
                    method=method,
                    headers={"X-CSRFToken": token},
                    data={"csrf_token": token, "name": "x", "target": 1},
                )
                body = response.get_data()
                assert response.status_code in (400, 403, 404, 411), (
                    method,
                    path,
                    response.status_code,
                )
                assert b"secret" not in body and b"private.txt" not in body, (method, path)
                checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/audit",
        "/admin/spaces",
        "/admin/quarantine",
        "/admin/users",
        "/admin/departments",
    ],
)
def test_members_cannot_open_admin_pages(site, browser_for, path):
    admin = browser_for(site.user("admin", role="system_admin"))
    assert admin.get(path).status_code == 200
    member = browser_for(site.user("member"))
    assert member.get(path).status_code == 403
