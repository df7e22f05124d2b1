"""Background workers: the SLA sweeper, the outbox senders and housekeeping, in-process or
standalone, each on the one periodic loop (hotline.runtime.periodic)."""

from __future__ import annotations

import asyncio
import logging
import time

from hotline.outbox.registry import ADAPTERS, build
from hotline.outbox.sender import run_sender
from hotline.runtime.config import Settings
from hotline.runtime.deployment import Deployment
from hotline.runtime.periodic import run_every
from hotline.services.sweeper import run_sweeper

# Seconds between outbox rounds (a full batch goes again at once).
SEND_INTERVAL = 30.0
HOUSEKEEPING_INTERVAL = 3600.0
log = logging.getLogger("hotline.runtime.workers")


def start_background(
    *, settings: Settings, deployment: Deployment, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """Start the sweeper, one sender per transport and housekeeping; they end when `stop` is set."""
    tasks = [
        asyncio.create_task(
            run_sweeper(
                interval=settings.sweep_interval, stop=stop, link_base=deployment.public_base_url
            ),
            name="sla-sweeper",
        ),
        *(
            asyncio.create_task(
                run_sender(build(name, settings, deployment), interval=SEND_INTERVAL, stop=stop),
                name=f"{name}-sender",
            )
            for name in ADAPTERS
        ),
        asyncio.create_task(
            run_every(
                lambda: housekeeping(settings=settings),
                interval=HOUSEKEEPING_INTERVAL,
                stop=stop,
                name="housekeeping pass",
                log=log,
            ),
            name="housekeeping",
        ),
    ]
    return tasks


async def housekeeping(*, settings: Settings) -> int:
    """One pass: anonymise tickets past RETENTION_DAYS, drop ended rate-limit windows and
    page sessions that ended more than a day ago and WeChat nonces whose timestamps have left
    the window."""
    from hotline.domain.timefmt import utcnow
    from hotline.services import counters, web_sessions, wechat_nonces
    from hotline.services.retention import anonymise_due
    from hotline.web.login_throttle import forget_old_addresses

    count = await anonymise_due(
        now=utcnow(), retention_days=settings.retention_days, upload_dir=settings.upload_dir
    )
    if count:
        log.info("已对 %d 张办结超过 %d 天的工单脱敏", count, settings.retention_days)
    await counters.purge(time.time())
    policy = web_sessions.policy_for(
        idle_minutes=settings.session_idle_minutes, max_hours=settings.session_max_hours
    )
    await web_sessions.prune(now=utcnow(), policy=policy)
    await wechat_nonces.purge(utcnow())
    await forget_old_addresses(now=utcnow())  # sign-in addresses unused for 90 days
    return count
