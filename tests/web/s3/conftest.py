"""The S3 endpoint served over real HTTP on the test database, the real S3 server and clamd."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config as BotoConfig

from gshare.accounts import access_keys
from gshare.core.actor import OPERATOR
from gshare.core.context import Gshare
from gshare.core.models import User
from gshare.sharing import grants
from tests.fixtures.world import World
from tests.helpers import serving
from web.s3.app import create_s3_app

REGION = "us-east-1"


@dataclass
class Person:
    """A person with an access key."""

    user: User
    key_id: str
    secret: str


@dataclass
class S3Site:
    """A running S3 endpoint and the people who may use it."""

    url: str
    gs: Gshare
    people: dict[str, Person] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, raw URI) served

    def writes(self) -> list[tuple[str, str]]:
        """Return the requests served so far that could change something."""
        return [r for r in self.requests if r[0] not in ("GET", "HEAD")]

    def run(self, fn):
        """Run fn(world) in one committed unit of work and return what it returns."""
        with self.gs.unit_of_work() as ctx:
            return fn(World(ctx))

    def person(self, username: str, department: str = "Finance", **key_options) -> Person:
        """Add a person with an access key (limits passed to create_key)."""

        def make(w: World):
            user = w.user(username, department)
            new = access_keys.create_key(w.ctx, OPERATOR, user, "test", **key_options)
            return Person(user, new.key.key_id, new.secret)

        self.people[username] = self.run(make)
        return self.people[username]

    def key(self, username: str, **key_options) -> Person:
        """Give an existing person another key."""

        def make(w: World):
            user = w.ctx.db.get(User, self.people[username].user.id)
            new = access_keys.create_key(w.ctx, OPERATOR, user, "more", **key_options)
            return Person(user, new.key.key_id, new.secret)

        return self.run(make)

    def client(self, who: str | Person, checksums: str = "when_supported", **config):
        """Return a boto3 client signing with a person's key."""
        person = self.people[who] if isinstance(who, str) else who
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=person.key_id,
            aws_secret_access_key=person.secret,
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": 1},
                request_checksum_calculation=checksums,
                response_checksum_validation=checksums,
                **config,
            ),
        )

    def share(self, owner: str, slug_path: str, grantee: str, role: str = "viewer") -> None:
        """Grant a role on SPACE/PATH to a person."""
        from gshare.cli.people import find_node

        def grant(w: World):
            node = find_node(w.ctx, slug_path)
            user = w.ctx.db.get(User, self.people[grantee].user.id)
            grants.grant_role(w.ctx, OPERATOR, node.id, role, user=user)

        self.run(grant)


@pytest.fixture
def s3_gs(config, s3_store, scanner):
    """gshare on the test database, a fresh bucket of the real S3 server and the real clamd."""
    runtime = Gshare(config, s3_store, scanner=scanner)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def s3_site(config, s3_gs):
    """Serve the S3 endpoint on a free port in a thread."""
    app, served = create_s3_app(config, s3_gs), []

    def recording(environ, start_response):
        served.append((environ["REQUEST_METHOD"], environ.get("RAW_URI", "")))
        return app(environ, start_response)

    with serving(recording) as server:
        yield S3Site(f"http://127.0.0.1:{server.port}", s3_gs, requests=served)
