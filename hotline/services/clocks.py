"""SLA clocks on tickets (filled in with the SLA engine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.deployment import Deployment
from hotline.lifecycle import Action


async def on_action(
    conn: BaseDBAsyncClient,
    *,
    ticket: Any,
    action: Action,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
) -> None:
    """Start, stop, pause or extend the ticket's clocks after an action."""
    if deployment.sla is None:
        return
    await deployment.sla.on_action(conn, ticket=ticket, action=action, payload=payload, now=now)
