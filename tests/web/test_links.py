"""Public links under attack: password guessing is limited and audited, download limits hold
under parallel and ranged requests, and a download in progress can still be resumed."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from gshare.core.models import AuditEvent, LinkPasswordThrottle, utcnow
from gshare.sharing import link_passwords as links
from tests.web.conftest import csrf_token, post

RIGHT = "open sesame"


@pytest.fixture(autouse=True)
def _cheap_link_hashing(monkeypatch):
    """Hash link passwords with argon2's cheapest settings; production keeps the defaults."""
    monkeypatch.setattr(
        "gshare.sharing.link_passwords._hasher",
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
    )


def _link(web, node_id, **form):
    post(web, f"/nodes/{node_id}/links", form)
    page = web.get(f"/nodes/{node_id}/share").get_data(as_text=True)
    return re.search(r'value="http://localhost(/s/[^"]+)"', page).group(1)


def _outsider(app, address="203.0.113.7", language="en"):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
    return client


def _guess(outsider, path, password):
    return outsider.post(
        path, data={"password": password, "csrf_token": csrf_token(outsider, path)}
    )


@pytest.fixture
def protected(site, browser_for):
    """Return a function making a password link to a new folder holding notice.txt."""
    owner = site.user("owner")
    web = browser_for(owner)

    def make(name="Public"):
        folder = site.folder(site.home(owner), name)
        site.upload(owner, folder, "notice.txt", b"read me")
        return _link(web, folder.id, mode="view", password=RIGHT)

    return make


def _events(gs, action):
    with gs.unit_of_work() as ctx:
        return list(ctx.db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _unlock_all(gs):
    """Let every lock run out, as if its time had passed."""
    with gs.unit_of_work() as ctx:
        ctx.db.execute(
            update(LinkPasswordThrottle).values(locked_until=utcnow() - timedelta(minutes=1))
        )


# --- guessing link passwords -------------------------------------------------------------


def test_wrong_guesses_lock_the_link_for_a_while_and_are_audited(protected, app, gs):
    path = protected()
    outsider = _outsider(app)
    for _ in range(links.FAILURES_PER_LINK):
        assert _guess(outsider, path, "wrong guess").status_code == 401
    refused = _guess(outsider, path, RIGHT)
    assert refused.status_code == 429
    first_wait = int(refused.headers["Retry-After"])
    assert 14 * 60 <= first_wait <= 15 * 60
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    assert "notice.txt" not in outsider.get(path).get_data(as_text=True)
    failed = _events(gs, "link.password_failed")
    assert len(failed) == links.FAILURES_PER_LINK
    link_id = failed[0].detail["link_id"]
    assert {(e.ip, e.detail["link_id"]) for e in failed} == {("203.0.113.7", link_id)}
    assert len(_events(gs, "link.password_locked")) == 1
    # someone else, from another address, is refused too: the lock is the link's
    assert _guess(_outsider(app, "198.51.100.9"), path, RIGHT).status_code == 429

    _unlock_all(gs)
    assert _guess(outsider, path, RIGHT).status_code == 302
    assert "notice.txt" in outsider.get(path).get_data(as_text=True)
    guesser = _outsider(app, "198.51.100.9")
    for _ in range(links.FAILURES_PER_LINK):
        assert _guess(guesser, path, "wrong again").status_code == 401
    again = _guess(guesser, path, "wrong again")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > first_wait  # each lock lasts longer


def test_parallel_guessers_are_all_counted_and_locked_out(protected, app, gs):
    path = protected()
    guessers = [_outsider(app, f"203.0.113.{n + 1}") for n in range(16)]
    tokens = [csrf_token(guesser, path) for guesser in guessers]

    def guess(n):
        start.wait()
        return guessers[n].post(path, data={"password": "wrong", "csrf_token": tokens[n]})

    answers = []
    while 429 not in answers and len(answers) < 64:  # rounds of 16 guesses at once
        start = threading.Barrier(16)
        with ThreadPoolExecutor(16) as pool:
            answers += [answer.status_code for answer in pool.map(guess, range(16))]
    assert 429 in answers
    assert set(answers) <= {401, 429, 503}
    wrong = answers.count(401)
    assert links.FAILURES_PER_LINK <= wrong <= links.FAILURES_PER_LINK + 16
    failed = _events(gs, "link.password_failed")
    assert len(failed) == wrong
    with gs.unit_of_work() as ctx:
        row = ctx.db.get(LinkPasswordThrottle, ("link", str(failed[0].detail["link_id"])))
        assert row.failures + links.FAILURES_PER_LINK * row.lockouts == wrong  # none lost
    assert _guess(_outsider(app, "192.0.2.1"), path, RIGHT).status_code == 429


def test_lock_page_speaks_lao(protected, app):
    path = protected()
    outsider = _outsider(app, language="lo")
    for _ in range(links.FAILURES_PER_LINK + 1):
        answer = _guess(outsider, path, "wrong guess")
    assert answer.status_code == 429
    assert "ລະຫັດຜ່ານຜິດຫຼາຍເທື່ອເກີນໄປ" in answer.get_data(as_text=True)


def test_one_address_guessing_across_links_is_stopped(protected, app):
    paths = [protected(f"Public {n}") for n in range(4)]
    guesser = _outsider(app)
    for path in paths[:3]:
        for _ in range(links.FAILURES_PER_ADDRESS // 3):
            assert _guess(guesser, path, "wrong guess").status_code == 401
    refused = _guess(guesser, paths[3], RIGHT)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    neighbour = _outsider(app, "198.51.100.9")
    assert _guess(neighbour, paths[3], RIGHT).status_code == 302  # the link itself is fine


def test_password_checks_wait_for_a_free_slot_and_give_up_with_503(protected, app, gs):
    path = protected()
    outsider = _outsider(app)
    slots = links.password_check_slots(gs.config)
    held = [slots.acquire(blocking=False) for _ in range(gs.config.links.password_checks_at_once)]
    assert all(held)
    try:
        busy = _guess(outsider, path, RIGHT)
    finally:
        for _ in held:
            slots.release()
    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) >= 1
    assert "busy" in busy.get_data(as_text=True)
    assert _guess(outsider, path, RIGHT).status_code == 302


@pytest.fixture
def config(config):
    return config.replace(links={"password_check_wait_seconds": 0.05})


def test_short_link_passwords_are_refused_in_the_form_and_the_api(site, browser_for, app):
    owner = site.user("owner")
    folder = site.folder(site.home(owner), "Public")
    web = browser_for(owner)
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = post(web, f"/nodes/{folder.id}/links", {"mode": "view", "password": "1"})
    assert page.status_code == 400
    assert "at least 8 characters" in page.get_data(as_text=True)
    api = web.post(
        f"/api/v1/nodes/{folder.id}/links",
        json={"mode": "view", "password": "1234567"},
        headers={"X-CSRFToken": csrf_token(web, "/login")},
    )
    assert api.status_code == 400
    assert api.json["error"]["code"] == "password_too_short"
    assert "at least 8 characters" in api.json["error"]["message"]
    listed = web.get(f"/api/v1/nodes/{folder.id}/links").json["items"]
    assert listed == []
    ok = post(web, f"/nodes/{folder.id}/links", {"mode": "view", "password": "12345678"})
    assert ok.status_code == 302


# --- download limits ---------------------------------------------------------------------


def _limited(site, browser_for, data=b"0123456789", limit="1"):
    owner = site.user("owner")
    version = site.upload(owner, site.home(owner), "once.txt", data)
    path = _link(browser_for(owner), version.node_id, mode="view", max_downloads=limit)
    return f"{path}/files/{version.node_id}", owner, version


def test_sixteen_parallel_downloads_of_a_one_download_link_let_one_through(site, browser_for, app):
    url, _owner, _version = _limited(site, browser_for)
    start = threading.Barrier(16)

    def download(n):
        visitor = _outsider(app, f"203.0.113.{n + 1}")
        start.wait()
        answer = visitor.get(url)
        return answer.status_code, answer.get_data(as_text=True)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(download, range(16)))
    assert [body for status, body in answers if status == 200] == ["0123456789"]
    refused = [body for status, body in answers if status != 200]
    assert len(refused) == 15
    assert {status for status, _ in answers} == {200, 403}
    assert all("download limit" in body for body in refused)


def test_a_ranged_request_without_a_prior_download_counts(site, browser_for, app):
    url, _owner, _version = _limited(site, browser_for)
    first = _outsider(app).get(url, headers={"Range": "bytes=1-"})
    assert first.status_code == 206
    assert first.data == b"123456789"
    second = _outsider(app, "198.51.100.9").get(url, headers={"Range": "bytes=1-"})
    assert second.status_code == 403
    assert "download limit" in second.get_data(as_text=True)


def test_a_head_request_takes_no_download(site, browser_for, app):
    url, _owner, _version = _limited(site, browser_for)
    looked = _outsider(app).head(url)
    assert looked.status_code == 200 and looked.headers["Content-Length"] == "10"
    assert _outsider(app, "198.51.100.9").get(url).data == b"0123456789"  # the one download
    assert _outsider(app, "198.51.100.10").head(url).status_code == 403  # none left


def test_a_counted_download_can_be_resumed_but_not_repeated_elsewhere(site, browser_for, app):
    url, _owner, _version = _limited(site, browser_for)
    visitor = _outsider(app)
    assert visitor.get(url).data == b"0123456789"
    resumed = visitor.get(url, headers={"Range": "bytes=4-"})
    assert resumed.status_code == 206
    assert resumed.data == b"456789"
    assert visitor.get(url, headers={"Range": "bytes=0-1"}).data == b"01"
    other = _outsider(app, "198.51.100.9").get(url)
    assert other.status_code == 403


def test_the_limit_is_reached_after_max_downloads_visits_whatever_the_ranges(
    site, browser_for, app, gs
):
    url, owner, version = _limited(site, browser_for, limit="2")
    first, second = _outsider(app), _outsider(app, "198.51.100.9")
    assert first.get(url, headers={"Range": "bytes=0-0"}).data == b"0"
    assert second.get(url, headers={"Range": "bytes=5-"}).data == b"56789"
    third = _outsider(app, "192.0.2.1").get(url, headers={"Range": "bytes=9-"})
    assert third.status_code == 403
    assert "download limit" in third.get_data(as_text=True)
    assert first.get(url, headers={"Range": "bytes=1-"}).data == b"123456789"  # resumes
    # a resume grant is for that version only: a newer version is a new download
    site.upload(owner, site.home(owner), "once.txt", b"new text")
    assert first.get(url, headers={"Range": "bytes=1-"}).status_code == 403
    downloads = _events(gs, "link.download")
    assert len(downloads) >= 2
