"""Behind reverse proxies ([server] trusted_proxies): each person counted by their own address."""

from sqlalchemy import select

from gshare.core.models import AuditEvent
from tests.web.conftest import sign_in
from web import create_app


def _client(config, gs, proxies: int, forwarded_for: str):
    app = create_app(config.replace(server={"trusted_proxies": proxies}), gs)
    web = app.test_client()
    web.environ_base.update(
        REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forwarded_for, HTTP_ACCEPT_LANGUAGE="en"
    )
    return web


def _failed_addresses(gs) -> list[str]:
    with gs.unit_of_work() as ctx:
        return list(
            ctx.db.scalars(select(AuditEvent.ip).where(AuditEvent.action == "login.failed"))
        )


def test_behind_a_proxy_the_sign_in_limit_counts_each_person_by_their_own_address(
    site, config, gs, monkeypatch
):
    monkeypatch.setattr(gs, "config", gs.config.replace(sessions={"address_failure_limit": 3}))
    site.user("somsak")
    attacker = _client(config, gs, 1, "203.0.113.7")
    for _ in range(3):
        sign_in(attacker, "nobody", "wrong password!")
    assert "Too many failed sign-ins" in sign_in(attacker, "somsak").get_data(as_text=True)
    assert sign_in(_client(config, gs, 1, "203.0.113.8"), "somsak").status_code == 302
    assert set(_failed_addresses(gs)) == {"203.0.113.7"}


def test_without_trusted_proxies_a_forwarded_address_is_ignored(site, config, gs):
    site.user("somsak")
    sign_in(_client(config, gs, 0, "203.0.113.7"), "somsak", "wrong password!")
    assert _failed_addresses(gs) == ["10.1.1.1"]


def test_a_request_id_from_the_proxy_is_kept_and_anything_else_is_replaced(config, gs, caplog):
    web = create_app(config, gs).test_client()
    with caplog.at_level("INFO", logger="gshare.request"):
        kept = web.get("/login", headers={"X-Request-ID": "nginx-7f3a"})
        kept.close()  # the line is logged when the answer's last byte has gone
        replaced = web.get("/login", headers={"X-Request-ID": "two words; <script>"})
        replaced.close()
    assert kept.headers["X-Request-ID"] == "nginx-7f3a"
    new_id = replaced.headers["X-Request-ID"]
    assert len(new_id) == 16 and new_id.isalnum()
    lines = [(r.request_id, r.route, r.status) for r in caplog.records]
    assert lines == [("nginx-7f3a", "auth.login", 200), (new_id, "auth.login", 200)]
