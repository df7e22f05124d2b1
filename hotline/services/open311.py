"""Open311 GeoReport v2 intake and public reading: tickets in, public request records out.

A POSTed request becomes a ticket through the ticket service like any other contact
(channel `open311`), so it is routed, its clocks start and the operators see it; its token
is written in the same transaction. Public reading never shows a confidential ticket (举报
or a complainant who asked for confidentiality): it answers exactly like a missing one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from tortoise.transactions import in_transaction

from hotline.channels import open311 as proto
from hotline.channels import open311_input as sent
from hotline.domain.lifecycle import ACTIONS, OPEN_STATUSES, STATUS_LABELS, Role, Status
from hotline.domain.models import Open311Token, Ticket, TicketClock, TicketEvent
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import local_iso, local_text
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import Retry
from sla.clock import ClockKind

CLOSED = (Status.CLOSED.value, Status.MERGED.value)
_REPLIES = [action.value for action, spec in ACTIONS.items() if spec.shows_reply]


def actor(client: str) -> ticket_service.Actor:
    """Who writes an Open311 client's tickets into the event log."""
    return ticket_service.Actor(None, f"Open311 {client}"[:64], Role.SYSTEM.value, None)


async def create_request(
    *,
    data: TicketCreate,
    client: str,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
    retry: Retry | None = None,
) -> tuple[ticket_service.TicketRecord, str]:
    """A ticket (channel open311) and its token; a retried Idempotency-Key gets the first ones."""
    # One transaction: a ticket without its token (or a token without its ticket) never exists.
    async with in_transaction() as conn:
        record = await ticket_service.create_ticket(
            data=data,
            actor=actor(client),
            now=now,
            deployment=deployment,
            auto_dispatch=auto_dispatch,
            retry=retry,
        )
        if record.replayed:
            earlier = await Open311Token.filter(ticket_id=record.ticket.id).using_db(conn).first()
            if earlier is not None:
                return record, earlier.token
        token = secrets.token_urlsafe(24)
        await Open311Token.create(
            using_db=conn, token=token, ticket_id=record.ticket.id, client=client, created_at=now
        )
    return record, token


def feedback_due(record: ticket_service.TicketRecord) -> str | None:
    """When the lead unit must answer (the current feedback clock), for people to read."""
    clock = next(
        (c for c in record.clocks if c.current and c.kind == ClockKind.FEEDBACK.value), None
    )
    return local_text(clock.due_at) if clock and clock.due_at else None


async def token_request(token: str) -> str | None:
    """The ticket number a token was issued for (None: unknown token).

    A confidential ticket's number too: the token is the filing client's own receipt.
    """
    row = await Open311Token.filter(token=token).select_related("ticket").first()
    if row is None:
        return None
    return row.ticket.number


async def public_requests(query: sent.Query) -> list[dict[str, object]]:
    """The spec's request records a query asks for, newest first, at most MAX_REQUESTS."""
    # Only what was filed through Open311 is published: a caller, a web-form or a WeChat
    # citizen never chose to make their matter public. Confidential ones never are.
    tickets = Ticket.filter(confidential=False, channel=proto.OPEN311_CHANNEL)
    if query.ids:
        tickets = tickets.filter(number__in=list(query.ids))
    else:
        tickets = tickets.filter(created_at__gte=query.start, created_at__lte=query.end)
        if query.codes:
            tickets = tickets.filter(category__in=list(query.codes))
        if set(query.statuses) == {"open"}:
            tickets = tickets.filter(status__in=[s.value for s in OPEN_STATUSES])
        elif set(query.statuses) == {"closed"}:
            tickets = tickets.filter(status__in=CLOSED)
    rows = await (
        tickets.select_related("lead_unit", "merged_into")
        .order_by("-created_at", "-id")
        .limit(proto.MAX_REQUESTS)
    )
    return [proto.record(seen) for seen in await _seen(rows)]


async def _seen(tickets: Sequence[Ticket]) -> list[proto.Seen]:
    """What the public may know of each ticket, in two more statements for all of them."""
    ids = [t.id for t in tickets]
    if not ids:
        return []
    clocks = {
        c.ticket_id: c
        for c in await TicketClock.filter(
            ticket_id__in=ids, current=True, kind=ClockKind.FEEDBACK.value
        )
    }
    replies: dict[int, str] = {}
    for event in await TicketEvent.filter(
        ticket_id__in=ids, action__in=_REPLIES, public=True
    ).order_by("created_at", "id"):
        replies[event.ticket_id] = str(event.payload.get("text", ""))  # the newest wins
    seen = []
    for ticket in tickets:
        status = Status(ticket.status)
        label = STATUS_LABELS[status]
        main = ticket.merged_into
        if status is Status.MERGED and main is not None:
            # A confidential main ticket's number would lead to the reporter's matter.
            where = "其他工单" if main.confidential else f"工单 {main.number}"
            label += f"（并入{where}办理）"
        clock = clocks.get(ticket.id)
        media = next((a.get("url", "") for a in ticket.attachments or [] if a.get("url")), "")
        seen.append(
            proto.Seen(
                number=ticket.number,
                channel=ticket.channel,
                category=ticket.category,
                status=ticket.status,
                status_label=label,
                closed=ticket.status in CLOSED,
                title=ticket.title,
                content=ticket.content,
                complainant_name=ticket.complainant_name,
                address=ticket.address,
                district=ticket.district,
                street=ticket.street,
                latitude=ticket.latitude,
                longitude=ticket.longitude,
                media_url=media,
                agency=ticket.lead_unit.name if ticket.lead_unit else None,
                reply=replies.get(ticket.id) or None,
                created_at=local_iso(ticket.created_at) or "",
                updated_at=local_iso(ticket.updated_at) or "",
                expected_at=local_iso(clock.due_at) if clock else None,
                provisional=bool(clock and clock.provisional),
            )
        )
    return seen
