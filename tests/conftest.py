import pytest
from argon2 import PasswordHasher

pytest_plugins = [
    "tests.fixtures.s3",
    "tests.fixtures.clamd",
    "tests.fixtures.database",
    "tests.fixtures.world",
    "tests.fixtures.cli",
    "tests.fixtures.oidc",
    "tests.fixtures.ldap",
    "tests.fixtures.samba_ad",
]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Hash test passwords with argon2's cheapest settings; production keeps the defaults."""
    monkeypatch.setattr(
        "gshare.org.users._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
