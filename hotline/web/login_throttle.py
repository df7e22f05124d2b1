"""Failed sign-ins per account and per client address, counted in the database.

Shared by every web worker and machine (`hotline.services.counters`), so N workers do not
give a password guesser N times the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hotline.models import RateCounter
from hotline.services import counters


class LoginThrottle:
    """At most `per_account` failures an account and `per_address` an address per window.

    Counted in fixed windows; the previous window counts too, so failures straddling a
    window's end are not forgiven (a lock lasts between one and two windows).
    """

    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window
        self.clock = clock

    def _keys(self, username: str, address: str) -> tuple[tuple[str, str, int], ...]:
        return (
            ("login-user", username.lower(), self.per_account),
            ("login-addr", address, self.per_address),
        )

    def _windows(self, scope: str, ident: str, now: float) -> tuple[counters.Window, ...]:
        current = counters.window(scope, ident, self.window, now)
        previous = counters.window(scope, ident, self.window, now - self.window)
        return current, previous

    async def attempt(self, *, username: str, address: str) -> float | None:
        """Count a sign-in attempt before the password is checked.

        Returns None when it may go ahead, else when (Unix time) the next may be made; a
        refused attempt is not counted. Counting first means parallel requests cannot all
        pass a check made before any of them failed.
        """
        now = self.clock()
        taken: list[counters.Window] = []
        until = None
        for scope, ident, limit in self._keys(username, address):
            current, previous = self._windows(scope, ident, now)
            taken.append(current)
            hits = await counters.hit(current)  # this attempt included
            if hits > limit:
                candidate = float(current.ends + self.window)
            elif hits + await counters.hits(previous) > limit:
                candidate = float(current.ends)
            else:
                continue
            until = max(until or 0.0, candidate)
        if until is not None:
            await counters.unhit(*taken)
        return until

    async def succeeded(self, *, username: str, address: str) -> None:
        """The password was right: forget the account's failures, and this attempt's."""
        now = self.clock()
        windows = self._windows("login-user", username.lower(), now)
        await RateCounter.filter(key__in=[w.key for w in windows]).delete()
        await counters.unhit(counters.window("login-addr", address, self.window, now))
