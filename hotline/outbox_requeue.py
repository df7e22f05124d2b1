"""Requeueing failed outbox rows (mail and texts share the columns and the status)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.mail.models import MailStatus, as_utc


async def requeue(model: Any, *, now: datetime, row_id: int | None = None) -> int:
    """Put failed rows (one, or all) back in the queue with a fresh count; returns how many."""
    failed = model.filter(status=MailStatus.FAILED)
    if row_id is not None:
        failed = failed.filter(id=row_id)
    return int(
        await failed.update(
            status=MailStatus.PENDING,
            attempts=0,
            next_attempt_at=as_utc(now),
            claimed_until=None,
            claim_token=None,
        )
    )
