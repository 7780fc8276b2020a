"""What single sign-on adds to signing in: median milliseconds of a whole OpenID Connect sign-in
(gshare's redirect, the provider's login and consent pages, the callback: code for tokens with
PKCE, the ID token checked against the JWKS, userinfo, the account brought up to date, the
session started) against a sign-in with a gshare password (argon2 at its production settings).

    .venv/bin/python bench/bench_sign_in.py [--rounds 30]

Both start at GET /login in a fresh browser (Flask's test client) and end at the redirect to
the start page. The provider is the suite's oidc-provider under Node on this machine (npm ci
--prefix tests/oidc first), reached over HTTP with requests; no person types, so the figure is
the machines' time only. Discovery and the JWKS are fetched once, at the warm-up sign-in.
A password sign-in spends most of its time in argon2, which an OIDC sign-in does not run at
gshare, so the figure "added by OIDC" can be negative; the argon2 check is printed alone.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from argon2 import PasswordHasher  # noqa: E402
from common import median_ms  # noqa: E402

from gshare.core import db  # noqa: E402
from gshare.core.actor import OPERATOR  # noqa: E402
from gshare.core.config import Config  # noqa: E402
from gshare.core.context import Gshare  # noqa: E402
from gshare.org import departments, users  # noqa: E402
from tests.fixtures.oidc import GSHARE_URL, OidcProvider, path_of, through_provider  # noqa: E402
from web import create_app  # noqa: E402

PASSWORD = "bench password 1234"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        provider = OidcProvider(Path(tmp)).start()
        try:
            run(Path(tmp), provider, rounds)
        finally:
            provider.stop()


def run(tmp: Path, provider: OidcProvider, rounds: int) -> None:
    config = Config().replace(
        database={"url": f"sqlite:///{tmp / 'gshare.db'}"},
        server={"data_dir": str(tmp / "var"), "public_url": GSHARE_URL},
        oidc=provider.gshare_settings(),
    )
    db.upgrade(config.database_url)
    gs = Gshare(config, store=None)
    with gs.unit_of_work() as ctx:
        finance = departments.add_department(ctx, OPERATOR, "Finance")
        users.add_user(ctx, OPERATOR, "local", "Local Person", finance, password=PASSWORD)
    app = create_app(config, gs)

    def with_password() -> None:
        web = app.test_client()
        token = _CSRF.search(web.get("/login").get_data(as_text=True)).group(1)
        form = {"username": "local", "password": PASSWORD, "csrf_token": token}
        assert web.post("/login", data=form).status_code == 302

    def with_provider() -> None:
        web = app.test_client()
        web.get("/login")
        authorize = web.get("/login/oidc").headers["Location"]
        assert web.get(path_of(through_provider(authorize, "vanh"))).status_code == 302

    stored = PasswordHasher().hash(PASSWORD)
    argon2_ms = median_ms(lambda: PasswordHasher().verify(stored, PASSWORD), 5)
    password_ms = median_ms(with_password, rounds)
    oidc_ms = median_ms(with_provider, rounds)
    print(f"password sign-in: median {password_ms:.1f} ms over {rounds}")
    print(f"OIDC sign-in:     median {oidc_ms:.1f} ms over {rounds}")
    print(f"added by OIDC:    {oidc_ms - password_ms:.1f} ms")
    print(f"(of the password sign-in, argon2's check alone: median {argon2_ms:.1f} ms)")
    gs.engine.dispose()


if __name__ == "__main__":
    main()
