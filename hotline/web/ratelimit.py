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

    What counts is a *failure* (wrong code or no such ticket). The decision to refuse is
    taken before the code is compared and the attempt is counted before the answer (then
    taken back if the code was right), so neither concurrency nor the answer leaks a guess
    beyond the limit.

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
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_address = per_address
        self.number_hot = number_hot
        self.hot_tries = hot_tries
        self.clock = clock

    async def attempt(self, address: str, number: str) -> Attempt:
        """Count an attempt before the code is checked; raises Refused when over a limit."""
        now = self.clock()
        taken: list[counters.Window] = []
        for rule in self.per_address:
            win = counters.window("addr", address, rule.seconds, now)
            taken.append(win)
            if await counters.hit(win) > rule.limit:
                await counters.unhit(*taken)  # a refused request is no guess
                raise Refused(_seconds_left(win, now))
        hot = self.number_hot
        pair = counters.window("addr-number", f"{address}|{number}", hot.seconds, now)
        taken.append(pair)
        tried_here = await counters.hit(pair)
        number_win = counters.window("number", number, hot.seconds, now)
        if tried_here > self.hot_tries and await counters.hits(number_win) >= hot.limit:
            await counters.unhit(*taken)
            raise Refused(_seconds_left(pair, now))
        return Attempt(taken, number_win)


@dataclass
class Attempt:
    """A counted attempt: `succeeded` takes it back, `failed` charges the ticket number."""

    windows: list[counters.Window]
    number_window: counters.Window

    async def succeeded(self) -> None:
        """The code was right: it is no failure of the address."""
        await counters.unhit(*self.windows)

    async def failed(self) -> None:
        """The code was wrong (or the number unknown): count it against the number."""
        await counters.hit(self.number_window)


def _seconds_left(win: counters.Window, now: float) -> int:
    return max(1, math.ceil(win.ends - now))
