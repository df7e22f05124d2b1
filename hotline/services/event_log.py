"""Reading the event log for a page of tickets: the latest answers the queues show beside them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hotline.domain.models import TicketEvent


async def events_of(ticket_ids: Sequence[int], actions: Iterable[str]) -> list[TicketEvent]:
    """The events of `actions` on these tickets, oldest first (none for no tickets)."""
    if not ticket_ids:
        return []
    return list(
        await TicketEvent.filter(ticket_id__in=list(ticket_ids), action__in=list(actions)).order_by(
            "id"
        )
    )
