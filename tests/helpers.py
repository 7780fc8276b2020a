"""Helpers for the tests: waiting for something that happens on its own (`eventually`),
serving an app over real HTTP (`serving`), and a tool or server that is missing (`missing`).

A test that has to wait for another thread, process or server (a scan worker, clamd loading
signatures, a server starting) polls with `eventually` instead of sleeping a guessed time:

    eventually(lambda: state(gs, version.id).scan_state == ScanState.CLEAN)

    def scanned():
        assert state(gs, version.id).scan_state == ScanState.CLEAN
        return True

    eventually(scanned, timeout=30)

The check is called until it returns a truthy value, which `eventually` returns. A falsy value
(False, None, an empty list) means "not yet", and so does an AssertionError, so a check may be
written with `assert` (ending with `return True`) and say in its message what it saw. Any other
exception ends the wait at once (a bug is not "not yet"), unless it is listed in `retry_on`,
e.g. OSError while a server is not listening yet. When the time is up, the test fails with
the last value returned or the last assertion raised, so the message says what was seen.

Where the thing waited for has an event of its own, wait on that instead: Playwright's
`expect(...)`/`wait_for_*`, `process.wait()`, reading a socket until the other side is done.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 0.05


def eventually(
    check: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    retry_on: tuple[type[BaseException], ...] = (),
    what: str | None = None,
) -> T:
    """Call check() every `interval` seconds until it returns a truthy value, and return that
    value; a falsy value, an AssertionError or an exception in retry_on mean "not yet". After
    `timeout` seconds (check is called once more at the deadline), fail with an AssertionError
    that quotes the last value or assertion."""
    retried = (AssertionError, *retry_on)
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        attempts += 1
        last_try = time.monotonic() >= deadline
        try:
            result = check()
        except retried as exc:
            last = f"last attempt raised {type(exc).__name__}: {exc}"
            if last_try:
                raise AssertionError(_message(what, check, timeout, attempts, last)) from exc
        else:
            if result:
                return result
            last = f"last attempt returned {result!r}"
            if last_try:
                raise AssertionError(_message(what, check, timeout, attempts, last))
        time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


def _message(what: str | None, check: Callable, timeout: float, attempts: int, last: str) -> str:
    name = what or getattr(check, "__qualname__", repr(check))
    return f"gave up waiting for {name} after {timeout}s ({attempts} attempts); {last}"


# How often a served app's thread looks for shutdown(): werkzeug's default, 0.5 s, added half a
# second to every test that stopped a server.
SHUTDOWN_POLL_SECONDS = 0.01


@contextmanager
def serving(app, **options) -> Iterator[BaseWSGIServer]:
    """Serve a WSGI app on a free port of 127.0.0.1 from a thread until the block ends; options
    go to werkzeug's make_server (ssl_context=...). The server answers requests in threads."""
    server = make_server("127.0.0.1", 0, app, threaded=True, **options)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)


def in_ci() -> bool:
    """Tell whether this run is CI's (CI=true), where nothing the suite needs may be missing."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def missing(what: str) -> NoReturn:
    """Stop a test that lacks a tool, server or browser: a failure where CI=true, a skip saying
    what is missing elsewhere."""
    if in_ci():
        pytest.fail(f"{what} (required where CI=true)", pytrace=False)
    pytest.skip(what)
