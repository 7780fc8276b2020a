"""The S3 access keys page: create (secret shown once), rename, revoke; one's own keys only."""

from __future__ import annotations

import re
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from sqlalchemy import select, update

from gshare.accounts import access_keys
from gshare.core.actor import OPERATOR
from gshare.core.context import Gshare
from gshare.core.models import AccessKey, UserRole
from gshare.org import departments
from tests.helpers import serving
from tests.web.conftest import post, sign_in
from web import create_app
from web.s3.app import create_s3_app

_NEW_KEY = re.compile(r'id="new-key-id">(GS[A-Z0-9]+)<.*?id="new-key-secret">([^<]+)<', re.S)


@pytest.fixture
def s3_url(config, gs):
    """Serve the S3 endpoint on the same database and store, on a free port."""
    with serving(create_s3_app(config, gs)) as server:
        yield f"http://127.0.0.1:{server.port}"


def _english(web):
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def _create(web, **form):
    response = post(web, "/account/keys", form)
    assert response.status_code == 302
    page = web.get("/account/keys").get_data(as_text=True)
    key_id, secret = _NEW_KEY.search(page).groups()
    return key_id, secret, page


def _finance_space_id(site) -> int:
    return site.run(lambda w: departments.department_space(w.ctx, w.department("Finance")).id)


def _boto(url, key_id, secret):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=BotoConfig(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )


def test_read_only_key_for_one_space_is_listed_with_its_scope_and_its_secret_shown_once(
    site, browser_for, config, gs, s3_url
):
    user = site.user("somsak")
    site.upload(user, site.department_root("Finance"), "budget.txt", b"the budget")
    web = _english(browser_for(user))
    key_id, secret, page = _create(
        web, label="office laptop", read_only="1", space=str(_finance_space_id(site))
    )
    row = page[page.index(f'id="key-{key_id}"') :]
    assert "office laptop" in row and "read only; Finance" in row
    assert f"export AWS_SECRET_ACCESS_KEY={secret}" in page
    assert "force_path_style = true" in page and "s3 ls s3://finance/" in page
    again = web.get("/account/keys").get_data(as_text=True)
    assert key_id in again and secret not in again

    with gs.unit_of_work() as ctx:
        holder = access_keys.find_holder(ctx.db, config, key_id)
        assert (holder.user.username, holder.secret, holder.key.read_only) == (
            "somsak",
            secret,
            True,
        )
    s3 = _boto(s3_url, key_id, secret)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["finance"]
    assert s3.get_object(Bucket="finance", Key="budget.txt")["Body"].read() == b"the budget"
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket="finance", Key="new.txt", Body=b"x")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.list_objects_v2(Bucket="home-somsak")


def test_a_keys_use_shows_as_last_used_and_is_written_at_most_every_few_minutes(
    site, browser_for, gs, s3_url
):
    web = _english(browser_for(site.user("somsak")))
    key_id, secret, page = _create(web, label="laptop")

    def last_used_cell() -> str:
        page = web.get("/account/keys").get_data(as_text=True)
        row = page[page.index(f'id="key-{key_id}"') :]
        return re.search(r'data-label="Last used">([^<]*)<', row).group(1)

    def last_used_at():
        with gs.unit_of_work() as ctx:
            return ctx.db.scalar(select(AccessKey.last_used_at).where(AccessKey.key_id == key_id))

    assert last_used_cell() == "Never"
    s3 = _boto(s3_url, key_id, secret)
    assert "home-somsak" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    first = last_used_at()
    assert first is not None and last_used_cell() not in ("", "Never")
    s3.list_buckets()  # within minutes of the first: not written again
    assert last_used_at() == first
    with gs.unit_of_work() as ctx:  # as if the first use were six minutes ago
        ctx.db.execute(
            update(AccessKey)
            .where(AccessKey.key_id == key_id)
            .values(last_used_at=first - timedelta(minutes=6))
        )
    s3.list_buckets()
    assert last_used_at() > first - timedelta(minutes=6)


def test_page_shows_the_configured_s3_address(site, config, gs):
    public = config.replace(server={"s3_public_url": "https://s3.gshare.example/"})
    web = _english(create_app(public, Gshare(public, gs.store, engine=gs.engine)).test_client())
    sign_in(web, site.user("somsak").username)
    _key_id, _secret, page = _create(web)
    assert "aws --endpoint-url https://s3.gshare.example s3 ls</pre>" in page
    assert "endpoint = https://s3.gshare.example\n" in page
    assert "read and write; every space" in page


def test_default_s3_address_is_http_and_s3_listen(site, browser_for, config):
    web = _english(browser_for(site.user("somsak")))
    page = web.get("/account/keys").get_data(as_text=True)
    assert f"http://{config.server.s3_listen}" in page


def test_rename_a_key(site, browser_for):
    web = _english(browser_for(site.user("somsak")))
    key_id, _secret, _page = _create(web, label="old")
    response = post(web, f"/account/keys/{key_id}/label", {"label": "nightly backup"})
    assert response.status_code == 302
    page = web.get("/account/keys").get_data(as_text=True)
    assert 'value="nightly backup"' in page and 'value="old"' not in page


def test_revoked_key_is_no_longer_listed_and_no_longer_works(site, browser_for, config, gs, s3_url):
    web = _english(browser_for(site.user("somsak")))
    key_id, secret, _page = _create(web)
    s3 = _boto(s3_url, key_id, secret)
    assert "home-somsak" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert f'id="key-{key_id}"' in web.get("/account/keys").get_data(as_text=True)
    response = post(web, f"/account/keys/{key_id}/revoke")
    assert response.status_code == 302
    page = web.get("/account/keys").get_data(as_text=True)
    assert f"The key {key_id} was revoked" in page
    assert f'id="key-{key_id}"' not in page
    with gs.unit_of_work() as ctx:
        assert access_keys.find_holder(ctx.db, config, key_id) is None
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        s3.list_buckets()


def test_another_persons_key_answers_404(site, browser_for, gs):
    other = site.user("bounmy", "Planning")
    theirs = site.run(
        lambda w: (
            access_keys.create_key(w.ctx, OPERATOR, w.ctx.db.merge(other), "theirs").key.key_id
        )
    )
    web = _english(browser_for(site.user("somsak")))
    assert theirs not in web.get("/account/keys").get_data(as_text=True)
    assert post(web, f"/account/keys/{theirs}/label", {"label": "mine"}).status_code == 404
    assert post(web, f"/account/keys/{theirs}/revoke").status_code == 404
    with gs.unit_of_work() as ctx:
        key = ctx.db.query(AccessKey).filter_by(key_id=theirs).one()
        assert (key.label, key.revoked_at) == ("theirs", None)
    owner = _english(browser_for(other))  # the same page and form, by the key's owner
    assert theirs in owner.get("/account/keys").get_data(as_text=True)
    assert post(owner, f"/account/keys/{theirs}/label", {"label": "mine"}).status_code == 302
    assert post(owner, f"/account/keys/{theirs}/revoke").status_code == 302
    with gs.unit_of_work() as ctx:
        key = ctx.db.query(AccessKey).filter_by(key_id=theirs).one()
        assert key.label == "mine" and key.revoked_at is not None


def test_an_administrator_changes_only_their_own_keys_here(site, browser_for):
    other = site.user("bounmy")
    theirs = site.run(
        lambda w: (
            access_keys.create_key(w.ctx, OPERATOR, w.ctx.db.merge(other), "theirs").key.key_id
        )
    )
    web = _english(browser_for(site.user("admin", role=UserRole.SYSTEM_ADMIN)))
    assert post(web, f"/account/keys/{theirs}/revoke").status_code == 404
    assert post(browser_for(other), f"/account/keys/{theirs}/revoke").status_code == 302


def test_a_space_the_person_does_not_see_cannot_be_chosen(site, browser_for, gs):
    web = _english(browser_for(site.user("somsak", "Finance")))
    planning = site.run(lambda w: departments.department_space(w.ctx, w.department("Planning")).id)
    assert post(web, "/account/keys", {"space": str(planning)}).status_code == 404
    with gs.unit_of_work() as ctx:
        assert ctx.db.query(AccessKey).count() == 0
    finance = site.run(lambda w: departments.department_space(w.ctx, w.department("Finance")).id)
    assert post(web, "/account/keys", {"space": str(finance)}).status_code == 302
    with gs.unit_of_work() as ctx:
        assert [k.space_id for k in ctx.db.query(AccessKey)] == [finance]


def test_forms_need_the_csrf_token(site, browser_for, gs):
    user = site.user("somsak")
    key_id = site.run(
        lambda w: access_keys.create_key(w.ctx, OPERATOR, w.ctx.db.merge(user), "mine").key.key_id
    )
    web = browser_for(user)
    assert web.post("/account/keys", data={"label": "x"}).status_code == 400
    assert web.post(f"/account/keys/{key_id}/label", data={"label": "x"}).status_code == 400
    assert web.post(f"/account/keys/{key_id}/revoke").status_code == 400
    with gs.unit_of_work() as ctx:
        assert [(k.key_id, k.label, k.revoked_at) for k in ctx.db.query(AccessKey)] == [
            (key_id, "mine", None)
        ]


def test_page_needs_sign_in(client):
    response = client.get("/account/keys")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_reachable_from_the_account_page_and_the_header(site, browser_for):
    web = _english(browser_for(site.user("somsak")))
    for path in ("/account", "/"):
        assert 'href="/account/keys"' in web.get(path).get_data(as_text=True)
