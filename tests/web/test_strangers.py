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
    owner_web = browser_for(owner)
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
    checked, shown_to_owner = 0, set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC | ALLOWED_FOR_ANYONE or not rule.arguments:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for node_id in (version.node_id, folder.id):
                ids["node_id"] = node_id
                path = _filled(rule, ids)
                if method == "GET":  # the same page, asked by the owner, shows the file
                    mine = owner_web.get(path)
                    if mine.status_code == 200 and b"private.txt" in mine.get_data():
                        shown_to_owner.add(path)
                    if b"secret" in mine.get_data():
                        shown_to_owner.add(f"{path} (its content)")
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
    # the ids were real: the pages and downloads the stranger was refused show the owner the file
    node = version.node_id
    assert {
        f"/f/{folder.id}",
        f"/f/{folder.id}/zip",
        f"/files/{node}",
        f"/files/{node}/download (its content)",
        f"/nodes/{node}/share",
        f"/api/v1/folders/{folder.id}/children",
        f"/api/v1/nodes/{node}",
        f"/api/v1/files/{node}/content (its content)",
    } <= shown_to_owner, shown_to_owner


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
