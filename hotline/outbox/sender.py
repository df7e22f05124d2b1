"""The senders: one loop per transport, started with the web process or on their own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from hotline.domain.timefmt import utcnow
from hotline.outbox.delivery import deliver_due
from hotline.outbox.transport import Transport
from hotline.runtime.periodic import run_every


async def run_sender(
    transport: Transport,
    *,
    interval: float,
    stop: asyncio.Event,
    clock: Callable[[], datetime] = utcnow,
    batch: int = 50,
) -> None:
    """Deliver `transport`'s due rows every `interval` seconds until `stop` is set."""
    log = logging.getLogger(f"hotline.{transport.name}")
    if not transport.enabled:
        log.warning("%s transport is not configured: messages stay in the outbox", transport.name)

    async def round_() -> bool:
        if not transport.enabled:
            return False
        report = await deliver_due(transport, now=clock(), batch=batch)
        return report.more_waiting(batch)

    try:
        await run_every(
            round_, interval=interval, stop=stop, name=f"{transport.name} sender round", log=log
        )
    finally:
        await transport.close()
