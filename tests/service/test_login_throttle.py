"""Sign-in throttling: counted in the database, forgiving nothing at a window's edge."""

from __future__ import annotations

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
        await throttle.failed(username="Op", address="10.0.0.1")
    clock.now += 4  # the next window
    for _ in range(2):
        await throttle.failed(username="op", address="10.0.0.2")
    until = await throttle.blocked_until(username="OP", address="10.0.0.3")
    assert until == 1_000_001 * 300  # the end of the window the last failures fell in
    clock.now = until
    assert await throttle.blocked_until(username="op", address="10.0.0.3") is None


async def test_a_successful_sign_in_forgets_the_accounts_failures(db: Any) -> None:
    throttle = LoginThrottle(per_account=2, per_address=10, clock=Clock(1_800_000_000))
    await throttle.failed(username="wang", address="10.0.0.1")
    await throttle.succeeded(username="wang")
    await throttle.failed(username="wang", address="10.0.0.1")
    assert await throttle.blocked_until(username="wang", address="10.0.0.1") is None
    await throttle.failed(username="wang", address="10.0.0.1")
    assert await throttle.blocked_until(username="wang", address="10.0.0.1") is not None


async def test_an_address_trying_many_accounts_is_locked_for_all(db: Any) -> None:
    throttle = LoginThrottle(per_account=5, per_address=3, clock=Clock(1_800_000_000))
    for name in ("a", "b", "c"):
        await throttle.failed(username=name, address="10.9.9.9")
    assert await throttle.blocked_until(username="d", address="10.9.9.9") is not None
    assert await throttle.blocked_until(username="d", address="10.9.9.8") is None
