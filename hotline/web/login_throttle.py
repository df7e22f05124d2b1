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

    async def blocked_until(self, *, username: str, address: str) -> float | None:
        """When (Unix time) the next attempt may be made, or None when it may be made now."""
        now = self.clock()
        until = None
        for scope, ident, limit in self._keys(username, address):
            current, previous = self._windows(scope, ident, now)
            now_hits = await counters.hits(current)
            if now_hits >= limit:
                candidate = float(current.ends + self.window)
            elif now_hits + await counters.hits(previous) >= limit:
                candidate = float(current.ends)
            else:
                continue
            until = max(until or 0.0, candidate)
        return until

    async def failed(self, *, username: str, address: str) -> None:
        """Count one failed attempt against the account and the address."""
        now = self.clock()
        for scope, ident, _ in self._keys(username, address):
            await counters.hit(counters.window(scope, ident, self.window, now))

    async def succeeded(self, *, username: str) -> None:
        """Forget an account's failures once it signs in."""
        windows = self._windows("login-user", username.lower(), self.clock())
        await RateCounter.filter(key__in=[w.key for w in windows]).delete()
