"""What a security key adds to signing in: median milliseconds of a password sign-in followed by
the WebAuthn step (the challenge made and stored, the key's ES256 signature checked against
the origin, RP id and counter, the challenge spent, the session started) against a password
sign-in alone (argon2 at its production settings).

    .venv/bin/python bench/bench_security_key.py [--rounds 30]

Both run through Flask's test client on SQLite, from GET /login to the redirect to the start
page. The key is tests/fixtures/soft_key.py (P-256 in software), so its signing time (well under
a millisecond) stands in for the person touching a real key, which no benchmark can time.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from common import median_ms  # noqa: E402

from gshare.core import db  # noqa: E402
from gshare.core.actor import OPERATOR  # noqa: E402
from gshare.core.config import Config  # noqa: E402
from gshare.core.context import Gshare  # noqa: E402
from gshare.org import departments, users  # noqa: E402
from tests.fixtures.soft_key import SoftKey  # noqa: E402
from web import create_app  # noqa: E402

PASSWORD = "bench password 1234"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), rounds)


def run(tmp: Path, rounds: int) -> None:
    config = Config().replace(
        database={"url": f"sqlite:///{tmp / 'gshare.db'}"},
        server={"data_dir": str(tmp / "var")},
    )
    db.upgrade(config.database_url)
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        finance = departments.add_department(ctx, OPERATOR, "Finance")
        users.add_user(ctx, OPERATOR, "plain", "Plain Person", finance, password=PASSWORD)
        users.add_user(ctx, OPERATOR, "keyed", "Keyed Person", finance, password=PASSWORD)
    app = create_app(config, gs)
    key = SoftKey()

    def token_of(web, path: str) -> str:
        return _CSRF.search(web.get(path).get_data(as_text=True)).group(1)

    def password(web, username: str):
        form = {"username": username, "password": PASSWORD, "csrf_token": token_of(web, "/login")}
        answer = web.post("/login", data=form)
        return answer, token_of(web, answer.headers["Location"])

    web = app.test_client()
    _answer, token = password(web, "keyed")
    options = web.post("/account/factors/key/options", headers={"X-CSRFToken": token}).text
    added = web.post(
        "/account/factors/key", data={"credential": key.create(options), "csrf_token": token}
    )
    assert added.status_code == 302

    def with_password() -> None:
        answer, _token = password(app.test_client(), "plain")
        assert answer.headers["Location"] == "/"

    def with_key() -> None:
        web = app.test_client()
        answer, token = password(web, "keyed")
        assert answer.headers["Location"] == "/login/factor"
        headers = {"X-CSRFToken": token}
        options = web.post("/login/factor/key/options", headers=headers).text
        form = {"credential": key.get(options), "csrf_token": token}
        assert web.post("/login/factor/key", data=form).headers["Location"] == "/"

    password_ms = median_ms(with_password, rounds)
    key_ms = median_ms(with_key, rounds)
    print(f"password sign-in:            median {password_ms:.1f} ms over {rounds}")
    print(f"password + security key:     median {key_ms:.1f} ms over {rounds}")
    print(f"added by the security key:   {key_ms - password_ms:.1f} ms")
    gs.engine.dispose()


if __name__ == "__main__":
    main()
