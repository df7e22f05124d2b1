"""Sign-in throttling: counted in the database before the password is checked."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.web.login_throttle import LoginThrottle


class Clock:
    """A settable Unix clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_failures_across_a_window_edge_still_lock_the_account(db: Any) -> None:
    clock = Clock(1_000_000 * 300 - 2)  # two seconds before a window ends
    throttle = LoginThrottle(per_account=5, window=300, clock=clock)
    for _ in range(3):
        assert await throttle.attempt(username="Op", address="10.0.0.1") is None
    clock.now += 4  # the next window
    for _ in range(2):
        assert await throttle.attempt(username="op", address="10.0.0.2") is None
    until = await throttle.attempt(username="OP", address="10.0.0.3")
    assert until == 1_000_001 * 300  # the end of the window the last failures fell in
    clock.now = until
    assert await throttle.attempt(username="op", address="10.0.0.3") is None


async def test_a_successful_sign_in_forgets_the_accounts_failures(db: Any) -> None:
    throttle = LoginThrottle(per_account=2, per_address=10, clock=Clock(1_800_000_000))
    assert await throttle.attempt(username="wang", address="10.0.0.1") is None
    assert await throttle.attempt(username="wang", address="10.0.0.1") is None
    await throttle.succeeded(username="wang", address="10.0.0.1")
    assert await throttle.attempt(username="wang", address="10.0.0.1") is None
    assert await throttle.attempt(username="wang", address="10.0.0.1") is None
    assert await throttle.attempt(username="wang", address="10.0.0.1") is not None


async def test_an_address_trying_many_accounts_is_locked_for_all(db: Any) -> None:
    throttle = LoginThrottle(per_account=5, per_address=3, clock=Clock(1_800_000_000))
    for name in ("a", "b", "c"):
        assert await throttle.attempt(username=name, address="10.9.9.9") is None
    assert await throttle.attempt(username="d", address="10.9.9.9") is not None
    assert await throttle.attempt(username="d", address="10.9.9.8") is None


async def test_parallel_guesses_get_no_more_than_the_limit(db: Any) -> None:
    """Twenty guesses at once: five go ahead, the rest are refused before any is checked."""
    throttle = LoginThrottle(per_account=5, per_address=100, clock=Clock(1_800_000_000))
    answers = await asyncio.gather(
        *(throttle.attempt(username="wang", address=f"10.1.0.{i}") for i in range(20))
    )
    assert sum(a is None for a in answers) == 5
