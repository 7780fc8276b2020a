"""Sign-in as people see it: only a path on this site after sign-in, and one guesser behind an
office's address does not lock out the office."""

from __future__ import annotations

import pytest

from tests.web.conftest import sign_in

HOSTILE = [
    "////evil.example/phish",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%252F%252Fevil.example",
    "/\tevil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "https:evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
    "/%00//evil.example",
    "",
]
GOOD = ["/spaces/3?tab=x", "/my", "/files/12?version=2#top", "/search?q=report%202025"]


def _sign_in_to(client, target):
    from tests.web.conftest import csrf_token

    token = csrf_token(client)
    return client.post(
        "/login",
        query_string={"next": target},
        data={"username": "somsak", "password": "correct horse battery", "csrf_token": token},
    )


@pytest.mark.parametrize("target", GOOD)
def test_sign_in_returns_to_the_page_asked_for(site, client, target):
    site.user("somsak")
    response = _sign_in_to(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_sign_in_never_sends_anyone_to_another_site(site, app):
    site.user("somsak")
    for target in HOSTILE:
        response = _sign_in_to(app.test_client(), target)
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target


def test_one_guesser_does_not_lock_out_the_office_behind_the_same_address(site, app):
    staff = [site.user(f"staff{n}") for n in range(5)]
    site.user("target")
    site.user("boss")
    guesser = app.test_client()  # tries colleagues' accounts, real and imagined, 40 times
    guesses = ["target", "boss", "director", "admin", "root"] * 8
    answers = {sign_in(guesser, name, "wrong password!").status_code for name in guesses}
    assert answers == {401}
    for person in staff:
        assert sign_in(app.test_client(), person.username).status_code == 302
    # the guessed account is slowed or locked for now, even with its right password
    owner = app.test_client()
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = sign_in(owner, "target")
    assert refused.status_code == 401
    assert "Wait" in refused.get_data(as_text=True) or "locked" in refused.get_data(as_text=True)
