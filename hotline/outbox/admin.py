"""What admins see of the outbox and do with it, the same for every transport."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hotline.domain.timefmt import local_iso
from hotline.outbox.backlog import Backlog, backlog
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.outbox.registry import view
from hotline.outbox.transport import TransportView

if TYPE_CHECKING:
    from hotline.runtime.config import Settings


@dataclass(frozen=True)
class Listing:
    """One transport's counts by status and its newest rows (or those of one status)."""

    transport: str
    counts: dict[str, int]
    rows: list[OutboxMessage]

    def as_json(self) -> dict[str, Any]:
        """{counts, items} as the admin API answers it."""
        own = view(self.transport).row_json
        return {"counts": self.counts, "items": [{**row_json(r), **own(r)} for r in self.rows]}


def row_json(row: OutboxMessage) -> dict[str, Any]:
    """What the admin API lists of every row, whatever its transport."""
    return {
        "id": row.id,
        "status": row.status,
        "reason": row.reason,
        "ticket_number": row.ticket_number,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": local_iso(row.created_at),
        "next_attempt_at": local_iso(row.next_attempt_at),
        "sent_at": local_iso(row.sent_at),
    }


async def listing(transport: str, *, status: str | None = None, limit: int = 200) -> Listing:
    """Counts by status and the newest `limit` rows of `transport` (of one status if given)."""
    rows = OutboxMessage.filter(transport=transport)
    if status:
        rows = rows.filter(status=status)
    counts = {
        s.value: await OutboxMessage.filter(transport=transport, status=s.value).count()
        for s in OutboxStatus
    }
    return Listing(transport, counts, await rows.order_by("-id").limit(limit))


@dataclass(frozen=True)
class Section:
    """One transport's part of the admin page: backlog, what waits, what failed, how many sent."""

    view: TransportView
    backlog: Backlog
    pending: list[OutboxMessage]
    failed: list[OutboxMessage]
    sent: int
    notice: str = ""  # what the configuration means for delivery (no SMTP_HOST, a log gateway)
    sent_label: str = "已发送"

    @property
    def name(self) -> str:
        """The transport's name."""
        return self.view.name

    @property
    def label(self) -> str:
        """邮件, 短信 …"""
        return self.view.label

    @property
    def counter(self) -> str:
        """封, 条 …"""
        return self.view.counter


async def page_section(
    transport: str, *, settings: Settings, now: datetime, shown: int = 50
) -> Section:
    """The admin page's section for `transport`: the oldest waiting, the newest failed, and
    what the configured transport means for them (the adapter says it)."""
    rows = OutboxMessage.filter(transport=transport)
    own = view(transport)
    return Section(
        view=own,
        notice=own.notice(settings),
        sent_label=own.sent_label(settings),
        backlog=await backlog(transport, now=now),
        pending=await rows.filter(status=OutboxStatus.PENDING.value).order_by("id").limit(shown),
        failed=await rows.filter(status=OutboxStatus.FAILED.value).order_by("-id").limit(shown),
        sent=await rows.filter(status=OutboxStatus.SENT.value).count(),
    )
