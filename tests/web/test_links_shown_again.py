"""Public links shown again to their managers (the token kept encrypted), listed with their
settings, a QR code; old links that cannot be shown; the outsider's page with the expiry and
the whole folder as one ZIP (clean files only, one download from the limit)."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from gshare.core import crypto
from gshare.core.models import ShareLink, User, utcnow
from gshare.sharing import links
from tests.web.conftest import post
from web.cli import main

NEW_SECRET = "Rotated-2027-kQ9vX3mP7tL2wZ8rN5bH1cJ6dF4gS0aY"
ADDRESS = re.compile(r'value="http://localhost(/s/[^"]+)"')


@pytest.fixture
def owner_web(site, browser_for):
    owner = site.user("owner", "Finance")
    web = browser_for(owner)
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return owner, web


def _outsider(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _make_link(web, node_id, **form):
    assert post(web, f"/nodes/{node_id}/links", form).status_code == 302


def test_a_link_is_shown_again_with_its_settings_after_the_page_is_left(
    site, owner_web, browser_for, app
):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "ເອກະສານ")
    site.upload(owner, folder, "notice.txt", b"read me")
    _make_link(web, folder.id, mode="view", password="open sesame", max_downloads="3")
    first = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True))
    later = browser_for(owner)  # another session, another day
    later.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = later.get(f"/nodes/{folder.id}/share").get_data(as_text=True)
    assert ADDRESS.search(page).group(1) == first.group(1)
    assert "with a password" in page
    assert "no expiry" in page
    assert "3 of 3 downloads left" in page
    assert 'class="copy"' in page
    assert '<div class="qr" role="img"' in page and "<svg" in page
    assert "open sesame" not in page


def test_the_token_is_stored_encrypted_not_in_clear(site, owner_web, gs):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    _make_link(web, folder.id, mode="view")
    path = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)).group(1)
    token = path.removeprefix("/s/")
    with gs.unit_of_work() as ctx:
        link = ctx.db.scalar(select(ShareLink))
        assert link.token_digest == links.digest(token)
        assert link.token_encrypted and token not in link.token_encrypted


def test_only_the_managers_of_the_item_see_the_link(site, owner_web, browser_for):
    owner, web = owner_web
    viewer = site.user("viewer", "Planning")
    folder = site.folder(site.home(owner), "Box")
    _make_link(web, folder.id, mode="view")
    post(web, f"/nodes/{folder.id}/grants", {"username": "viewer", "role": "viewer"})
    assert ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True))
    page = browser_for(viewer).get(f"/nodes/{folder.id}/share").get_data(as_text=True)
    assert "/s/" not in page


def test_a_link_made_before_this_version_says_it_cannot_be_shown(site, owner_web, gs):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    _make_link(web, folder.id, mode="view")
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(ShareLink).values(token_encrypted=None))
    page = web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)
    assert "Made before this version: cannot be shown again." in page
    assert not ADDRESS.search(page)
    assert "Revoke" in page


def test_key_reencrypt_moves_link_tokens_under_a_new_secret(site, owner_web, gs):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    _make_link(web, folder.id, mode="view")
    with gs.unit_of_work() as ctx:
        user = ctx.db.get(User, owner.id)
        link = ctx.db.scalar(select(ShareLink))
        token = links.link_token(ctx, user, link)
        old = crypto.secret_key(ctx.config)
        rotating = ctx.config.replace(
            server={
                "secret_key": NEW_SECRET,
                "old_secret_keys": (old,),
            }
        )
        ctx.config = rotating
        assert links.reencrypt_tokens(ctx) == 1
        assert links.reencrypt_tokens(ctx) == 0
        ctx.config = rotating.replace(server={"old_secret_keys": ()})
        assert links.link_token(ctx, user, link) == token


def test_the_outsider_sees_the_expiry_date(site, owner_web, app):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    site.upload(owner, folder, "a.txt", b"a")
    day = (utcnow() + timedelta(days=40)).astimezone()
    _make_link(web, folder.id, mode="view", expires=day.strftime("%d/%m/%Y"))
    path = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)).group(1)
    page = _outsider(app).get(path).get_data(as_text=True)
    assert "This link works until " in page
    assert re.search(r"works until \d\d/\d\d/\d{4} \d\d:\d\d", page)


def test_the_outsider_downloads_the_folder_as_one_zip_of_clean_files(site, owner_web, app):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    site.upload(owner, folder, "ບົດລາຍງານ.txt", b"clean words")
    inner = site.folder(folder, "Inner")
    site.upload(owner, inner, "deep.txt", b"deeper")
    site.upload(owner, folder, "waiting.txt", b"not yet", clean=False)
    _make_link(web, folder.id, mode="view", max_downloads="2")
    path = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)).group(1)
    outsider = _outsider(app)
    page = outsider.get(path).get_data(as_text=True)
    assert f'href="{path}/zip"' in page
    assert "Downloads left: 2" in page
    answer = outsider.get(f"{path}/zip")
    assert answer.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(answer.data))
    assert sorted(archive.namelist()) == ["Inner/deep.txt", "ບົດລາຍງານ.txt"]
    assert archive.read("ບົດລາຍງານ.txt") == b"clean words"
    assert "Downloads left: 1" in outsider.get(path).get_data(as_text=True)
    assert outsider.get(f"{path}/zip").status_code == 200
    page = outsider.get(path).get_data(as_text=True)
    assert "Downloads left: 0" in page and f"{path}/zip" not in page
    assert outsider.get(f"{path}/zip").status_code == 403


def test_an_upload_link_offers_no_zip(site, owner_web, app):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Inbox")
    site.upload(owner, folder, "secret.txt", b"s")
    _make_link(web, folder.id, mode="upload")
    path = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)).group(1)
    outsider = _outsider(app)
    assert "uploader" in outsider.get(path).get_data(as_text=True)
    assert outsider.get(f"{path}/zip").status_code == 404


def test_the_key_reencrypt_command_moves_link_tokens_too(site, owner_web, config, tmp_path, gs):
    owner, web = owner_web
    folder = site.folder(site.home(owner), "Box")
    _make_link(web, folder.id, mode="view")
    path = ADDRESS.search(web.get(f"/nodes/{folder.id}/share").get_data(as_text=True)).group(1)
    old = crypto.secret_key(config)
    rotated = tmp_path / "rotated.toml"
    rotated.write_text(
        f'[server]\ndata_dir = "{config.server.data_dir}"\n'
        f'secret_key = "{NEW_SECRET}"\nold_secret_keys = ["{old}"]\n'
        f'[database]\nurl = "{config.database.url}"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(rotated), "key", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "1 link token(s) now under the current server secret" in result.output
    with gs.unit_of_work() as ctx:
        ctx.config = ctx.config.replace(server={"secret_key": NEW_SECRET, "old_secret_keys": ()})
        link = ctx.db.scalar(select(ShareLink))
        assert f"/s/{links.link_token(ctx, ctx.db.get(User, owner.id), link)}" == path


def test_an_uploader_is_told_of_the_folder_without_a_link_to_a_page_they_cannot_open(
    site, owner_web, browser_for
):
    owner, web = owner_web
    dropper = site.user("dropper", "Planning")
    folder = site.folder(site.home(owner), "ກ່ອງຮັບເອກະສານ")
    post(web, f"/nodes/{folder.id}/grants", {"username": "dropper", "role": "uploader"})
    reader = browser_for(dropper)
    reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    notices = reader.get("/notifications").get_data(as_text=True)
    assert "Owner shared “ກ່ອງຮັບເອກະສານ” with you (role: Uploader)." in notices
    assert 'class="open"' not in notices
