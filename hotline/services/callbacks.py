"""The callback queue (已回复待回访): replied tickets, soonest 回访时限 first.

The centre's callback clock (`sla.clock.ClockKind.CALLBACK`, `callback` in data/sla.toml)
starts when a reply reaches the complainant. Operators work the queue by it: overdue
callbacks first, then the ones due soonest. Tickets replied before the clock existed have
none and come after, oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.domain.models import Ticket, TicketClock
from hotline.domain.vocabulary import Status
from hotline.services.tickets import TICKET_RELATIONS
from sla.clock import ClockKind


@dataclass(frozen=True)
class CallbackItem:
    """One replied ticket and its callback deadline (None: replied before the clock existed)."""

    ticket: Ticket
    due_at: datetime | None


async def callback_queue(*, limit: int) -> tuple[list[CallbackItem], int]:
    """Up to `limit` replied tickets by callback deadline, and how many are replied."""
    replied = Ticket.filter(status=Status.REPLIED.value)
    total = await replied.count()
    clocked = await (
        TicketClock.filter(
            kind=ClockKind.CALLBACK.value,
            current=True,
            is_open=True,
            ticket__status=Status.REPLIED.value,
        )
        .order_by("due_at", "id")
        .limit(limit)
        .values_list("ticket_id", "due_at")
    )
    due = {ticket_id: at for ticket_id, at in clocked}
    order = [ticket_id for ticket_id, _ in clocked]
    if len(order) < limit:
        # Every clocked one is in hand: the rest have no callback clock.
        order += await (
            replied.exclude(id__in=order)
            .order_by("created_at", "id")
            .limit(limit - len(order))
            .values_list("id", flat=True)
        )
    tickets = {
        t.id: t for t in await Ticket.filter(id__in=order).prefetch_related(*TICKET_RELATIONS)
    }
    return [CallbackItem(tickets[i], due.get(i)) for i in order if i in tickets], total
