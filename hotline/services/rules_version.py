"""A shared counter of rule reloads, so every worker follows an admin's 重新加载.

Kept as one row of `rate_counter` that never expires: no table of its own for one number.
"""

from __future__ import annotations

import asyncio
import logging

from hotline.runtime.deployment import Deployment
from hotline.runtime.periodic import run_every
from hotline.services import counters

# A window that never ends, so housekeeping's purge of ended windows keeps the row.
VERSION = counters.Window("rules-version", 2**62)
FOLLOW_INTERVAL = 5.0

log = logging.getLogger("hotline.rules")


async def bump() -> int:
    """Record that data/ was reloaded; returns the new version."""
    return await counters.hit(VERSION)


async def current() -> int:
    """The number of reloads so far (0: none since the database was made)."""
    return await counters.hits(VERSION)


async def follow_rules(
    deployment: Deployment, *, stop: asyncio.Event, interval: float = FOLLOW_INTERVAL
) -> None:
    """Reload data/ in this process whenever another process has reloaded it, until `stop`."""
    from hotline.runtime.bootstrap import ConfigError, reload_rules

    # This process loaded data/ just now: it is as new as the database's count says.
    deployment.extras["rules_version"] = await current()

    async def check() -> None:
        version = await current()
        if version == deployment.extras["rules_version"]:
            return
        # Taken first: a file broken since the reload is reported once, not every pass.
        deployment.extras["rules_version"] = version
        try:
            await reload_rules(deployment)
        except ConfigError as exc:
            log.error("rules reload requested by another process failed, old rules kept: %s", exc)
            return
        log.info("rules reloaded after another process's reload (version %d)", version)

    await run_every(
        check,
        interval=interval,
        stop=stop,
        name="checking the rules version",
        log=log,
        wait_first=True,
    )
