"""What a citizen sees of a ticket on the tracking page and in WeChat: status, promised date,
the units' public replies and steps, their own photos; no personal data, nothing internal.

Pure: rows in, the public body out. The web layer (tracking API and page) and the WeChat
service both show it, so it lives below them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hotline.domain.lifecycle import (
    ACTIONS,
    STATUS_LABELS,
    Action,
    Role,
    Status,
    allowed_actions,
    event_label,
)
from hotline.domain.schemas import TrackOut, TrackPhoto
from hotline.domain.timefmt import local_iso
from hotline.domain.vocabulary import RESULT_LABELS
from hotline.privacy.rules import citizen_title
from sla.clock import ClockKind

if TYPE_CHECKING:  # rows read by the services; only their fields are used here
    from hotline.domain.models import Ticket, TicketClock, TicketEvent, Unit



def track_out(
    ticket: Ticket,
    clocks: Iterable[TicketClock],
    events: list[TicketEvent],
    units: dict[str, Unit],
    main: tuple[Ticket, list[TicketEvent]] | None = None,
) -> TrackOut:
    """The public tracking view: status, public replies and steps, no personal data.

    A repeat merged into another ticket (`main`) shows that ticket's number, status and
    replies: the citizen's matter is answered there.
    """
    units_by_id = {u.id: u for u in units.values()}
    feedback = next((c for c in clocks if c.current and c.kind == ClockKind.FEEDBACK.value), None)
    steps = [{"label": event_label(e.action), "at": local_iso(e.created_at) or ""} for e in events]
    main_events = main[1] if main else []
    replies = [
        {
            "unit": unit.name if unit else "12345热线",
            "result": RESULT_LABELS.get(event.payload.get("result", ""), ""),
            "text": str(event.payload.get("text", "")),
            "at": local_iso(event.created_at) or "",
        }
        for event in [*events, *main_events]
        if _shows_reply(event.action)
        for unit in [units_by_id.get(event.actor_unit_id) if event.actor_unit_id else None]
    ]
    status = Status(ticket.status)
    main_status = Status(main[0].status) if main else None
    return TrackOut(
        number=ticket.number,
        status=status.value,
        status_label=STATUS_LABELS[status],
        kind=ticket.kind,
        title=citizen_title(ticket.title, ticket.complainant_name),
        created_at=local_iso(ticket.created_at) or "",
        promised_reply_by=local_iso(feedback.due_at) if feedback else None,
        promised_reply_provisional=bool(feedback and feedback.provisional),
        replies=replies,
        steps=steps,
        merged_into=main[0].number if main else None,
        merged_into_status_label=STATUS_LABELS[main_status] if main_status else None,
        photos=track_photos(ticket),
        can_rate=Action.CALLBACK in allowed_actions(status, Role.CITIZEN),
    )


def track_photos(ticket: Ticket) -> list[TrackPhoto]:
    """The citizen's stored photos (attachments with a `photo` file), by attachment index."""
    return [
        TrackPhoto(
            index=index,
            content_type=str(item.get("content_type") or "image/jpeg"),
            url=f"/track/{ticket.number}/photos/{index}",
        )
        for index, item in enumerate(ticket.attachments or [])
        if isinstance(item, dict) and item.get("photo")
    ]


def _shows_reply(name: str) -> bool:
    """Whether an event's text is an answer the complainant reads."""
    try:
        return ACTIONS[Action(name)].shows_reply
    except ValueError:
        return False
