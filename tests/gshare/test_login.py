"""Signing in: the account lockout holds against parallel guesses, the per-(address, account)
throttle slows a guesser without locking out the office behind the same address."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from gshare.accounts import login
from gshare.accounts.login import Outcome
from gshare.core.actor import OPERATOR
from gshare.core.config import Config
from gshare.core.models import AuditEvent, User, utcnow
from gshare.org import users
from tests.fixtures.world import PASSWORD, World

GUESSERS = 20
LOCK_AFTER = Config().sessions.lock_after_failures


def _account(gs, username):
    with gs.unit_of_work() as ctx:
        return users.find_user(ctx, username)


def _audited(gs, action, username):
    with gs.unit_of_work() as ctx:
        return ctx.db.scalar(
            select(func.count()).where(AuditEvent.action == action, AuditEvent.target == username)
        )


def _sign_in(gs, username, password, ip="10.9.9.9", now=None):
    with gs.unit_of_work(ip=ip) as ctx:
        return login.sign_in(ctx, username, password, now=now).outcome


def test_parallel_wrong_passwords_lock_the_account_and_count_every_guess(gs):
    with gs.unit_of_work() as ctx:
        World(ctx).user("somsak")
    start = threading.Barrier(GUESSERS)

    def guess(n):
        with gs.unit_of_work(ip=f"10.0.0.{n + 1}") as ctx:  # a botnet: one address each
            start.wait()
            return login.sign_in(ctx, "somsak", "wrong password!").outcome

    with ThreadPoolExecutor(GUESSERS) as pool:
        outcomes = list(pool.map(guess, range(GUESSERS)))
    assert Outcome.OK not in outcomes
    account = _account(gs, "somsak")
    checked = _audited(gs, "login.failed", "somsak")
    assert checked >= LOCK_AFTER
    assert account.failed_logins == checked  # not one guess lost
    assert login.is_locked(account)
    assert _audited(gs, "login.lockout", "somsak") >= 1
    # the right password is refused while the lock lasts, and works once it has ended
    assert _sign_in(gs, "somsak", PASSWORD) == Outcome.LOCKED
    later = account.locked_until + timedelta(seconds=1)
    assert _sign_in(gs, "somsak", PASSWORD, now=later) == Outcome.OK
    assert _account(gs, "somsak").failed_logins == 0


def test_a_pair_waits_longer_after_each_failure_up_to_a_cap():
    delays = [login.retry_delay(n) for n in range(0, 16)]
    assert delays[: login.FREE_FAILURES] == [timedelta(0)] * login.FREE_FAILURES
    growing = delays[login.FREE_FAILURES :]
    assert growing[0] > timedelta(0)
    assert all(b >= a for a, b in zip(growing, growing[1:], strict=False))
    assert growing[1] == 2 * growing[0]
    assert max(growing) == login.MAX_DELAY


def test_after_three_failures_the_pair_is_slowed_then_let_through(gs):
    with gs.unit_of_work() as ctx:
        World(ctx).user("somsak")
    now = utcnow()
    for _ in range(login.FREE_FAILURES):
        assert _sign_in(gs, "somsak", "wrong password!", now=now) == Outcome.WRONG
    assert _sign_in(gs, "somsak", PASSWORD, now=now) == Outcome.SLOWED
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.1.1.1", now=now) == Outcome.OK
    wait = login.retry_delay(login.FREE_FAILURES)
    assert _sign_in(gs, "somsak", PASSWORD, now=now + wait) == Outcome.OK


def test_hard_address_limit_triggers_far_above_normal_use(gs):
    with gs.unit_of_work() as ctx:
        World(ctx).user("somsak")
        limit = ctx.config.sessions.address_failure_limit
        assert limit >= 100
        ctx.db.add_all(
            AuditEvent(action="login.failed", target=f"person{n}", ip="10.2.2.2")
            for n in range(limit - 1)
        )
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.2.2.2") == Outcome.OK
    assert _sign_in(gs, "nobody", "wrong password!", ip="10.2.2.2") == Outcome.WRONG
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.2.2.2") == Outcome.THROTTLED
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.3.3.3") == Outcome.OK
    # failures older than the window no longer count
    later = utcnow() + timedelta(minutes=ctx.config.sessions.address_window_minutes, seconds=1)
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.2.2.2", now=later) == Outcome.OK


def test_administrator_lifts_a_lock_and_it_is_audited(gs):
    with gs.unit_of_work() as ctx:
        World(ctx).user("somsak")
    for n in range(LOCK_AFTER):
        _sign_in(gs, "somsak", "wrong password!", ip=f"10.4.0.{n + 1}")
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.4.1.1") == Outcome.LOCKED
    with gs.unit_of_work() as ctx:
        login.unlock_account(
            ctx, OPERATOR, ctx.db.scalar(select(User).filter_by(username="somsak"))
        )
    assert _audited(gs, "login.unlock", "somsak") == 1
    assert _sign_in(gs, "somsak", PASSWORD, ip="10.4.1.1") == Outcome.OK
