"""The JSON API: tokens, CSRF for sessions, chunked resumable uploads, OpenAPI, errors."""

import os

from gshare.accounts import api_tokens
from tests.web.conftest import csrf_token


def _token(site, user):
    return site.run(lambda w: api_tokens.create_token(w.ctx, w.ctx.db.merge(user), "script")[1])


def test_token_lets_a_script_list_and_download(site, client):
    user = site.user("somsak")
    version = site.upload(user, site.home(user), "a.txt", b"data")
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    home = client.get("/api/v1/me", headers=auth).json["personal_folder"]
    items = client.get(f"/api/v1/folders/{home}/children", headers=auth).json["items"]
    assert [i["name"] for i in items] == ["a.txt"]
    assert client.get(f"/api/v1/files/{version.node_id}/content", headers=auth).data == b"data"


def test_token_calls_need_no_csrf_but_session_calls_do(site, client, browser_for):
    user = site.user("somsak")
    home = site.home(user)
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    made = client.post(f"/api/v1/folders/{home.id}/folders", json={"name": "A"}, headers=auth)
    assert made.status_code == 201
    web = browser_for(user)
    refused = web.post(f"/api/v1/folders/{home.id}/folders", json={"name": "B"})
    assert refused.status_code == 400 and refused.json["error"]["code"] == "csrf"
    allowed = web.post(
        f"/api/v1/folders/{home.id}/folders",
        json={"name": "B"},
        headers={"X-CSRFToken": csrf_token(web)},
    )
    assert allowed.status_code == 201


def test_revoked_token_is_refused(site, client):
    user = site.user("somsak")
    text = _token(site, user)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"})
    assert me.status_code == 200 and me.json["username"] == "somsak"
    site.run(
        lambda w: api_tokens.revoke_token(
            w.ctx, w.ctx.db.merge(user), api_tokens.list_tokens(w.ctx, w.ctx.db.merge(user))[0].id
        )
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status_code == 401


def test_errors_are_json_with_a_code_and_a_sentence(site, client):
    user = site.user("somsak")
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    response = client.get("/api/v1/nodes/999999", headers=auth)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"].endswith(".")


def test_openapi_document_lists_the_api(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/api/v1/folders/{node_id}/children" in document["paths"]
    assert "/api/v1/uploads/{token}/parts/{number}" in document["paths"]


def test_chunked_upload_resumes_after_an_interruption(site, client):
    user = site.user("somsak")
    home = site.home(user)
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    data = os.urandom(5 * 1024 * 1024 + 100)
    first, second = data[: 5 * 1024 * 1024], data[5 * 1024 * 1024 :]
    start = client.post(
        "/api/v1/uploads",
        json={"folder": home.id, "name": "big.bin", "size": len(data)},
        headers=auth,
    )
    assert start.status_code == 201, start.json
    token = start.json["token"]
    assert (
        client.put(f"/api/v1/uploads/{token}/parts/1", data=first, headers=auth).status_code == 200
    )
    parts = client.get(f"/api/v1/uploads/{token}/parts", headers=auth).json["items"]
    assert [p["number"] for p in parts] == [1]
    client.put(f"/api/v1/uploads/{token}/parts/2", data=second, headers=auth)
    done = client.post(f"/api/v1/uploads/{token}/complete", headers=auth)
    assert done.status_code == 201, done.json
    content = client.get(f"/api/v1/files/{done.json['id']}/content", headers=auth)
    assert content.data == data


def test_an_upload_of_unknown_size_with_a_part_missing_is_not_completed(site, client):
    user = site.user("somsak")
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    start = client.post(
        "/api/v1/uploads", json={"folder": site.home(user).id, "name": "gap.bin"}, headers=auth
    )
    token = start.json["token"]
    client.put(f"/api/v1/uploads/{token}/parts/2", data=b"the second half", headers=auth)
    gap = client.post(
        f"/api/v1/uploads/{token}/complete", headers={**auth, "Accept-Language": "en"}
    )
    assert gap.status_code == 400
    assert gap.json["error"]["message"].startswith("Part 1 is missing")
    client.put(f"/api/v1/uploads/{token}/parts/1", data=os.urandom(5 * 1024 * 1024), headers=auth)
    done = client.post(f"/api/v1/uploads/{token}/complete", headers=auth)
    assert done.status_code == 201, done.json
    assert done.json["size"] == 5 * 1024 * 1024 + len(b"the second half")


def test_a_script_lists_the_spaces_it_works_in(site, client):
    user = site.user("somsak", "Finance")
    site.user("noi", "Health")
    auth = {"Authorization": f"Bearer {_token(site, user)}"}
    listed = client.get("/api/v1/spaces", headers=auth).json["items"]
    assert [(s["kind"], s["name"]) for s in listed] == [
        ("personal", listed[0]["name"]),
        ("department", "Finance"),
    ]
    finance = listed[1]
    names = [
        i["name"]
        for i in client.get(f"/api/v1/folders/{finance['folder_id']}/children", headers=auth).json[
            "items"
        ]
    ]
    assert names == []  # the folder id opens the space

    def share_health(w):
        from gshare.core.actor import OPERATOR
        from gshare.sharing import grants

        root = w.department_root("Health")
        grants.grant_role(w.ctx, OPERATOR, root.id, "viewer", user=w.ctx.db.merge(user))

    site.run(share_health)
    listed = client.get("/api/v1/spaces", headers=auth).json["items"]
    assert [s["name"] for s in listed if s["kind"] == "department"] == ["Finance", "Health"]


def test_a_script_reads_its_notices_and_marks_them_read(site, client):
    user = site.user("somsak")
    auth = {"Authorization": f"Bearer {_token(site, user)}"}

    def notice(w):
        from gshare.activity import notifications

        notifications.notify(
            w.ctx, user.id, "scan.infected", name="a.doc", signature="Eicar-Test-Signature"
        )

    site.run(notice)
    items = client.get("/api/v1/notifications?unread=1", headers=auth).json["items"]
    assert [i["kind"] for i in items] == ["scan.infected"]
    assert "a.doc" in items[0]["text"] and "Eicar-Test-Signature" in items[0]["text"]
    read = client.post("/api/v1/notifications/read", json={"ids": [items[0]["id"]]}, headers=auth)
    assert read.status_code == 204
    assert client.get("/api/v1/notifications?unread=1", headers=auth).json["items"] == []
    assert client.get("/api/v1/notifications", headers=auth).json["items"][0]["read_at"]
