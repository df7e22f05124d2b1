"""Limits on guessing query codes at the public tracking endpoint, shared by all workers.

Counted in the database (`hotline.services.counters`), so two workers or two machines
enforce one limit, not one each.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from hotline.services import counters


@dataclass(frozen=True)
class Rule:
    """At most `limit` failed guesses per `seconds`-long window."""

    limit: int
    seconds: int


class Refused(Exception):
    """Too many failed guesses: answer 429 with Retry-After `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class TrackLimiter:
    """Failed query-code guesses, counted per client address and per ticket number.

    What counts is a *failure* (wrong code or no such ticket). Before the code is compared the
    attempt takes a place under the limits (`counters.reserve_all`); a wrong code turns its
    place into a failure, a right code gives it back. Places taken by attempts still under way
    make a newcomer wait a moment, never refuse it, so concurrent right codes from one address
    all get their ticket; and a burst of guesses cannot have more codes compared than the
    limit, since no more places than that are ever handed out.

    - **Per address**: `per_address` rules (10 a minute, 60 an hour). Over them the address
      gets 429 for every ticket, the right code included: answering the right code there would
      tell the guesser it is right. Right codes do not count, so citizens behind one shared
      address (a company NAT, a mobile carrier) are only refused while someone there keeps
      guessing, and for at most the rest of the window (`Retry-After` says how long).
    - **Per ticket number**: every failure counts against the number. Locking the number
      after N failures would let any stranger lock the citizen out of their own ticket, so
      it does not: once a number has `number_hot` failures in the hour it is under attack,
      and then each address may fail on it only `hot_tries` times an hour. An attacker
      spreading guesses over many addresses gets `hot_tries` per address instead of the
      address limit; the citizen, at an address that has not been guessing, still gets their
      ticket with the right code (even after a typo or two).
    """

    def __init__(
        self,
        *,
        per_address: tuple[Rule, ...] = (Rule(10, 60), Rule(60, 3600)),
        number_hot: Rule = Rule(20, 3600),
        hot_tries: int = 3,
        patience: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_address = per_address
        self.number_hot = number_hot
        self.hot_tries = hot_tries
        self.patience = patience
        self.clock = clock

    async def attempt(self, address: str, number: str) -> Attempt:
        """Take a place before the code is checked; raises Refused when failures fill a limit."""
        now = self.clock()
        places = [
            counters.Place(counters.window(SCOPE_ADDRESS, address, rule.seconds, now), rule.limit)
            for rule in self.per_address
        ]
        hot = self.number_hot
        pair = counters.window(SCOPE_PAIR, f"{address}|{number}", hot.seconds, now)
        number_win = counters.window(SCOPE_NUMBER, number, hot.seconds, now)
        under_attack = await counters.hits(number_win) >= hot.limit
        if under_attack:
            places.append(counters.Place(pair, self.hot_tries))
        try:
            taken = await counters.reserve_all(places, patience=self.patience)
        except counters.Full as full:
            raise Refused(_seconds_left(full.place.win, now)) from None
        # Without an attack the pair is counted, not reserved: it only matters once one starts.
        extra = [] if under_attack else [pair]
        return Attempt(taken, [number_win, *extra])


SCOPE_ADDRESS = "addr"
SCOPE_PAIR = "addr-number"
SCOPE_NUMBER = "number"


@dataclass
class Attempt:
    """A place under the limits: `failed` turns it into a failure, `release` gives it back."""

    places: list[counters.Window]
    counted: list[counters.Window]  # counted on failure without a place (the ticket number)
    settled: bool = False

    async def failed(self) -> None:
        """The code was wrong (or the number unknown): a failure of the address and the number."""
        if self.settled:
            return
        self.settled = True
        for win in self.places:
            await counters.fail(win)
        for win in self.counted:
            await counters.hit(win)

    async def release(self) -> None:
        """The code was right, or was never compared: no failure; a no-op after `failed`."""
        if self.settled:
            return
        self.settled = True
        await counters.release(*self.places)


def _seconds_left(win: counters.Window, now: float) -> int:
    return max(1, math.ceil(win.ends - now))
