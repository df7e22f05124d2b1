"""The centre's approvals queue: every request a unit made that waits for the centre.

延期申请, 挂起申请, 退单 and 待审核答复 (a reviewed kind's reply) wait in one queue, oldest
request first, each with the unit's reason and how long it has waited. What counts as a
request, and the decisions on it, are declared in the action table
(`hotline.domain.lifecycle.APPROVAL_REQUESTS`); this module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.domain.lifecycle import APPROVAL_REQUESTS, ApprovalRequest, Status
from hotline.domain.models import Ticket, TicketEvent
from hotline.services import tickets as svc
from hotline.services.event_log import events_of

# Waiting requests a centre has at once are tens, not thousands: past this the queue says so.
MAX_PENDING = 2000


@dataclass(frozen=True)
class PendingRequest:
    """One request in the queue: the ticket, what was asked, when and why."""

    record: svc.TicketRecord
    request: ApprovalRequest  # what was asked (the unit's action and the queue's name)
    asked_at: datetime
    unit_id: int | None  # the unit that asked
    payload: dict[str, Any]  # the request's event payload: reason, days, reply text…

    @property
    def reason(self) -> str:
        """What the unit wrote: its reason, or for a reply under review the reply itself."""
        return str(self.payload.get("reason") or self.payload.get("text") or "")


async def pending_requests(
    *, page: int, per_page: int, statuses: list[Status] | None = None
) -> tuple[list[PendingRequest], int]:
    """One page of the requests waiting for the centre, oldest first, and how many wait."""
    wanted = [s.value for s in (statuses or APPROVAL_REQUESTS)]
    rows = (
        await Ticket.filter(status__in=wanted)
        .order_by("updated_at", "id")
        .limit(MAX_PENDING)
        .values_list("id", "status", "updated_at")
    )
    ids = [r[0] for r in rows]
    status_of = {r[0]: Status(r[1]) for r in rows}
    asked: dict[int, TicketEvent] = {}
    # Oldest first: each ticket keeps the latest event of the request its status stands for.
    requests = sorted({a.request.value for a in APPROVAL_REQUESTS.values()})
    for event in await events_of(ids, requests):
        if event.action == APPROVAL_REQUESTS[status_of[event.ticket_id]].request.value:
            asked[event.ticket_id] = event
    since = {r[0]: (asked[r[0]].created_at if r[0] in asked else r[2]) for r in rows}
    ordered = sorted(ids, key=lambda i: (since[i], i))
    chosen = ordered[(page - 1) * per_page : page * per_page]
    tickets = {
        t.id: t for t in await Ticket.filter(id__in=chosen).prefetch_related(*svc.TICKET_RELATIONS)
    }
    items = []
    for ticket_id in chosen:
        event = asked.get(ticket_id)
        items.append(
            PendingRequest(
                record=svc.record_of(tickets[ticket_id]),
                request=APPROVAL_REQUESTS[status_of[ticket_id]],
                asked_at=since[ticket_id],
                unit_id=event.actor_unit_id if event else tickets[ticket_id].lead_unit_id,
                payload=dict(event.payload) if event else {},
            )
        )
    return items, len(ids)
