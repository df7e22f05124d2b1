"""Background workers: the SLA sweeper and the mail sender, in-process or standalone."""

from __future__ import annotations

import asyncio

from hotline.config import Settings
from hotline.deployment import Deployment
from hotline.mail.sender import run_sender
from hotline.services.sweeper import run_sweeper


def start_background(
    *, settings: Settings, deployment: Deployment, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """Start the sweeper and the mail sender as tasks that end when `stop` is set."""
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
    ]
