"""Password sign-in with limits that stop guessers without locking out the right person.

Failures are counted in the database (`hotline.services.counters`), shared by every worker
and machine, in windows of `window` seconds where the previous window counts too (a refusal
lasts between one and two windows):

- per (account, address): `per_pair` failures, then that address is refused for that account;
- per address: `per_address` failures over any accounts, then the address is refused — but
  not for an account that has signed in successfully from it before (a call centre behind
  one NAT keeps working while one of its PCs guesses);
- per account, everywhere: never a refusal, which would let anyone who knows a user name
  keep its owner out; from `slow_after` failures on, sign-in from an address the user has
  never used is slowed down (1, 2, 4 … seconds, at most `delay_cap`).

A right password is never refused because of other right passwords: an attempt takes a place
under the limits before the password is checked and gives it back when it was right
(`counters.reserve_all`). "Known" addresses are kept per user as an HMAC digest
(`LoginKnownAddress`), for `known_days` after the last successful sign-in from them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from hotline.domain.auth import Principal
from hotline.domain.models import LoginKnownAddress, RateCounter
from hotline.services import counters
from hotline.services.users import principal_for_password

SCOPE_PAIR = "login-pair"
SCOPE_ADDRESS = "login-addr"
SCOPE_ACCOUNT = "login-user"
KNOWN_DAYS = 90


@dataclass(frozen=True)
class SignIn:
    """The outcome: a principal (right password), or `locked_until` (Unix time), or neither."""

    principal: Principal | None = None
    locked_until: float | None = None
    slowed: float = 0.0  # seconds the attempt was held back before the check


class LoginThrottle:
    """Checks passwords under per-(account, address), per-address and per-account limits."""

    def __init__(
        self,
        *,
        per_pair: int = 5,
        per_address: int = 20,
        slow_after: int = 5,
        window: int = 300,
        delay_step: float = 1.0,
        delay_cap: float = 5.0,
        known_days: int = KNOWN_DAYS,
        patience: float = 20.0,
        secret: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_pair = per_pair
        self.per_address = per_address
        self.slow_after = slow_after
        self.window = window
        self.delay_step = delay_step
        self.delay_cap = delay_cap
        self.known_days = known_days
        self.patience = patience
        self.secret = secret.encode()
        self.clock = clock

    # ---- the sign-in --------------------------------------------------------------------

    async def sign_in(self, *, username: str, password: str, address: str) -> SignIn:
        """Check `password` for `username` from `address`, within the limits."""
        known = await self.is_known(username, address)
        slowed = 0.0 if known else self.delay_for(await self.failures(SCOPE_ACCOUNT, username))
        if slowed:
            # Before any place is taken: a slowed attempt holds nobody else up.
            await asyncio.sleep(slowed)
        now = self.clock()
        places = [self._place(SCOPE_PAIR, self._pair(username, address), self.per_pair, now)]
        if not known:
            places.append(self._place(SCOPE_ADDRESS, address, self.per_address, now))
        try:
            taken = await counters.reserve_all(places, patience=self.patience)
        except counters.Full as full:
            return SignIn(locked_until=await self._until(full.place, now), slowed=slowed)
        settled = False
        try:
            principal = await principal_for_password(username, password)
            if principal is None:
                for win in taken:
                    await counters.fail(win)
                settled = True
                await counters.hit(self._window(SCOPE_ACCOUNT, username.lower(), now))
                if known:  # still an address's failure, for the accounts it has not used
                    await counters.hit(self._window(SCOPE_ADDRESS, address, now))
                return SignIn(slowed=slowed)
            await counters.release(*taken)
            settled = True
            await self._remember(principal.user_id, address)
            # The user's own typos here are forgiven; failures elsewhere (someone else's) stay.
            await self._forget(SCOPE_PAIR, self._pair(username, address), now)
            return SignIn(principal=principal, slowed=slowed)
        finally:
            if not settled:  # the check itself broke: no failure, give the places back
                await counters.release(*taken)

    def delay_for(self, account_failures: int) -> float:
        """How long an attempt from an unknown address waits, by the account's failures."""
        if account_failures < self.slow_after:
            return 0.0
        return min(self.delay_cap, self.delay_step * 2 ** (account_failures - self.slow_after))

    # ---- counting -------------------------------------------------------------------------

    @staticmethod
    def _pair(username: str, address: str) -> str:
        return f"{username.lower()}|{address}"

    def _window(self, scope: str, ident: str, now: float) -> counters.Window:
        return counters.window(scope, ident, self.window, now)

    def _place(self, scope: str, ident: str, limit: int, now: float) -> counters.Place:
        current = self._window(scope, ident, now)
        return counters.Place(current, limit, self._window(scope, ident, now - self.window))

    async def failures(self, scope: str, ident: str) -> int:
        """Failures of `scope`/`ident` in the current and the previous window."""
        now = self.clock()
        ident = ident.lower() if scope == SCOPE_ACCOUNT else ident
        windows = (self._window(scope, ident, t) for t in (now, now - self.window))
        return sum([await counters.hits(w) for w in windows])

    async def _until(self, place: counters.Place, now: float) -> float:
        """When the failures that fill `place` fall below its limit (windows expire)."""
        current = place.win
        if await counters.hits(current) >= place.limit:
            return float(current.ends + self.window)  # this window alone is full
        return float(current.ends)  # with the previous one: full until this one ends

    async def _forget(self, scope: str, ident: str, now: float) -> None:
        keys = [self._window(scope, ident, t).key for t in (now, now - self.window)]
        # Failures only: places other attempts hold right now stay theirs.
        await RateCounter.filter(key__in=keys).update(hits=0)

    # ---- addresses a user has signed in from ------------------------------------------------

    def digest(self, address: str) -> str:
        """The stored form of an address: an HMAC, so the table is no list of addresses."""
        return hmac.new(self.secret, address.encode(), hashlib.sha256).hexdigest()

    async def is_known(self, username: str, address: str) -> bool:
        """Whether `username` signed in successfully from `address` within `known_days`."""
        since = self._now() - timedelta(days=self.known_days)
        return await LoginKnownAddress.exists(
            user__username=username,
            address_digest=self.digest(address),
            last_success_at__gte=since,
        )

    async def _remember(self, user_id: int, address: str) -> None:
        digest, now = self.digest(address), self._now()
        if await LoginKnownAddress.filter(user_id=user_id, address_digest=digest).update(
            last_success_at=now
        ):
            return
        try:
            await LoginKnownAddress.create(
                user_id=user_id, address_digest=digest, last_success_at=now
            )
        except IntegrityError:  # a second sign-in from here at the same moment wrote it first
            pass

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


async def forget_old_addresses(*, now: datetime, known_days: int = KNOWN_DAYS) -> int:
    """Drop known addresses unused for `known_days` (housekeeping); returns how many."""
    cutoff = now - timedelta(days=known_days)
    return await LoginKnownAddress.filter(last_success_at__lt=cutoff).delete()


def retry_after(until: float, now: float) -> int:
    """Seconds from `now` to `until`, at least 1 (for a Retry-After header)."""
    return max(1, math.ceil(until - now))
