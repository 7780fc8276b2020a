"""The JSON API refuses bad input with 400, naming the field and the reason, and makes nothing."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from gshare.accounts import api_tokens
from gshare.core.models import UploadSession


@pytest.fixture
def script(site, client):
    """A person's script: its token header, its home folder and a file in it."""
    user = site.user("somsak")
    home = site.home(user)
    version = site.upload(user, home, "a.txt", b"data")
    token = site.run(lambda w: api_tokens.create_token(w.ctx, w.ctx.db.merge(user), "s")[1])
    return {"auth": {"Authorization": f"Bearer {token}"}, "home": home.id, "file": version.node_id}


def refused(response, field):
    """Assert a 400 naming the field, with a reason and a sentence."""
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert error["field"] == field
    assert error["reason"] and error["message"]
    return error


def links_of(client, script, node_id):
    listed = client.get(f"/api/v1/nodes/{node_id}/links", headers=script["auth"])
    assert listed.status_code == 200
    return listed.json["items"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"max_downloads": "abc"}, "max_downloads"),
        ({"max_downloads": 1.5}, "max_downloads"),
        ({"max_downloads": 0}, "max_downloads"),
        ({"mode": 5}, "mode"),
    ],
)
def test_a_bad_link_is_refused_and_not_created(client, script, body, field):
    made = client.post(f"/api/v1/nodes/{script['file']}/links", json={}, headers=script["auth"])
    assert made.status_code == 201  # a link with no options is made
    answer = client.post(f"/api/v1/nodes/{script['file']}/links", json=body, headers=script["auth"])
    refused(answer, field)
    assert [link["id"] for link in links_of(client, script, script["file"])] == [made.json["id"]]


def test_a_link_with_a_time_zone_is_made(client, script):
    body = {"expires_at": "2099-01-01T00:00:00+07:00", "max_downloads": 3}
    made = client.post(f"/api/v1/nodes/{script['file']}/links", json=body, headers=script["auth"])
    assert made.status_code == 201, made.json
    assert made.json["max_downloads"] == 3
    expires = datetime.fromisoformat(made.json["expires_at"])
    assert expires == datetime(2098, 12, 31, 17, tzinfo=UTC)


def test_a_grant_to_a_non_numeric_department_is_refused(client, script):
    body = {"department_id": "finance", "role": "viewer"}
    answer = client.post(
        f"/api/v1/nodes/{script['home']}/grants", json=body, headers=script["auth"]
    )
    refused(answer, "department_id")
    listed = client.get(f"/api/v1/nodes/{script['home']}/grants", headers=script["auth"])
    assert listed.status_code == 200 and listed.json["items"] == []


@pytest.mark.parametrize("verb", ["move", "copy"])
def test_a_move_to_a_non_numeric_target_is_refused(client, script, verb):
    body = {"target": "home"}
    answer = client.post(
        f"/api/v1/nodes/{script['file']}/{verb}", json=body, headers=script["auth"]
    )
    refused(answer, "target")
    items = client.get(f"/api/v1/folders/{script['home']}/children", headers=script["auth"])
    assert [i["name"] for i in items.json["items"]] == ["a.txt"]


def upload_sessions(site):
    return site.run(lambda w: w.ctx.db.scalar(select(func.count()).select_from(UploadSession)))


@pytest.mark.parametrize(
    "body, field",
    [
        ({"folder": "home", "name": "b.bin", "size": 10}, "folder"),
        ({"name": "b.bin", "size": "ten"}, "size"),
        ({"name": "b.bin", "size": -5}, "size"),
        ({"name": "b.bin", "size": 1.5}, "size"),
        ({"size": 10}, "name"),
    ],
)
def test_a_bad_upload_is_refused_and_not_started(site, client, script, body, field):
    body = {"folder": script["home"], **body}
    started = client.post("/api/v1/uploads", json=body, headers=script["auth"])
    refused(started, field)
    assert upload_sessions(site) == 0


def test_marking_notices_read_needs_a_list_of_ids(client, script):
    answer = client.post("/api/v1/notifications/read", json={"ids": 5}, headers=script["auth"])
    refused(answer, "ids")
    answer = client.post("/api/v1/notifications/read", json={"ids": ["x"]}, headers=script["auth"])
    refused(answer, "ids.0")


def test_a_body_that_is_not_json_is_refused(client, script):
    path = f"/api/v1/folders/{script['home']}/folders"
    auth = script["auth"]
    not_json = client.post(path, data="{name", content_type="application/json", headers=auth)
    refused(not_json, "body")
    a_list = client.post(path, json=["name"], headers=auth)
    refused(a_list, "body")
    a_form = client.post(path, data={"name": "A"}, headers=auth)
    error = refused(a_form, "body")
    assert "application/json" in error["reason"]
    items = client.get(f"/api/v1/folders/{script['home']}/children", headers=auth)
    assert [i["name"] for i in items.json["items"]] == ["a.txt"]


@pytest.mark.parametrize(
    "query, field",
    [("limit=abc", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"), ("sort=owner", "sort")],
)
def test_a_bad_listing_query_is_refused(client, script, query, field):
    answer = client.get(
        f"/api/v1/folders/{script['home']}/children?{query}", headers=script["auth"]
    )
    refused(answer, field)


@pytest.mark.parametrize("node_id", [2**31, 2**70])
def test_a_huge_id_is_not_found(client, script, node_id):
    answer = client.get(f"/api/v1/nodes/{node_id}", headers=script["auth"])
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_the_openapi_document_describes_bodies_and_answers(client):
    document = client.get("/api/v1/openapi.json").json
    create_link = document["paths"]["/api/v1/nodes/{node_id}/links"]["post"]
    body = create_link["requestBody"]["content"]["application/json"]["schema"]
    link_in = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    max_downloads = link_in["properties"]["max_downloads"]["anyOf"][0]
    assert max_downloads["type"] == "integer" and max_downloads["minimum"] == 1
    assert "201" in create_link["responses"] and "4XX" in create_link["responses"]
    detail = document["components"]["schemas"]["Error"]["properties"]["error"]["$ref"]
    error = document["components"]["schemas"][detail.rsplit("/", 1)[1]]
    assert {"code", "message", "field", "reason"} <= set(error["properties"])
    children = document["paths"]["/api/v1/folders/{node_id}/children"]["get"]
    assert {p["name"] for p in children["parameters"]} >= {"node_id", "sort", "limit", "offset"}


def test_an_id_beyond_what_sql_holds_is_refused_in_a_body(client, script):
    body = {"target": 2**31}
    answer = client.post(f"/api/v1/nodes/{script['file']}/move", json=body, headers=script["auth"])
    refused(answer, "target")


@pytest.mark.parametrize(
    "raw, field", [('{"name": "a\\u0000b"}', "name"), ('{"name": "a\\ud800b"}', "body")]
)
def test_a_name_with_a_nul_or_a_lone_surrogate_is_refused(client, script, raw, field):
    path = f"/api/v1/folders/{script['home']}/folders"
    answer = client.post(path, data=raw, content_type="application/json", headers=script["auth"])
    refused(answer, field)
    items = client.get(f"/api/v1/folders/{script['home']}/children", headers=script["auth"])
    assert [i["name"] for i in items.json["items"]] == ["a.txt"]
