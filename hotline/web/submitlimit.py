"""How many tickets one address and one phone number may open through the web form.

Counted in the database (`hotline.services.counters`), so every worker enforces one limit.
Only submissions about to create a ticket count: a form refused for a typo costs nothing,
and a creation that fails takes its hit back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from hotline.services import counters
from hotline.services.ratelimit import Refused, Rule


@dataclass
class Taken:
    """Hits counted for one submission; `give_back` when no ticket came of it."""

    windows: list[counters.Window]

    async def give_back(self) -> None:
        """Take the hits back (the ticket was not created)."""
        await counters.unhit(*self.windows)


PER_ADDRESS = Rule(10, 3600)
PER_PHONE = Rule(5, 86400)


class SubmitLimiter:
    """Per client address 10 tickets an hour, per phone number 5 a day (by default)."""

    def __init__(
        self,
        *,
        per_address: Rule = PER_ADDRESS,
        per_phone: Rule = PER_PHONE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_address = per_address
        self.per_phone = per_phone
        self.clock = clock

    async def take(self, *, address: str, phone: str) -> Taken:
        """Count one submission; raises Refused (nothing counted) when over a limit."""
        now = self.clock()
        checks = [("web-addr", address, self.per_address)]
        if phone:
            checks.append(("web-phone", phone, self.per_phone))
        taken: list[counters.Window] = []
        for scope, ident, rule in checks:
            win = counters.window(scope, ident, rule.seconds, now)
            taken.append(win)
            if await counters.hit(win) > rule.limit:
                await counters.unhit(*taken)
                raise Refused(max(1, math.ceil(win.ends - now)))
        return Taken(taken)
