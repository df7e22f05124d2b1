"""One loop for every periodic job: run, sleep until the next interval or until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


async def run_every(
    job: Callable[[], Awaitable[object]],
    *,
    interval: float,
    stop: asyncio.Event,
    name: str,
    log: logging.Logger,
    wait_first: bool = False,
) -> None:
    """Run `job` every `interval` seconds until `stop` is set.

    A job that returns True has more waiting (a full batch) and runs again at once. An
    exception is logged and the job runs again at the next interval: a database hiccup must
    not end a worker.
    """
    if wait_first:
        await _pause(stop, interval)
    while not stop.is_set():
        again = False
        try:
            again = (await job()) is True
        except Exception:  # noqa: BLE001 - logged; retried at the next interval
            log.exception("%s failed", name)
        if again:
            await asyncio.sleep(0)
            continue
        await _pause(stop, interval)


async def _pause(stop: asyncio.Event, interval: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=interval)
