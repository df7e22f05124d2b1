"""How much mail is waiting: the figures behind admin health and the supervisors' digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.mail.models import MailStatus, OutboxMail, as_utc
from hotline.mail.templates import MailBacklog

__all__ = ["MailBacklog", "mail_backlog"]


async def mail_backlog(*, now: datetime, using_db: Any = None) -> MailBacklog:
    """Pending and failed counts and the age of the oldest pending mail at `now`."""
    now = as_utc(now)
    pending = OutboxMail.filter(status=MailStatus.PENDING)
    failed = OutboxMail.filter(status=MailStatus.FAILED)
    if using_db is not None:
        pending, failed = pending.using_db(using_db), failed.using_db(using_db)
    oldest = await pending.order_by("created_at").first().values_list("created_at", flat=True)
    age = None
    if oldest is not None:
        age = max(0, int((now - as_utc(oldest)).total_seconds()))
    return MailBacklog(
        pending=await pending.count(), failed=await failed.count(), oldest_pending_age_seconds=age
    )
