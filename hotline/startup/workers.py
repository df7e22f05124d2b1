"""Background workers: the SLA sweeper, the outbox senders, housekeeping and the follower of
rule reloads, in-process or standalone, each on the one periodic loop (hotline.runtime.periodic)."""

from __future__ import annotations

import asyncio
import logging
import time

from hotline.outbox.registry import ADAPTERS, build
from hotline.outbox.sender import run_sender
from hotline.runtime.config import Settings
from hotline.runtime.deployment import Deployment
from hotline.runtime.periodic import run_every
from hotline.services import rules_version
from hotline.services.sweeper import run_sweeper
from hotline.startup.bootstrap import ConfigError, reload_rules

# Seconds between outbox rounds (a full batch goes again at once).
SEND_INTERVAL = 30.0
HOUSEKEEPING_INTERVAL = 3600.0
# The radar reads and segments the last scan_hours of tickets: every 5 minutes is soon enough
# for a burst measured in hours.
RADAR_INTERVAL = 300.0
log = logging.getLogger("hotline.startup.workers")
rules_log = logging.getLogger("hotline.rules")


def start_background(
    *, settings: Settings, deployment: Deployment, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """Start the sweeper, one sender per transport and housekeeping; they end when `stop` is set."""
    tasks = [
        asyncio.create_task(
            run_sweeper(
                interval=settings.sweep_interval,
                stop=stop,
                link_base=deployment.public_base_url,
                digest_hour=settings.digest_hour,
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
        asyncio.create_task(
            run_every(
                lambda: radar_pass(deployment),
                interval=RADAR_INTERVAL,
                stop=stop,
                name="radar pass",
                log=log,
            ),
            name="radar",
        ),
    ]
    return tasks


async def radar_pass(deployment: Deployment) -> list[str]:
    """One look of the hot-issue radar: refresh the stored default window, then alert each
    new burst among the recent tickets once."""
    from hotline.domain.radar import load_radar_config
    from hotline.domain.timefmt import utcnow
    from hotline.services.radar import radar_sweep
    from hotline.services.radar_snapshot import owner_name, refresh_snapshot

    router = deployment.router
    config = load_radar_config(deployment.data_dir)  # read each pass: edits apply at once
    gazetteer = router.routing.gazetteer if router is not None else None
    now = utcnow()
    # The page's default window, stored for every web process (one sweeper computes it);
    # the alert scan's recent hours are a part of it, so they are not read twice.
    around = await refresh_snapshot(
        now=now, config=config, gazetteer=gazetteer, owner=owner_name()
    )
    return await radar_sweep(
        now=now,
        config=config,
        gazetteer=gazetteer,
        link_base=deployment.public_base_url,
        around=around,
    )


async def housekeeping(*, settings: Settings) -> int:
    """One pass: anonymise tickets past RETENTION_DAYS, drop ended rate-limit windows and
    page sessions that ended more than a day ago and WeChat nonces whose timestamps have left
    the window."""
    from hotline.domain.timefmt import utcnow
    from hotline.services import counters, web_sessions, wechat_nonces
    from hotline.services.login_throttle import forget_old_addresses
    from hotline.services.retention import anonymise_due

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


async def follow_rules(
    deployment: Deployment, *, stop: asyncio.Event, interval: float = rules_version.FOLLOW_INTERVAL
) -> None:
    """Reload data/ in this process whenever another process has reloaded it, until `stop`."""
    # This process loaded data/ just now: it is as new as the database's count says.
    deployment.extras["rules_version"] = await rules_version.current()

    async def check() -> None:
        version = await rules_version.current()
        if version == deployment.extras["rules_version"]:
            return
        # Taken first: a file broken since the reload is reported once, not every pass.
        deployment.extras["rules_version"] = version
        try:
            await reload_rules(deployment)
        except ConfigError as exc:
            rules_log.error(
                "rules reload requested by another process failed, old rules kept: %s", exc
            )
            return
        rules_log.info("rules reloaded after another process's reload (version %d)", version)

    await run_every(
        check,
        interval=interval,
        stop=stop,
        name="checking the rules version",
        log=rules_log,
        wait_first=True,
    )
