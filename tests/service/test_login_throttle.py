"""Sign-in limits in the database: failures only, per (account, address) and per address;
the account as a whole only slows down addresses its owner has never used."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.services.login_throttle import LoginThrottle
from hotline.services.users import create_user

# Counters shared by workers live in the database: each backend's upserts and locks.
pytestmark = pytest.mark.backends

PASSWORD = "secret-password"
T0 = 1_800_000_000.0


class Clock:
    """A settable Unix clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _user(name: str = "wang") -> None:
    await create_user(
        username=name, role="operator", password=PASSWORD, now=datetime(2026, 1, 1, tzinfo=UTC)
    )


async def test_failures_across_a_window_edge_still_refuse_the_pair(db: Any) -> None:
    await _user()
    clock = Clock(1_000_000 * 300 - 2)  # two seconds before a window ends
    throttle = LoginThrottle(per_pair=5, window=300, clock=clock)
    for _ in range(3):
        assert (
            await throttle.sign_in(username="wang", password="x", address="10.0.0.1")
        ).principal is None
    clock.now += 4  # the next window
    for _ in range(2):
        out = await throttle.sign_in(username="Wang", password="x", address="10.0.0.1")
        assert out.locked_until is None
    out = await throttle.sign_in(username="WANG", password=PASSWORD, address="10.0.0.1")
    assert out.locked_until == 1_000_001 * 300  # the end of the window the last failures fell in
    clock.now = out.locked_until
    out = await throttle.sign_in(username="wang", password=PASSWORD, address="10.0.0.1")
    assert out.principal is not None and out.principal.username == "wang"


async def test_a_success_forgets_the_users_typos_here_but_not_the_attack_elsewhere(db: Any) -> None:
    await _user()
    throttle = LoginThrottle(per_pair=3, slow_after=3, delay_step=0.01, clock=Clock(T0))
    for _ in range(2):
        await throttle.sign_in(username="wang", password="typo", address="10.0.0.1")
    assert (
        await throttle.sign_in(username="wang", password=PASSWORD, address="10.0.0.1")
    ).principal
    for _ in range(2):  # two more typos here do not reach the pair's limit of 3
        out = await throttle.sign_in(username="wang", password="typo", address="10.0.0.1")
        assert out.locked_until is None
    # The account has 4 failures in all: a new address is slowed, the known one is not.
    new = await throttle.sign_in(username="wang", password=PASSWORD, address="10.0.0.2")
    assert new.principal is not None and new.slowed == 0.02
    known = await throttle.sign_in(username="wang", password=PASSWORD, address="10.0.0.1")
    assert known.principal is not None and known.slowed == 0


async def test_an_address_trying_many_accounts_is_refused_except_for_accounts_used_there(
    db: Any,
) -> None:
    await _user("wang")
    await _user("li")
    throttle = LoginThrottle(per_address=3, clock=Clock(T0))
    assert (await throttle.sign_in(username="li", password=PASSWORD, address="10.9.9.9")).principal
    for name in ("a", "b", "c"):
        out = await throttle.sign_in(username=name, password="x", address="10.9.9.9")
        assert out.principal is None and out.locked_until is None
    assert (
        await throttle.sign_in(username="wang", password=PASSWORD, address="10.9.9.9")
    ).locked_until
    assert (await throttle.sign_in(username="li", password=PASSWORD, address="10.9.9.9")).principal
    assert (
        await throttle.sign_in(username="wang", password=PASSWORD, address="10.9.9.8")
    ).principal


async def test_parallel_guesses_get_no_more_checks_than_the_limit(db: Any) -> None:
    """Twenty wrong passwords at once: five are checked, the rest refused unchecked."""
    await _user()
    throttle = LoginThrottle(per_pair=5, per_address=100, clock=Clock(T0))
    answers = await asyncio.gather(
        *(
            throttle.sign_in(username="wang", password=f"g{i}", address="10.1.0.1")
            for i in range(20)
        )
    )
    assert sum(a.locked_until is None for a in answers) == 5
    assert sum(a.locked_until is not None for a in answers) == 15


async def test_a_burst_hiding_the_right_password_checks_no_more_than_the_limit(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No more than 5 wrong passwords are checked before the right one. Once the right one has
    signed in, its pair's typos are forgiven (see below), so later wrong guesses of the burst
    may be checked again: they can learn nothing the right password did not already give, so
    what is counted is the checks before it (the order the checks really ran in)."""
    import hotline.services.login_throttle as module

    checked: list[str] = []
    real_check = module.principal_for_password

    async def recording(username: str, password: str) -> Any:
        checked.append(password)
        return await real_check(username, password)

    monkeypatch.setattr(module, "principal_for_password", recording)
    await _user()
    throttle = LoginThrottle(per_pair=5, per_address=100, clock=Clock(T0))
    tries = [f"g{i}" for i in range(20)]
    tries.insert(13, PASSWORD)
    answers = await asyncio.gather(
        *(throttle.sign_in(username="wang", password=p, address="10.1.0.2") for p in tries)
    )
    before_right = checked[: checked.index(PASSWORD)] if PASSWORD in checked else checked
    assert len(before_right) <= 5
    if PASSWORD not in checked:  # the right one came after the limit: refused, never checked
        assert len(checked) == 5
    right = answers[13]
    assert (right.principal is None) == (right.locked_until is not None)


async def test_concurrent_right_passwords_never_refused(db: Any) -> None:
    await _user()
    throttle = LoginThrottle(per_pair=2, per_address=2, clock=Clock(T0))
    answers = await asyncio.gather(
        *(
            throttle.sign_in(username="wang", password=PASSWORD, address="10.1.0.3")
            for _ in range(12)
        )
    )
    assert all(a.principal is not None for a in answers)


def test_the_account_wide_count_only_slows_and_the_delay_is_capped() -> None:
    throttle = LoginThrottle(slow_after=5, delay_step=1.0, delay_cap=5.0)
    assert [throttle.delay_for(n) for n in (0, 4, 5, 6, 7, 8, 50)] == [0, 0, 1, 2, 4, 5, 5]


async def test_a_known_address_is_forgotten_after_known_days(db: Any) -> None:
    await _user()
    clock = Clock(T0)
    throttle = LoginThrottle(known_days=90, secret="k", clock=clock)
    assert (
        await throttle.sign_in(username="wang", password=PASSWORD, address="10.2.0.1")
    ).principal
    assert await throttle.is_known("wang", "10.2.0.1")
    assert not await throttle.is_known("wang", "10.2.0.2")
    clock.now += 91 * 86400
    assert not await throttle.is_known("wang", "10.2.0.1")
    # The stored form is a keyed digest, not the address.
    assert throttle.digest("10.2.0.1") != LoginThrottle(secret="other").digest("10.2.0.1")


async def test_housekeeping_drops_addresses_unused_for_known_days(db: Any) -> None:
    from hotline.domain.models import LoginKnownAddress
    from hotline.services.login_throttle import forget_old_addresses

    await _user()
    clock = Clock(T0)
    throttle = LoginThrottle(clock=clock)
    await throttle.sign_in(username="wang", password=PASSWORD, address="10.3.0.1")
    clock.now += 30 * 86400
    await throttle.sign_in(username="wang", password=PASSWORD, address="10.3.0.2")
    later = datetime.fromtimestamp(T0 + 100 * 86400, UTC)  # 100 and 70 days after
    assert await forget_old_addresses(now=later) == 1
    assert await LoginKnownAddress.all().count() == 1
    assert await throttle.is_known("wang", "10.3.0.2")
