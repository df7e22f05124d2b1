"""A shared counter of rule reloads, so every worker follows an admin's 重新加载.

The follower that reloads data/ when the count moves is a background worker
(`hotline.startup.workers.follow_rules`): reloading is start-up's work, above the services.

Kept as one row of `rate_counter` that never expires: no table of its own for one number.
"""

from __future__ import annotations

from hotline.services import counters

# A window that never ends, so housekeeping's purge of ended windows keeps the row.
VERSION = counters.Window("rules-version", 2**62)
FOLLOW_INTERVAL = 5.0


async def bump() -> int:
    """Record that data/ was reloaded; returns the new version."""
    return await counters.hit(VERSION)


async def current() -> int:
    """The number of reloads so far (0: none since the database was made)."""
    return await counters.hits(VERSION)
