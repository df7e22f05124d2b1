"""Background workers: the SLA sweeper, the mail and SMS senders, in-process or standalone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from hotline.config import Settings
from hotline.deployment import Deployment
from hotline.mail.sender import run_sender
from hotline.services.sweeper import run_sweeper
from hotline.sms.gateways import gateway_for
from hotline.sms.sender import run_sms_sender


def start_background(
    *, settings: Settings, deployment: Deployment, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """Start the sweeper and the mail and SMS senders as tasks that end when `stop` is set."""
    return [
        asyncio.create_task(
            run_sweeper(
                interval=settings.sweep_interval, stop=stop, link_base=deployment.public_base_url
            ),
            name="sla-sweeper",
        ),
        asyncio.create_task(
            run_sender(settings=settings.smtp, interval=30.0, stop_event=stop),
            name="mail-sender",
        ),
        asyncio.create_task(
            run_sms_sender(
                gateway=gateway_for(settings.sms, deployment.sms), interval=30.0, stop_event=stop
            ),
            name="sms-sender",
        ),
        asyncio.create_task(
            run_housekeeping(settings=settings, interval=HOUSEKEEPING_INTERVAL, stop=stop),
            name="housekeeping",
        ),
    ]


HOUSEKEEPING_INTERVAL = 3600.0
log = logging.getLogger("hotline.workers")


async def housekeeping(*, settings: Settings) -> int:
    """One pass: anonymise tickets past RETENTION_DAYS, drop ended rate-limit windows and
    page sessions that ended more than a day ago and WeChat nonces whose timestamps have left
    the window."""
    from hotline.services import counters, web_sessions, wechat_nonces
    from hotline.services.retention import anonymise_due
    from hotline.timefmt import utcnow
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


async def run_housekeeping(*, settings: Settings, interval: float, stop: asyncio.Event) -> None:
    """Run `housekeeping` now and then every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await housekeeping(settings=settings)
        except Exception:  # noqa: BLE001 - a failed pass is retried at the next interval
            log.exception("housekeeping pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
