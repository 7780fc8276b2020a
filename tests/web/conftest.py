"""Fixtures for the web front end: the app on the test database and S3, signed-in clients."""

from __future__ import annotations

import io
import re

import pytest
from jinja2 import BytecodeCache

from gshare.core.models import ScanState
from gshare.files import content as files
from tests.fixtures.world import PASSWORD, World, mark_scanned
from web import create_app

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class SharedTemplates(BytecodeCache):
    """Compiled templates kept for the whole run. Every test makes an app of its own, and
    compiling the same templates again in each took about a tenth of a second per test; a
    template whose source changed is compiled again (Jinja compares the source's checksum)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplates()


@pytest.fixture
def app(config, gs):
    application = create_app(config, gs)
    application.config["TESTING"] = True
    application.jinja_env.bytecode_cache = TEMPLATES
    return application


@pytest.fixture
def site(gs):
    return Site(gs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def browser_for(app):
    """Return a function giving a signed-in test client for a user."""

    def make(user):
        web = app.test_client()
        sign_in(web, user.username)
        return web

    return make


class Site:
    """Build the world in committed steps, as the web requests see it."""

    def __init__(self, gs):
        self.gs = gs

    def run(self, fn):
        with self.gs.unit_of_work() as ctx:
            return fn(World(ctx))

    def user(self, username=None, department="Finance", **kw):
        return self.run(lambda w: w.user(username, department, **kw))

    def department(self, name, parent=None):
        return self.run(lambda w: w.department(name, parent))

    def home(self, user):
        return self.run(lambda w: w.home(user))

    def department_root(self, department):
        return self.run(lambda w: w.department_root(department))

    def folder(self, parent, name=None):
        return self.run(lambda w: w.folder(parent, name))

    def upload(self, actor, folder, name="report.txt", data=b"hello", clean=True):
        def do(w):
            version = files.upload_file(
                w.ctx, actor, w.ctx.db.merge(folder), name, io.BytesIO(data), len(data)
            )
            if clean:
                mark_scanned(version, ScanState.CLEAN)
            return version

        return self.run(do)


def csrf_token(web, path="/login") -> str:
    """Return the CSRF token of the client's session, read from a page."""
    page = web.get(path)
    return _CSRF.search(page.get_data(as_text=True)).group(1)


def sign_in(web, username: str, password: str = PASSWORD):
    """Sign the client in through the form."""
    token = csrf_token(web)
    return web.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post(web, path: str, data=None, **kw):
    """POST a form with the session's CSRF token."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(web, "/login")
    return web.post(path, data=data, **kw)
