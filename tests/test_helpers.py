"""The suite's one way of waiting (tests/helpers.py) does what its callers count on."""

import itertools

import pytest

from tests.helpers import eventually


def test_eventually_returns_the_first_truthy_value():
    calls = itertools.count(1)
    assert eventually(lambda: next(calls) >= 3 and "ready", interval=0) == "ready"
    assert next(calls) == 4  # called three times, no more


def test_eventually_retries_a_failing_assertion_until_it_passes():
    seen = []

    def check():
        seen.append(len(seen))
        assert len(seen) >= 2, f"only {len(seen)} so far"
        return True

    assert eventually(check, interval=0) is True
    assert seen == [0, 1]


def test_eventually_takes_none_as_not_yet():
    answers = iter([None, None, 7])
    assert eventually(lambda: next(answers), interval=0) == 7


def test_eventually_fails_with_the_last_value_it_saw():
    with pytest.raises(AssertionError, match=r"gave up waiting for the queue .*returned \[\]"):
        eventually(lambda: [], timeout=0.05, interval=0.01, what="the queue")


def test_eventually_fails_with_the_last_assertion_it_saw():
    def check():
        assert 1 + 1 == 3, "arithmetic is still right"

    with pytest.raises(AssertionError, match="arithmetic is still right"):
        eventually(check, timeout=0.05, interval=0.01)


def test_eventually_does_not_retry_other_errors_unless_told():
    calls = itertools.count(1)

    def refused():
        if next(calls) < 3:
            raise ConnectionRefusedError("not listening yet")
        return "up"

    with pytest.raises(ConnectionRefusedError):
        eventually(refused, interval=0)
    assert eventually(refused, interval=0, retry_on=(OSError,)) == "up"
