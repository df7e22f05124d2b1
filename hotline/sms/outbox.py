"""The one place that builds text-message rows for the outbox (transport "sms")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.outbox.models import OutboxMessage, new_message


def new_sms(
    *,
    dedupe_key: str,
    phone: str,
    template: str,
    params: Mapping[str, str],
    body: str,
    ticket_number: str | None,
    reason: str,
    now: datetime,
) -> OutboxMessage:
    """A pending text message row, not yet saved."""
    return new_message(
        transport="sms",
        dedupe_key=dedupe_key,
        recipients=[phone],
        template=template,
        params=dict(params),
        body=body,
        ticket_number=ticket_number,
        reason=reason,
        now=now,
    )


async def enqueue_sms(*, using_db: Any = None, **fields: Any) -> OutboxMessage:
    """Write a pending row; pass the ticket's transaction as using_db so both commit together."""
    row = new_sms(**fields)
    await row.save(using_db=using_db)
    return row
