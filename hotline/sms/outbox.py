"""The one place that builds SMS outbox rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.mail.models import as_utc
from hotline.sms.models import OutboxSms, SmsStatus


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
) -> OutboxSms:
    """A pending text message row, not yet saved."""
    created = as_utc(now)
    return OutboxSms(
        dedupe_key=dedupe_key,
        phone=phone,
        template=template,
        params=dict(params),
        body=body,
        status=SmsStatus.PENDING,
        attempts=0,
        next_attempt_at=created,
        created_at=created,
        ticket_number=ticket_number,
        reason=reason,
    )


async def enqueue_sms(*, using_db: Any = None, **fields: Any) -> OutboxSms:
    """Write a pending row; pass the ticket's transaction as using_db so both commit together."""
    row = new_sms(**fields)
    await row.save(using_db=using_db)
    return row
