"""Security keys and passkeys (WebAuthn) as a person meets them on the server: adding named keys,
the key asked after the password, removal; and every bad answer refused with a sentence, never a
500: a replayed challenge, a wrong origin, a changed clientDataJSON, a counter going back, a key
gshare does not know, one of another person's. A software key answers (tests/fixtures/soft_key.py);
tests/web/browser/test_security_keys_browser.py does it in Chromium."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from gshare.accounts import security_keys
from gshare.core.config import ConfigError, load_config
from gshare.core.models import AuditEvent, KeyChallenge, SecondFactor, UserSession, utcnow
from tests.fixtures.soft_key import SoftKey, b64url
from tests.fixtures.world import PASSWORD
from tests.web.conftest import csrf_token, post, sign_in

CODE = re.compile(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>")


def _english(web):
    web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web


def _options(web, path: str, page: str = "/login") -> str:
    reply = web.post(path, headers={"X-CSRFToken": csrf_token(web, page)})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_data(as_text=True)


def _add_key(web, key: SoftKey, label: str = "blue key", **kw):
    options = _options(web, "/account/factors/key/options")
    answer = key.create(options, **kw)
    return post(web, "/account/factors/key", {"credential": answer, "label": label})


def _half_signed_in(app, username="noy"):
    web = _english(app.test_client())
    assert sign_in(web, username).headers["Location"] == "/login/factor"
    return web


def _use_key(web, credential: str):
    token = csrf_token(web, "/login/factor")
    return web.post("/login/factor/key", data={"credential": credential, "csrf_token": token})


def _sign_in_options(web) -> str:
    return _options(web, "/login/factor/key/options", "/login/factor")


def _actions(gs, username):
    with gs.unit_of_work() as ctx:
        return [
            e.action
            for e in ctx.db.scalars(select(AuditEvent).where(AuditEvent.target == username))
        ]


def _with_key(site, browser_for, username="noy") -> SoftKey:
    key = SoftKey()
    web = _english(browser_for(site.user(username)))
    assert _add_key(web, key).status_code == 302
    return key


def test_adding_a_key_shows_it_by_name_with_recovery_codes(site, browser_for, gs):
    web = _english(browser_for(site.user("noy")))
    page = web.get("/account/factors").get_data(as_text=True)
    assert "Add a security key or passkey" in page and "webauthn.js" in page
    done = _add_key(web, SoftKey(), "blue key")
    assert done.status_code == 302
    shown = web.get("/account/factors").get_data(as_text=True)
    assert "The security key was added" in shown
    assert "Security key · blue key" in shown
    assert len(set(CODE.findall(shown))) == 10
    assert "factor.webauthn.add" in _actions(gs, "noy")


def test_sign_in_asks_for_the_key_after_the_password(site, browser_for, app, gs):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    page = web.get("/login/factor").get_data(as_text=True)
    assert "Use your security key" in page and "webauthn.js" in page
    assert web.get("/").status_code == 302  # half signed in: nothing opens yet
    done = _use_key(web, key.get(_sign_in_options(web)))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert "Welcome, Noy" in web.get("/").get_data(as_text=True)
    assert "factor.passed" in _actions(gs, "noy")


def test_two_keys_each_sign_in_and_a_removed_one_no_longer_does(site, browser_for, app, gs):
    web = _english(browser_for(site.user("noy")))
    blue, red = SoftKey(), SoftKey()
    _add_key(web, blue, "blue key")
    _add_key(web, red, "red key")
    for key in (blue, red):
        other = _half_signed_in(app)
        assert _use_key(other, key.get(_sign_in_options(other))).status_code == 302
    page = web.get("/account/factors").get_data(as_text=True)
    remove = re.search(r'red key</td>.*?action="(/account/factors/\d+/remove)"', page, re.S)
    post(web, remove.group(1), {"password": PASSWORD})
    page = web.get("/account/factors").get_data(as_text=True)
    assert "blue key" in page and "red key" not in page
    again = _half_signed_in(app)
    refused = _use_key(again, red.get(_sign_in_options(again)))
    assert refused.status_code == 401
    assert "This security key is not one of yours." in refused.get_data(as_text=True)
    assert again.get("/").status_code == 302
    assert "factor.webauthn.remove" in _actions(gs, "noy")


def test_a_key_of_another_person_is_refused(site, browser_for, app):
    noys = _with_key(site, browser_for, "noy")
    _with_key(site, browser_for, "bee")
    web = _half_signed_in(app, "noy")
    assert _use_key(web, noys.get(_sign_in_options(web))).status_code == 302
    bees_web = _half_signed_in(app, "bee")
    refused = _use_key(bees_web, noys.get(_sign_in_options(bees_web)))
    assert refused.status_code == 401
    assert "This security key is not one of yours." in refused.get_data(as_text=True)
    assert bees_web.get("/").status_code == 302


def test_an_unknown_key_is_refused(site, browser_for, app):
    _with_key(site, browser_for)
    web = _half_signed_in(app)
    refused = _use_key(web, SoftKey().get(_sign_in_options(web)))
    assert refused.status_code == 401
    assert "This security key is not one of yours." in refused.get_data(as_text=True)


def test_a_replayed_answer_is_refused(site, browser_for, app):
    key = _with_key(site, browser_for)
    first = _half_signed_in(app)
    answer = key.get(_sign_in_options(first))
    assert _use_key(first, answer).status_code == 302
    second = _half_signed_in(app)
    _sign_in_options(second)  # a fresh challenge is waiting; the old answer is not for it
    refused = _use_key(second, answer)
    assert refused.status_code == 401
    assert "already answered or is too old" in refused.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_asking_for_challenges_again_and_again_keeps_only_the_newest(site, browser_for, app, gs):
    """A few tabs may each wait for the key; asking without end fills no table: the oldest
    challenge is retired by the sixth, and its answer refused like an old one."""
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    asked = [_sign_in_options(web) for _ in range(security_keys.OUTSTANDING_CHALLENGES + 1)]
    with gs.unit_of_work() as ctx:
        waiting = ctx.db.scalars(select(KeyChallenge.purpose)).all()
    assert waiting == ["sign_in"] * security_keys.OUTSTANDING_CHALLENGES
    refused = _use_key(web, key.get(asked[0]))
    assert refused.status_code == 401
    assert "already answered or is too old" in refused.get_data(as_text=True)
    assert _use_key(web, key.get(asked[1])).status_code == 302
    assert web.get("/").status_code == 200


def test_an_answer_to_a_challenge_too_old_is_refused(site, browser_for, app, gs):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    options = _sign_in_options(web)
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(KeyChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused = _use_key(web, key.get(options))
    assert refused.status_code == 401
    assert "already answered or is too old" in refused.get_data(as_text=True)


def test_an_answer_for_another_site_is_refused(site, browser_for, app):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    refused = _use_key(web, key.get(_sign_in_options(web), origin="https://gshare.example.org"))
    assert refused.status_code == 401
    assert "not for this site or was changed" in refused.get_data(as_text=True)
    assert web.get("/").status_code == 302


def test_a_changed_client_data_is_refused(site, browser_for, app):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    answer = json.loads(key.get(_sign_in_options(web)))
    raw = answer["response"]["clientDataJSON"]
    data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    changed = json.dumps({**data, "crossOrigin": True}).encode()
    answer["response"]["clientDataJSON"] = b64url(changed)
    refused = _use_key(web, json.dumps(answer))
    assert refused.status_code == 401
    assert "not for this site or was changed" in refused.get_data(as_text=True)


def test_a_key_whose_counter_goes_back_is_refused_and_audited(site, browser_for, app, gs):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    assert _use_key(web, key.get(_sign_in_options(web), counter=7)).status_code == 302
    with gs.unit_of_work() as ctx:
        assert ctx.db.scalar(select(SecondFactor.sign_count)) == 7
    copy = _half_signed_in(app)
    refused = _use_key(copy, key.get(_sign_in_options(copy), counter=3))
    assert refused.status_code == 401
    assert "counter went back: it may have been copied" in refused.get_data(as_text=True)
    assert copy.get("/").status_code == 302
    assert "factor.webauthn.cloned" in _actions(gs, "noy")


def test_an_unreadable_answer_gets_a_sentence(site, browser_for, app):
    _with_key(site, browser_for)
    web = _half_signed_in(app)
    for garbage in ("", "not json", "[1, 2]", '{"response": {"clientDataJSON": "%%%"}}'):
        refused = _use_key(web, garbage)
        assert refused.status_code == 401
        assert "could not be read" in refused.get_data(as_text=True)


def test_refused_keys_lock_the_account_like_wrong_codes(site, browser_for, app):
    key = _with_key(site, browser_for)
    web = _half_signed_in(app)
    for _ in range(4):
        assert "could not be read" in _use_key(web, "not json").get_data(as_text=True)
    answer = key.get(_sign_in_options(web))
    locked = _use_key(web, "still not json")
    assert locked.status_code == 401 and "locked" in locked.get_data(as_text=True)
    token = csrf_token(web, "/login")
    ended = web.post("/login/factor/key", data={"credential": answer, "csrf_token": token})
    assert ended.headers["Location"] == "/login"  # the half sign-in ended
    again = _english(app.test_client())
    assert sign_in(again, "noy").status_code == 401  # the right password cannot open it now


def test_a_changed_registration_answer_adds_no_key(site, browser_for):
    web = _english(browser_for(site.user("noy")))
    refused = _add_key(web, SoftKey(), origin="https://elsewhere.example")
    shown = web.get(refused.headers["Location"]).get_data(as_text=True)
    assert "not for this site or was changed" in shown
    assert "You have no second factor yet." in shown
    replay = SoftKey()
    options = _options(web, "/account/factors/key/options")
    answer = replay.create(options)
    assert post(web, "/account/factors/key", {"credential": answer}).status_code == 302
    again = post(web, "/account/factors/key", {"credential": answer})
    assert "already answered or is too old" in web.get(again.headers["Location"]).get_data(
        as_text=True
    )


def test_an_rp_id_the_public_address_is_not_under_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[server]\npublic_url = "https://files.mof.gov.la"\n[mfa]\nwebauthn_rp_id = "mof.gov.la"\n'
    )
    assert load_config(path).mfa.webauthn_rp_id == "mof.gov.la"
    path.write_text(
        '[server]\npublic_url = "https://files.mof.gov.la"\n[mfa]\nwebauthn_rp_id = "gov.example"\n'
    )
    with pytest.raises(ConfigError, match=r"webauthn_rp_id' \(gov.example\) must be"):
        load_config(path)


def test_making_an_s3_key_is_confirmed_with_the_security_key(site, browser_for, gs):
    web = _english(browser_for(site.user("noy")))
    key = SoftKey()
    _add_key(web, key)  # adding it proves it: keys can be made now
    assert post(web, "/account/keys", {"label": "rclone"}).headers["Location"] == "/account/keys"
    with gs.unit_of_work() as ctx:
        ctx.db.execute(update(UserSession).values(factor_at=None))
    asked = post(web, "/account/keys", {"label": "rclone 2"})
    confirm = asked.headers["Location"]
    assert confirm.startswith("/account/factors/confirm")
    page = web.get(confirm).get_data(as_text=True)
    assert "needs your second factor again" in page and "Use your security key" in page
    action = re.search(r'id="use-key".*?action="([^"]+)"', page, re.S).group(1)
    options = _options(web, "/account/factors/confirm/key/options")
    wrong = post(web, action.replace("&amp;", "&"), {"credential": SoftKey().get(options)})
    assert wrong.status_code == 401
    assert "This security key is not one of yours." in wrong.get_data(as_text=True)
    options = _options(web, "/account/factors/confirm/key/options")
    confirmed = post(web, action.replace("&amp;", "&"), {"credential": key.get(options)})
    assert confirmed.status_code == 302
    made = post(web, "/account/keys", {"label": "rclone 2"})
    assert made.headers["Location"] == "/account/keys"
