"""How much waits in the outbox: the figures behind admin health, the digest and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.outbox.models import OutboxMessage, OutboxStatus, as_utc

# Younger than this is just the sender's normal delay, not worth a supervisor's notice.
BACKLOG_NOTICE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Backlog:
    """Messages of one transport not yet delivered."""

    pending: int = 0
    failed: int = 0
    oldest_pending_age_seconds: int | None = None

    @property
    def waiting(self) -> bool:
        """True when messages have waited long enough, or failed, for a person to look."""
        age = self.oldest_pending_age_seconds
        return self.failed > 0 or (age is not None and age >= BACKLOG_NOTICE_SECONDS)

    @property
    def oldest_text(self) -> str:
        """The oldest pending message's wait for people: "3天4小时", "2小时15分", "12分钟"."""
        age = self.oldest_pending_age_seconds or 0
        days, rest = divmod(age, 86400)
        hours, minutes = rest // 3600, (rest % 3600) // 60
        if days:
            return f"{days}天{hours}小时"
        return f"{hours}小时{minutes}分" if hours else f"{minutes}分钟"


async def backlog(transport: str, *, now: datetime, using_db: Any = None) -> Backlog:
    """Pending and failed counts and the age of the oldest pending row at `now`."""
    now = as_utc(now)
    pending = OutboxMessage.filter(transport=transport, status=OutboxStatus.PENDING.value)
    failed = OutboxMessage.filter(transport=transport, status=OutboxStatus.FAILED.value)
    if using_db is not None:
        pending, failed = pending.using_db(using_db), failed.using_db(using_db)
    oldest = await pending.order_by("created_at").first().values_list("created_at", flat=True)
    age = None if oldest is None else max(0, int((now - as_utc(oldest)).total_seconds()))
    return Backlog(
        pending=await pending.count(), failed=await failed.count(), oldest_pending_age_seconds=age
    )
