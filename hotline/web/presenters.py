"""Turn database rows into the response bodies each viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.domain.auth import Principal
from hotline.domain.hierarchy import (
    SUB_STATE_LABELS,
    Party,
    SubState,
    may_pass_down,
    sub_stages,
)
from hotline.domain.lifecycle import (
    STATUS_LABELS,
    Role,
    Status,
    allowed_actions,
    event_label,
)
from hotline.domain.schemas import (
    AssistOut,
    ClockOut,
    ComplainantOut,
    EventOut,
    Location,
    RoutingOut,
    SubdispatchOut,
    TicketOut,
    UnitOut,
)
from hotline.domain.timefmt import local_iso
from hotline.privacy.confirmed import needs_confirmation, unit_text_of, unit_title_of
from hotline.privacy.rules import (
    complainant_view,
    dispatch_text,
    mask_address,
    mask_personal,
    no_contact_applies,
)
from hotline.services.tickets import TicketRecord
from sla.clock import ClockKind

if TYPE_CHECKING:  # rows the services read: the web layer shows them and runs no query
    from hotline.domain.models import Ticket, TicketClock, TicketEvent, TicketUnit, Unit


def unit_out(unit: Unit | None) -> UnitOut | None:
    """A unit as the API shows it."""
    if unit is None:
        return None
    return UnitOut(code=unit.code, name=unit.name, kind=unit.kind, parent=unit.parent_code)


def routing_out(routing: dict[str, Any], units: dict[str, Unit]) -> RoutingOut:
    """The stored routing proposal with unit codes resolved to names."""
    lead = units.get(routing.get("lead_unit") or "")
    return RoutingOut(
        lead_unit=unit_out(lead),
        assisting_units=[
            u for c in routing.get("assisting_units") or [] if (u := unit_out(units.get(c)))
        ],
        category=routing.get("category"),
        confidence=float(routing.get("confidence") or 0.0),
        needs_review=bool(routing.get("needs_review", True)),
        rule=routing.get("rule") or "",
        place=routing.get("place"),
        top3=[(str(c), float(p)) for c, p in routing.get("top3") or []],
    )


def clocks_out(clocks: list[TicketClock]) -> list[ClockOut]:
    """The ticket's current clocks, receipt first."""
    order = {kind.value: i for i, kind in enumerate(ClockKind)}
    rows = sorted((c for c in clocks if c.current), key=lambda c: order.get(c.kind, 9))
    return [
        ClockOut(
            kind=c.kind,
            label=f"{ClockKind(c.kind).label}时限",
            state=c.state,
            limit=c.limit,
            started_at=local_iso(c.started_at) or "",
            due_at=local_iso(c.due_at),
            warn_at=local_iso(c.warn_at),
            provisional=c.provisional,
            met_at=local_iso(c.met_at),
        )
        for c in rows
    ]


def event_out(event: TicketEvent, units_by_id: dict[int, Unit]) -> EventOut:
    """One timeline step."""
    unit = units_by_id.get(event.actor_unit_id) if event.actor_unit_id else None
    return EventOut(
        action=event.action,
        label=event_label(event.action),
        actor=event.actor_name,
        actor_role=event.actor_role,
        actor_unit=unit.code if unit else None,
        from_status=event.from_status,
        to_status=event.to_status,
        payload=dict(event.payload),
        at=local_iso(event.created_at) or "",
    )


def assists_out(links: list[TicketUnit], units_by_id: dict[int, Unit]) -> list[AssistOut]:
    """Every active assisting unit's part: its 协办时限 and opinion."""
    out = []
    for link in links:
        unit = unit_out(units_by_id.get(link.unit_id))
        if not link.active or link.role != Party.ASSIST.value or unit is None:
            continue
        on_time = None
        if link.answered_at is not None:
            on_time = link.due_at is None or link.answered_at <= link.due_at
        out.append(
            AssistOut(
                unit=unit,
                due_at=local_iso(link.due_at),
                answered_at=local_iso(link.answered_at),
                on_time=on_time,
                done=link.done,
                text=link.text,
            )
        )
    return out


def subdispatch_out(
    links: list[TicketUnit],
    units_by_id: dict[int, Unit],
    *,
    viewer_unit_id: int | None = None,
    lead_unit_id: int | None = None,
) -> tuple[SubdispatchOut | None, str | None]:
    """The 下派 the viewer deals with — the one it passed down, else the one it holds (the
    centre: the responsible unit's) — latest first, and once approved its text as the draft
    of the viewer's answer."""
    subs = [k for k in links if k.role == Party.SUB.value]
    reviewer = viewer_unit_id if viewer_unit_id is not None else lead_unit_id
    passed = [k for k in subs if reviewer is not None and k.parent_unit_id == reviewer]
    held = [k for k in subs if viewer_unit_id is not None and k.unit_id == viewer_unit_id]
    subs = passed or held or subs
    if not subs:
        return None, None
    link = max(subs, key=lambda k: (k.created_at, k.id or 0))
    unit = unit_out(units_by_id.get(link.unit_id))
    if unit is None:
        return None, None
    state = SubState(link.state or SubState.NONE.value)
    parent = units_by_id.get(link.parent_unit_id) if link.parent_unit_id else None
    out = SubdispatchOut(
        unit=unit,
        parent=unit_out(parent),
        state=state.value,
        state_label=SUB_STATE_LABELS[state],
        due_at=local_iso(link.due_at),
        limit=link.limit,
        answered_at=local_iso(link.answered_at),
        text=link.text,
    )
    drafted = state is SubState.APPROVED and link.parent_unit_id == reviewer
    return out, link.text if drafted else None


def _parts(links: list[TicketUnit], ticket: Ticket, viewer: Principal) -> frozenset[Party]:
    """The viewer's parts in the ticket: lead, assisting, holding its 下派, passing down."""
    if viewer.role != Role.UNIT:
        return frozenset(Party)
    parts = {Party(k.role) for k in links if k.active and k.unit_id == viewer.unit_id}
    if ticket.lead_unit_id == viewer.unit_id:
        parts.add(Party.LEAD)
    else:
        parts.discard(Party.LEAD)
    if may_pass_down(links, unit_id=viewer.unit_id, lead_unit_id=ticket.lead_unit_id):
        parts.add(Party.PARENT)
    return frozenset(parts)


@dataclass(frozen=True)
class TicketText:
    """The ticket's words as one viewer may read them."""

    title: str
    content: str
    dispatch_text: str
    dispatch_title: str
    address: str


def ticket_text(ticket: Ticket, *, role: str) -> TicketText:
    """The centre keeps the verbatim record; units read the dispatch text.

    Operators read everything as recorded, beside the dispatch title and text (for a 举报
    or confidential ticket the proposal they confirm). Supervisors read the content with
    numbers masked (as the phone field is) and, of a 举报 or confidential ticket, house
    numbers masked too. Units read the dispatch title and text only: of a 举报 or
    confidential ticket the confirmed ones, and no address (the confirmed text says where).
    """
    names = (ticket.complainant_name,)
    sent = dispatch_text(ticket.dispatch_text, ticket.content, ticket.complainant_name)
    sent_title = (
        ticket.dispatch_title
        if ticket.dispatch_title is not None
        else mask_personal(ticket.title, names=names)
    )
    hidden = needs_confirmation(kind=ticket.kind, confidential=ticket.confidential)
    if role == Role.OPERATOR:
        return TicketText(ticket.title, ticket.content, sent, sent_title, ticket.address)
    if role == Role.UNIT:
        seen = unit_text_of(ticket)
        address = "" if hidden else ticket.address
        return TicketText(seen.title, seen.text, seen.text, seen.title, address)
    if hidden:
        content = mask_address(mask_personal(ticket.content))
        return TicketText(ticket.title, content, sent, sent_title, mask_address(ticket.address))
    return TicketText(ticket.title, mask_personal(ticket.content), sent, sent_title, ticket.address)


# Event payload keys a unit may not read on a 举报 or confidential ticket: an earlier
# confirmed text may be the one the centre corrected because it said too much.
# A citizen's 补充说明 is their own words (it may name them): for a 举报 the centre reads it
# and confirms anew what the unit reads.
_UNIT_HIDDEN_PAYLOAD = frozenset({"title", "dispatch_text", "supplement"})


def ticket_out(
    record: TicketRecord,
    *,
    viewer: Principal,
    units: dict[str, Unit],
    events: list[TicketEvent] | None = None,
) -> TicketOut:
    """A ticket as `viewer` may see it (personal data masked by role)."""
    ticket = record.ticket
    view = complainant_view(
        role=viewer.role,
        kind=ticket.kind,
        confidential=ticket.confidential,
        name=ticket.complainant_name,
        phone=ticket.complainant_phone,
        email=ticket.complainant_email,
    )
    text = ticket_text(ticket, role=viewer.role)
    active = [link for link in record.links if link.active]
    units_by_id = {u.id: u for u in units.values()}
    status = Status(ticket.status)
    role = Role(viewer.role)
    hidden = needs_confirmation(kind=ticket.kind, confidential=ticket.confidential)
    # Of a 举报 or confidential ticket a unit reads the confirmed text and nothing derived
    # from the original: no coordinates, attachments, routing evidence or earlier texts.
    unit_blind = role == Role.UNIT and hidden
    own_stage, below_stage = sub_stages(active, viewer.unit_id if role == Role.UNIT else None)
    subdispatch, reply_draft = subdispatch_out(
        record.links,
        units_by_id,
        viewer_unit_id=viewer.unit_id if role == Role.UNIT else None,
        lead_unit_id=ticket.lead_unit_id,
    )
    timeline = None
    if events is not None:
        timeline = [event_out(e, units_by_id) for e in events]
        if unit_blind:
            for item in timeline:
                item.payload = {
                    k: v for k, v in item.payload.items() if k not in _UNIT_HIDDEN_PAYLOAD
                }
    return TicketOut(
        number=ticket.number,
        query_code=None if viewer.role == Role.UNIT else ticket.query_code,
        status=status.value,
        status_label=STATUS_LABELS[status],
        channel=ticket.channel,
        kind=ticket.kind,
        urgency=ticket.urgency,
        category=ticket.category,
        title=text.title,
        content=text.content,
        dispatch_text=text.dispatch_text,
        dispatch_title=text.dispatch_title,
        dispatch_confirmed_at=local_iso(ticket.dispatch_confirmed_at),
        awaiting_confirmation=hidden and ticket.dispatch_confirmed_at is None,
        location=Location(
            address=text.address,
            district=ticket.district,
            street=ticket.street,
            latitude=None if unit_blind else ticket.latitude,
            longitude=None if unit_blind else ticket.longitude,
        ),
        complainant=ComplainantOut(
            name=view.name,
            phone=view.phone,
            email=view.email,
            anonymous=ticket.anonymous,
            confidential=ticket.confidential,
            # Every viewer learns of the wish (a unit too must not call); it names no one.
            no_contact=no_contact_applies(
                no_contact=ticket.no_contact, confidential=ticket.confidential
            ),
            wechat=bool(ticket.complainant_openid),
        ),
        attachments=[] if unit_blind else list(ticket.attachments or []),
        lead_unit=unit_out(units_by_id.get(ticket.lead_unit_id)) if ticket.lead_unit_id else None,
        assisting_units=[
            u
            for link in active
            if link.role == "assist"
            if (u := unit_out(units_by_id.get(link.unit_id)))
        ],
        routing=routing_out({} if unit_blind else ticket.routing or {}, units),
        needs_review=ticket.needs_review,
        deadlines=clocks_out(record.clocks),
        result=ticket.result,
        satisfaction=ticket.satisfaction,
        merged_into=record.merged_into,
        allowed_actions=[
            a.value
            for a in allowed_actions(
                status,
                role,
                parts=_parts(active, ticket, viewer),
                sub=own_stage,
                below=below_stage,
            )
        ],
        created_at=local_iso(ticket.created_at) or "",
        updated_at=local_iso(ticket.updated_at) or "",
        closed_at=local_iso(ticket.closed_at),
        version=ticket.version,
        external_id=ticket.external_id,
        # The switch's id is not the unit's business: the centre keeps it for the call log.
        call_id=None if viewer.role == Role.UNIT else ticket.call_id,
        timeline=timeline,
        assists=assists_out(record.links, units_by_id),
        subdispatch=subdispatch,
        reply_draft=reply_draft,
    )


@dataclass(frozen=True)
class TicketRow:
    """What a unit's list row shows of a ticket (`ticket_out`'s fields of the same names)."""

    number: str
    title: str
    kind: str
    urgency: str
    status: str
    status_label: str
    deadlines: list[ClockOut]
    assists: list[AssistOut]
    subdispatch: Any


def ticket_row(
    ticket: Any,
    *,
    clocks: list[TicketClock],
    links: list[TicketUnit],
    units: dict[str, Unit],
    viewer_unit_id: int | None = None,
) -> TicketRow:
    """A ticket as a unit's workbench row shows it: the unit's title (as `ticket_out` gives
    a unit), its clocks and its 协办/下派 parts; no content is read or masked."""
    units_by_id = {u.id: u for u in units.values()}
    status = Status(ticket.status)
    return TicketRow(
        number=ticket.number,
        title=unit_title_of(ticket),
        kind=ticket.kind,
        urgency=ticket.urgency,
        status=status.value,
        status_label=STATUS_LABELS[status],
        deadlines=clocks_out(clocks),
        assists=assists_out(links, units_by_id),
        subdispatch=subdispatch_out(
            links, units_by_id, viewer_unit_id=viewer_unit_id, lead_unit_id=ticket.lead_unit_id
        )[0],
    )
