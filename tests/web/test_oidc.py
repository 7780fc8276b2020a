"""Single sign-on against a real OpenID Connect provider (oidc-provider under Node), driven
without a browser: gshare through Flask's test client, the provider's pages through requests."""

from __future__ import annotations

import secrets
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from gshare.core.config import Config
from gshare.core.context import Gshare
from gshare.core.models import AuditEvent, User, UserRole, UserSession
from tests.fixtures.oidc import (
    GSHARE_URL,
    LAO_NAME,
    BackChannel,
    path_of,
    sign_out_at_provider,
    signing_keys,
    through_provider,
)
from tests.fixtures.world import PASSWORD
from tests.web.conftest import TEMPLATES, csrf_token, post
from web import create_app


@pytest.fixture
def config(db_url, tmp_path, oidc_provider) -> Config:
    return Config().replace(
        database={"url": db_url},
        server={"data_dir": str(tmp_path / "var"), "public_url": GSHARE_URL},
        oidc=oidc_provider.gshare_settings(),
    )


@pytest.fixture
def app_for(config, s3_store):
    """Return a function making a gshare app on the test database for another [oidc]."""
    runtimes = []

    def make(**oidc):
        runtime = Gshare(config.replace(oidc=oidc), s3_store)
        runtimes.append(runtime)
        application = create_app(runtime.config, runtime)
        application.config["TESTING"] = True
        application.jinja_env.bytecode_cache = TEMPLATES
        return application

    yield make
    for runtime in runtimes:
        runtime.engine.dispose()


@pytest.fixture
def client(app):
    return english(app.test_client())


def english(web):
    """Make a test client's browser ask for English pages."""
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def begin(web, tamper=None) -> str:
    """Click "Sign in with ..." and return where gshare sends the browser."""
    started = web.get("/login/oidc")
    assert started.status_code == 302
    location = started.headers["Location"]
    return tamper(location) if tamper else location


def sign_in_with_provider(web, login: str):
    """Go the whole way: gshare, the provider's login and consent, back to gshare."""
    return web.get(path_of(through_provider(begin(web), login)))


def account(gs, username: str) -> User | None:
    with gs.unit_of_work() as ctx:
        user = ctx.db.scalar(select(User).where(User.username == username))
        if user is not None:
            ctx.db.expunge(user)
        return user


def audited(gs, action: str) -> list[AuditEvent]:
    with gs.unit_of_work() as ctx:
        return list(ctx.db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_sign_in_page_offers_the_provider_in_english_and_lao(client):
    english = client.get("/login").get_data(as_text=True)
    assert "Sign in with MPTC ID" in english
    assert 'name="password"' in english
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "lo"
    lao = client.get("/login").get_data(as_text=True)
    assert "ເຂົ້າສູ່ລະບົບດ້ວຍ MPTC ID" in lao


def test_first_sign_in_creates_the_account_in_the_mapped_department_with_the_mapped_role(
    client, site, gs
):
    finance = site.department("Finance")
    assert account(gs, "somchai") is None
    landed = sign_in_with_provider(client, "somchai")
    assert landed.status_code == 302 and urlsplit(landed.headers["Location"]).path == "/"
    home = client.get("/").get_data(as_text=True)
    assert LAO_NAME in home
    user = account(gs, "somchai")
    assert (user.display_name, user.department_id, user.role) == (
        LAO_NAME,
        finance.id,
        UserRole.DEPARTMENT_ADMIN,
    )
    assert (user.oidc_issuer, user.oidc_subject, user.password_hash) == (
        gs.config.oidc.issuer,
        "somchai",
        None,
    )
    assert [e.target for e in audited(gs, "login.oidc_account")] == ["somchai"]
    assert [e.detail.get("method") for e in audited(gs, "login")] == ["oidc"]


def test_each_sign_in_brings_an_existing_account_up_to_date(client, site, gs):
    site.department("Finance")
    site.user("vanh", department="Archives", role=UserRole.DEPARTMENT_ADMIN)
    sign_in_with_provider(client, "vanh")
    user = account(gs, "vanh")
    assert (user.display_name, user.role, user.oidc_subject) == ("Vanh Sisouk", "member", "vanh")
    assert user.department_id == site.department("Finance").id
    assert [e.detail["changed"] for e in audited(gs, "user.oidc_update")] == [
        ["department_id", "display_name", "email", "role"]
    ]


def test_provider_group_makes_a_system_administrator(client, site, gs):
    site.department("Finance")
    sign_in_with_provider(client, "chief")
    assert account(gs, "chief").role == UserRole.SYSTEM_ADMIN
    assert "Chief Administrator" in client.get("/").get_data(as_text=True)


def test_person_whose_department_is_unknown_is_refused_with_a_clear_page(client, site, gs):
    site.department("Finance")
    refused = sign_in_with_provider(client, "stranger")
    assert refused.status_code == 400
    assert "names no department of G-Share" in refused.get_data(as_text=True)
    assert account(gs, "stranger") is None
    assert [e.detail["reason"] for e in audited(gs, "login.oidc_refused")] == ["department"]
    assert client.get("/").status_code == 302  # still signed out


def test_replayed_answer_is_refused(client, app, site, gs):
    site.department("Finance")
    answer = path_of(through_provider(begin(client), "vanh"))
    assert client.get(answer).status_code == 302
    replayed = client.get(answer)
    assert replayed.status_code == 400
    assert "already used or was not started in this browser" in replayed.get_data(as_text=True)
    other_browser = english(app.test_client())
    assert other_browser.get(answer).status_code == 400
    reasons = [e.detail["reason"] for e in audited(gs, "login.oidc_refused")]
    assert reasons == ["state", "state"]


def test_answer_after_the_sign_in_expired_is_refused(client, site, gs, monkeypatch):
    site.department("Finance")
    answer = path_of(through_provider(begin(client), "vanh"))
    later = time.time() + 11 * 60  # the person comes back after 11 minutes
    monkeypatch.setattr("gshare.accounts.oidc.time", SimpleNamespace(time=lambda: later))
    refused = client.get(answer)
    assert refused.status_code == 400
    assert "took too long and has expired" in refused.get_data(as_text=True)
    assert account(gs, "vanh") is None


def test_wrong_nonce_is_refused(client, site, gs):
    site.department("Finance")

    def other_nonce(url: str) -> str:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert query["nonce"] and query["code_challenge_method"] == ["S256"]
        query["nonce"] = ["a-nonce-gshare-never-sent"]
        return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))

    refused = client.get(path_of(through_provider(begin(client, other_nonce), "vanh")))
    assert refused.status_code == 400
    assert "could not be trusted" in refused.get_data(as_text=True)
    assert "nonce" in audited(gs, "login.oidc_refused")[0].detail["detail"]
    assert account(gs, "vanh") is None


def test_id_token_signed_by_another_key_is_refused(app_for, site, gs, new_oidc_provider):
    site.department("Finance")
    provider = new_oidc_provider(keys=signing_keys("provider-key"))
    web = english(app_for(**provider.gshare_settings()).test_client())
    assert sign_in_with_provider(web, "vanh").status_code == 302  # gshare now knows the keys
    # an impostor answers at the provider's address, signing with a key of the same id
    provider.start(keys=signing_keys("provider-key"))
    other = english(
        app_for(**provider.gshare_settings()).test_client()
    )  # a fresh client fetches them
    refused = sign_in_with_provider(web, "somchai")
    assert refused.status_code == 400
    assert "could not be trusted" in refused.get_data(as_text=True)
    assert "signature" in audited(gs, "login.oidc_refused")[0].detail["detail"].lower()
    assert account(gs, "somchai") is None
    assert sign_in_with_provider(other, "somchai").status_code == 302


def test_clock_skew_within_the_leeway_is_accepted_and_beyond_it_refused(
    app_for, site, gs, new_oidc_provider
):
    site.department("Finance")
    ahead = new_oidc_provider(clock_offset=30)  # the provider's clock is 30 s fast
    lenient = english(app_for(**ahead.gshare_settings(leeway_seconds=60)).test_client())
    assert sign_in_with_provider(lenient, "vanh").status_code == 302
    strict = english(app_for(**ahead.gshare_settings(leeway_seconds=5)).test_client())
    refused = sign_in_with_provider(strict, "somchai")
    assert refused.status_code == 400
    assert "too far from G-Share's clock" in refused.get_data(as_text=True), audited(
        gs, "login.oidc_refused"
    )[0].detail
    assert account(gs, "somchai") is None


def test_with_local_passwords_off_only_the_break_glass_administrator_uses_a_password(
    app_for, site, gs, oidc_provider
):
    site.user("root", role=UserRole.SYSTEM_ADMIN)
    site.user("vanh")
    settings = oidc_provider.gshare_settings(local_passwords=False, break_glass=("root",))
    web = english(app_for(**settings).test_client())
    page = web.get("/login").get_data(as_text=True)
    assert "Sign in with MPTC ID" in page
    assert 'name="password"' not in page
    assert 'name="password"' in web.get("/login?local=1").get_data(as_text=True)
    token = csrf_token(web, "/login?local=1")
    refused = web.post(
        "/login?local=1", data={"username": "vanh", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code == 401
    assert "Passwords of G-Share are turned off" in refused.get_data(as_text=True)
    signed_in = web.post(
        "/login?local=1", data={"username": "root", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    assert "Root" in web.get("/").get_data(as_text=True)
    assert [e.target for e in audited(gs, "login.password_off")] == ["vanh"]


def test_sign_out_ends_the_session_and_goes_on_to_the_provider(client, site, gs, oidc_provider):
    site.department("Finance")
    sign_in_with_provider(client, "vanh")
    left = post(client, "/logout")
    assert left.headers["Location"] == "/logout/oidc"
    onward = client.get("/logout/oidc").headers["Location"]
    assert onward.startswith(f"{oidc_provider.issuer}/session/end")
    assert parse_qs(urlsplit(onward).query)["post_logout_redirect_uri"] == [f"{GSHARE_URL}/login"]
    assert client.get("/").status_code == 302
    assert through_provider(onward, "vanh").startswith(f"{GSHARE_URL}/login")


def _provider_sid(gs, username: str) -> list[str | None]:
    with gs.unit_of_work() as ctx:
        user = ctx.db.scalar(select(User).where(User.username == username))
        rows = ctx.db.scalars(select(UserSession).where(UserSession.user_id == user.id))
        return [row.provider_sid for row in rows]


def test_the_providers_front_channel_logout_ends_the_sessions_of_that_provider_session(
    app, site, gs, oidc_provider
):
    site.department("Finance")
    office, phone = english(app.test_client()), english(app.test_client())
    sign_in_with_provider(office, "vanh")
    sign_in_with_provider(phone, "vanh")  # another browser: another session at the provider
    office_sid, phone_sid = _provider_sid(gs, "vanh")
    assert office_sid and phone_sid and office_sid != phone_sid  # the ID tokens' sid claims
    assert office.get("/account").status_code == 200
    # what the provider's logout page loads in an iframe (Front-Channel Logout 1.0, section 2)
    iframe = app.test_client().get(
        "/logout/oidc/frontchannel?" + urlencode({"iss": oidc_provider.issuer, "sid": office_sid})
    )
    assert iframe.status_code == 200
    assert f"frame-ancestors {oidc_provider.issuer}" in iframe.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in iframe.headers
    assert office.get("/account").status_code == 302  # signed out
    assert phone.get("/account").status_code == 200  # another provider session: still in
    assert [e.target for e in audited(gs, "session.provider_logout")] == ["vanh"]


def test_signing_out_at_the_provider_ends_the_gshare_sessions_of_that_provider_session(
    app, site, gs, oidc_provider
):
    """The provider's own sign-out POSTs a logout token to gshare (Back-Channel Logout 1.0):
    the session begun through that provider session ends; another browser's stays."""
    site.department("Finance")
    office, phone = english(app.test_client()), english(app.test_client())
    at_provider = requests.Session()  # the office browser's cookies at the provider
    office.get(path_of(through_provider(begin(office), "vanh", browser=at_provider)))
    sign_in_with_provider(phone, "vanh")
    assert office.get("/account").status_code == 200
    assert phone.get("/account").status_code == 200
    with BackChannel(oidc_provider, app) as back_channel:
        sign_out_at_provider(oidc_provider, at_provider)
    assert back_channel.answers == [200]  # the provider's POST, answered by gshare
    assert office.get("/account").status_code == 302
    assert phone.get("/account").status_code == 200
    assert [e.target for e in audited(gs, "session.provider_logout")] == ["vanh"]


def _logout_token(provider, key=None, **changes) -> str:
    """Return a logout token as the provider signs one, with claims changed (None: left out)."""
    claims = {
        "iss": provider.issuer,
        "aud": "gshare",
        "iat": int(time.time()),
        "jti": secrets.token_hex(8),
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        "sub": "vanh",
    }
    claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    signing = key or RSAKey.import_key(provider.keys["keys"][0])
    return jwt.encode({"alg": "RS256", "kid": signing.kid}, claims, signing)


def test_a_logout_token_gshare_cannot_trust_ends_nothing_and_a_good_one_ends_them_all(
    app, site, gs, oidc_provider
):
    site.department("Finance")
    office, phone = english(app.test_client()), english(app.test_client())
    sign_in_with_provider(office, "vanh")
    sign_in_with_provider(phone, "vanh")
    stranger_key = RSAKey.import_key(signing_keys()["keys"][0])  # same key id, another key
    other_kid = RSAKey.import_key(signing_keys("another-key")["keys"][0])
    refused = {
        "signed by another key": _logout_token(oidc_provider, key=stranger_key),
        "signed by a key the provider does not have": _logout_token(oidc_provider, other_kid),
        "from another provider": _logout_token(oidc_provider, iss="https://elsewhere.example"),
        "for another client": _logout_token(oidc_provider, aud="another-client"),
        "an hour old": _logout_token(oidc_provider, iat=int(time.time()) - 3600),
        "without the logout event": _logout_token(oidc_provider, events={}),
        "an ID token (with a nonce)": _logout_token(oidc_provider, nonce="n-0S6_WzA2Mj"),
        "naming no one": _logout_token(oidc_provider, sub=None),
        "not a token": "not.a.token",
        "empty": "",
    }
    for why, token in refused.items():
        answer = app.test_client().post("/logout/oidc/backchannel", data={"logout_token": token})
        assert answer.status_code == 400, why
        assert answer.get_json()["error"] == "invalid_request", why
        assert answer.headers["Cache-Control"] == "no-store"
    assert office.get("/account").status_code == 200
    assert phone.get("/account").status_code == 200
    good = _logout_token(oidc_provider)  # names the person (sub) and no session: all of theirs
    answer = app.test_client().post("/logout/oidc/backchannel", data={"logout_token": good})
    assert answer.status_code == 200
    assert office.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    assert [e.target for e in audited(gs, "session.provider_logout")] == ["vanh", "vanh"]


def test_a_front_channel_logout_from_elsewhere_or_for_no_session_ends_nothing(
    app, site, gs, oidc_provider
):
    site.department("Finance")
    web = english(app.test_client())
    sign_in_with_provider(web, "vanh")
    (sid,) = _provider_sid(gs, "vanh")
    assert web.get("/account").status_code == 200
    for query in (
        {"iss": "https://elsewhere.example", "sid": sid},
        {"iss": oidc_provider.issuer, "sid": "no-such-session"},
        {"iss": oidc_provider.issuer},
        {"sid": sid},
        {},
    ):
        answer = app.test_client().get("/logout/oidc/frontchannel?" + urlencode(query))
        assert answer.status_code == 200, query
    assert web.get("/account").status_code == 200
    assert audited(gs, "session.provider_logout") == []
