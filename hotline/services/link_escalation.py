"""Escalating 协办 and 下派 deadlines: each warned and breached once, like a ticket clock.

An assisting unit's opinion clock (协办时限) and a descendant's internal deadline (下派时限)
live on the ticket's unit link (`ticket_unit.due_at`, with its warning point `warn_at`), not
among the ticket's clocks: a ticket has one responsible unit whose clocks the citizen and
the centre see, and any number of links. The sweeper claims due links with one conditional
UPDATE (`… AND warned/breached = false RETURNING id`), so with several sweepers each
warning and breach is recorded and mailed once. The event names the link's unit (its
lateness); the mail goes to that unit and, on a breach, to the unit waiting for it (the
responsible unit for an opinion, the parent for a 下派). Their rates count the same links
(`hotline.services.hierarchy_rates`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hotline.domain.hierarchy import Party, SubState
from hotline.domain.models import Ticket, TicketEvent, TicketUnit, Unit, User
from hotline.domain.timefmt import local_text
from hotline.domain.vocabulary import Status
from hotline.mail.outbox import new_mail
from hotline.mail.templates import clock_params, clock_subject
from hotline.outbox.models import OutboxMessage
from hotline.services.notify import deliverable, ticket_info
from hotline.services.rate_sql import placeholders, stored_time

CHUNK = 500

# The statuses in which the responsible unit holds the ticket, so a part is still owed
# (paused: everything waits; replied or closed: the answer is out, nothing is owed below).
_OWED = (
    Status.DISPATCHED.value,
    Status.HANDLING.value,
    Status.EXTENSION_REQUESTED.value,
    Status.PAUSE_REQUESTED.value,
)
# A 下派 is owed while the descendant has not answered upward.
_SUB_OWED = (SubState.DISPATCHED.value, SubState.HANDLING.value)
# What the timeline, the mail and the event's payload call each deadline.
LINK_CLOCKS = {Party.ASSIST.value: ("assist", "协办"), Party.SUB.value: ("subdispatch", "下派")}

_OPEN = (
    "l.active = ? AND t.status IN ({owed}) AND ("
    "(l.role = 'assist' AND l.answered_at IS NULL)"
    " OR (l.role = 'sub' AND l.state IN ({sub})))"
).format(
    owed=", ".join(f"'{s}'" for s in _OWED),
    sub=", ".join(f"'{s}'" for s in _SUB_OWED),
)
_DUE = {
    "breach": "SELECT l.id FROM ticket_unit l JOIN ticket t ON t.id = l.ticket_id"
    f" WHERE {_OPEN} AND l.breached = ? AND l.due_at <= ? ORDER BY l.due_at, l.id LIMIT ?",
    "warning": "SELECT l.id FROM ticket_unit l JOIN ticket t ON t.id = l.ticket_id"
    f" WHERE {_OPEN} AND l.warned = ? AND l.warn_at <= ? AND l.due_at > ?"
    " ORDER BY l.warn_at, l.id LIMIT ?",
}
# What each escalation sets, and the flag that must still be unset for the claim to take it.
_CLAIM = {
    # A breach found before its warning counts as both: no late warning.
    "breach": ("breached = ?, warned = ?", [True, True], "breached"),
    "warning": ("warned = ?", [True], "warned"),
}


async def due_links(event: str, *, now: datetime, limit: int) -> list[int]:
    """Ids of up to `limit` owed links due for `event` (breach or warning), oldest first."""
    conn = TicketUnit._meta.db
    dialect = conn.capabilities.dialect
    at = stored_time(dialect, now)
    params: list[Any] = [True, False, at] + ([at] if event == "warning" else []) + [limit]
    _, rows = await conn.execute_query(placeholders(dialect, _DUE[event]), params)
    return [int(r["id"]) for r in rows]


async def sweep_links(event: str, *, now: datetime, link_base: str, batch: int = 2000) -> list[int]:
    """Record every due `event` of 协办/下派 deadlines once; returns the link ids."""
    done: list[int] = []
    while True:
        ids = await due_links(event, now=now, limit=batch)
        for start in range(0, len(ids), CHUNK):
            done += await _escalate(ids[start : start + CHUNK], event, now, link_base)
        if len(ids) < batch:
            return done


async def _claim(conn: BaseDBAsyncClient, ids: Sequence[int], event: str) -> set[int]:
    sets, values, flag = _CLAIM[event]
    sql = (
        f"UPDATE ticket_unit SET {sets} WHERE id IN ({', '.join('?' * len(ids))}) "
        f"AND active = ? AND {flag} = ? RETURNING id"
    )
    dialect = conn.capabilities.dialect
    rows = await conn.execute_query_dict(placeholders(dialect, sql), [*values, *ids, True, False])
    return {int(r["id"]) for r in rows}


async def _escalate(ids: list[int], event: str, now: datetime, link_base: str) -> list[int]:
    if not ids:
        return []
    async with in_transaction() as conn:
        taken = await _claim(conn, ids, event)
        if not taken:
            return []  # another sweeper got there first
        order = [i for i in ids if i in taken]
        links = {k.id: k for k in await TicketUnit.filter(id__in=order).using_db(conn)}
        tickets = {
            t.id: t
            for t in await Ticket.filter(id__in={k.ticket_id for k in links.values()}).using_db(
                conn
            )
        }
        unit_ids = {k.unit_id for k in links.values()}
        unit_ids |= {_waiting_unit(k, tickets[k.ticket_id]) for k in links.values()} - {None}
        units = {u.id: u for u in await Unit.filter(id__in=unit_ids).using_db(conn)}
        staff: dict[int, list[str]] = {}
        for unit_id, email in (
            await User.filter(unit_id__in=list(units), active=True)
            .exclude(email="")
            .using_db(conn)
            .order_by("id")
            .values_list("unit_id", "email")
        ):
            staff.setdefault(unit_id, []).append(email)

        def addresses(unit: Unit | None) -> list[str]:
            if unit is None:
                return []
            return deliverable([*([unit.email] if unit.email else []), *staff.get(unit.id, [])])

        events: list[TicketEvent] = []
        mails: list[OutboxMessage] = []
        for link_id in order:
            link = links[link_id]
            ticket = tickets[link.ticket_id]
            unit = units.get(link.unit_id)
            events.append(_event(ticket, link, unit, event, now))
            to = addresses(unit)
            if event == "breach":
                to += addresses(units.get(_waiting_unit(link, ticket) or 0))
            mail = _mail(ticket, link, unit, list(dict.fromkeys(to)), event, now, link_base)
            if mail is not None:
                mails.append(mail)
        await TicketEvent.bulk_create(events, using_db=conn)
        if mails:
            await OutboxMessage.bulk_create(mails, using_db=conn)
    return order


def _waiting_unit(link: TicketUnit, ticket: Ticket) -> int | None:
    """The unit that waits for this part: a 下派's parent, an opinion's responsible unit."""
    return link.parent_unit_id if link.role == Party.SUB.value else ticket.lead_unit_id


def _event(
    ticket: Ticket, link: TicketUnit, unit: Unit | None, event: str, now: datetime
) -> TicketEvent:
    clock, label = LINK_CLOCKS[link.role]
    code = unit.code if unit else None
    # The timeline names the unit as its part says: 下级单位 or 协办单位.
    named = {"unit": code} if link.role == Party.SUB.value else {"assisting_units": [code]}
    return TicketEvent(
        ticket_id=ticket.id,
        action=f"sla_{event}",
        actor_name="系统",
        actor_role="system",
        actor_unit_id=link.unit_id,  # the late part is that unit's own
        from_status=ticket.status,
        to_status=ticket.status,
        payload={
            "clock": clock,
            "clock_label": label,
            "due_at": link.due_at.isoformat() if link.due_at else None,
            **named,
        },
        public=False,
        created_at=now,
    )


def _mail(
    ticket: Ticket,
    link: TicketUnit,
    unit: Unit | None,
    to: list[str],
    event: str,
    now: datetime,
    link_base: str,
) -> OutboxMessage | None:
    if not to or link.due_at is None:
        return None
    name = {Party.ASSIST.value: "协办意见", Party.SUB.value: "下派办理"}[link.role]
    due_text = local_text(link.due_at)
    return new_mail(
        to=to,
        subject=clock_subject(event, number=ticket.number, clock_name=name, due_text=due_text),
        text="",
        html=None,
        template=event,
        params=clock_params(
            ticket=ticket_info(ticket),
            unit_name=unit.name if unit else "承办单位",
            clock_name=name,
            due_text=due_text,
            link_base=link_base,
        ),
        ticket_number=ticket.number,
        reason=f"{LINK_CLOCKS[link.role][0]}_{event}",
        now=now,
    )
