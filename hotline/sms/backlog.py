"""How many text messages wait or failed: the figures behind the admin page and the CLI."""

from __future__ import annotations

from datetime import datetime

from hotline.mail.models import as_utc
from hotline.mail.templates import MailBacklog
from hotline.sms.models import OutboxSms, SmsStatus


async def sms_backlog(*, now: datetime) -> MailBacklog:
    """Pending and failed counts and the age of the oldest pending message at `now`."""
    now = as_utc(now)
    pending = OutboxSms.filter(status=SmsStatus.PENDING)
    oldest = await pending.order_by("created_at").first().values_list("created_at", flat=True)
    age = None if oldest is None else max(0, int((now - as_utc(oldest)).total_seconds()))
    return MailBacklog(
        pending=await pending.count(),
        failed=await OutboxSms.filter(status=SmsStatus.FAILED).count(),
        oldest_pending_age_seconds=age,
    )
