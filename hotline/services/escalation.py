"""Escalating due clocks in batches: one claim, one event insert and one outbox insert a chunk.

A mass deadline (14,000 clocks due at the same minute after a holiday) used to cost about ten
statements per clock, one clock at a time. Here a chunk of clocks is claimed with one
conditional `UPDATE … WHERE id IN (…) AND <not yet escalated> RETURNING id`, so two sweepers
never both claim a clock (the row lock on PostgreSQL, the single writer on SQLite), and the
chunk's tickets, units and recipients are read with one query each. The events and mails are
the same as escalating each clock on its own (`tests/service/test_escalation_batches.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import JSONField
from tortoise.models import Model
from tortoise.transactions import in_transaction

from hotline.domain.models import Ticket, TicketClock, TicketEvent, Unit, User
from hotline.domain.vocabulary import Status
from hotline.outbox.models import OutboxMessage
from hotline.services.notify import (
    clock_mail_values,
    clock_name,
    deliverable,
    operator_recipients,
    supervisor_recipients,
)
from hotline.services.rate_rows import placeholders
from sla.clock import ClockKind

# Each chunk is one transaction: short enough that SQLite's single connection is free again
# within a fraction of a second, long enough that a mass breach needs few round trips.
CHUNK = 500

# What the event and the mail read of a clock and of its ticket (`notify.ticket_info`).
CLOCK_FIELDS = ("id", "ticket_id", "kind", "due_at", "generation")
TICKET_FIELDS = (
    "id",
    "number",
    "status",
    "lead_unit_id",
    "kind",
    "urgency",
    "category",
    "title",
    "content",
    "confidential",
    "complainant_name",
    "dispatch_title",
    "dispatch_text",
    "dispatch_confirmed_at",
)

# What each escalation sets, and the flag that must still be unset for the claim to take it.
_CLAIM = {
    # A breach found before its warning was sent counts as both: no late warning.
    "breach": ("breached = ?, warned = ?, state = ?", [True, True, "breached"], "breached"),
    "warning": ("warned = ?, state = ?", [True, "warning"], "warned"),
}


async def escalate(ids: Sequence[int], event: str, *, now: datetime, link_base: str) -> list[int]:
    """Claim the clocks not yet escalated and record each one's event and mail; returns the
    claimed ids in the order given."""
    claimed: list[int] = []
    for start in range(0, len(ids), CHUNK):
        claimed += await _escalate_chunk(
            list(ids[start : start + CHUNK]), event, now=now, link_base=link_base
        )
    return claimed


async def _claim(conn: BaseDBAsyncClient, ids: list[int], event: str) -> set[int]:
    """The ids this transaction flipped: still open and not yet escalated for `event`."""
    sets, values, flag = _CLAIM[event]
    # Re-check `is_open` in the claim: a re-dispatch or merge may have retired the clock since
    # it was selected, and a retired clock must not be escalated.
    sql = (
        f"UPDATE ticket_clock SET {sets} WHERE id IN ({', '.join('?' * len(ids))}) "
        f"AND is_open = ? AND {flag} = ? RETURNING id"
    )
    dialect = conn.capabilities.dialect
    # execute_query_dict: asyncpg's execute_query drops the rows of an UPDATE … RETURNING.
    rows = await conn.execute_query_dict(placeholders(dialect, sql), [*values, *ids, True, False])
    return {int(r["id"]) for r in rows}


async def _escalate_chunk(
    ids: list[int], event: str, *, now: datetime, link_base: str
) -> list[int]:
    if not ids:
        return []
    async with in_transaction() as conn:
        taken = await _claim(conn, ids, event)
        if not taken:
            return []  # another sweeper got there first
        order = [i for i in ids if i in taken]
        # Plain rows of the few columns used: building thousands of models (and parsing every
        # timestamp of them) was most of a mass escalation's time.
        clocks = {
            c["id"]: cast(TicketClock, SimpleNamespace(**c))
            for c in await TicketClock.filter(id__in=order).using_db(conn).values(*CLOCK_FIELDS)
        }
        tickets = {
            t["id"]: cast(Ticket, SimpleNamespace(**t))
            for t in await Ticket.filter(id__in={c.ticket_id for c in clocks.values()})
            .using_db(conn)
            .values(*TICKET_FIELDS)
        }
        recipients = await _Recipients.load(conn, tickets.values(), clocks.values(), event)
        events: list[tuple[Any, ...]] = []
        mails: list[tuple[Any, ...]] = []
        for clock_id in order:
            clock = clocks[clock_id]
            ticket = tickets[clock.ticket_id]
            events.append(_event(ticket, clock, event, now))
            unit, to = recipients.of(ticket, clock, event)
            mail = clock_mail_values(
                ticket=ticket,
                clock=clock,
                unit=unit,
                to=to,
                event=event,
                now=now,
                link_base=link_base,
            )
            if mail is not None:
                mails.append(tuple(_db_value(OutboxMessage, c, mail[c]) for c in MAIL_COLUMNS))
        await _insert(conn, TicketEvent, EVENT_COLUMNS, events)
        await _insert(conn, OutboxMessage, MAIL_COLUMNS, mails)
    return order


# The columns the escalation writes, in the order of its row tuples; the others keep their
# defaults (NULL). Rows are tuples, not models: building 14,000 models and having the ORM
# convert each field back was most of a mass escalation's time after the masking.
EVENT_COLUMNS = (
    "ticket_id",
    "action",
    "actor_name",
    "actor_role",
    "actor_unit_id",
    "from_status",
    "to_status",
    "payload",
    "public",
    "created_at",
)
MAIL_COLUMNS = (
    "transport",
    "dedupe_key",
    "recipients",
    "subject",
    "body",
    "body_html",
    "template",
    "params",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "ticket_number",
    "reason",
)
_JSON = {
    (model, name)
    for model in (TicketEvent, OutboxMessage)
    for name, field in model._meta.fields_map.items()
    if isinstance(field, JSONField)
}


def _db_value(model: type[Model], column: str, value: Any) -> Any:
    """A value as the ORM would bind it: JSON encoded by the field, the rest as they are
    (both drivers bind datetimes and booleans the way tortoise does)."""
    if (model, column) in _JSON:
        return model._meta.fields_map[column].to_db_value(value, None)
    return value


async def _insert(
    conn: BaseDBAsyncClient, model: type[Model], columns: tuple[str, ...], rows: list[Any]
) -> None:
    """One statement for all `rows` (executemany: SQLite and asyncpg both pipeline it)."""
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({marks})'
    await conn.execute_many(placeholders(conn.capabilities.dialect, sql), rows)


def _event(ticket: Ticket, clock: TicketClock, event: str, now: datetime) -> tuple[Any, ...]:
    """The `sla_warning` / `sla_breach` row of one clock, in `EVENT_COLUMNS` order."""
    payload = {
        "clock": clock.kind,
        "clock_label": clock_name(clock.kind),
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "generation": clock.generation,
    }
    return (
        ticket.id,
        f"sla_{event}",
        "系统",
        "system",
        # The centre's own clocks (改派, 审批, 回访) are nobody's unit's lateness, nor is anything
        # late while a 退单 waits for the centre to re-dispatch.
        None
        if ClockKind(clock.kind).centre_owned or ticket.status == Status.DISPUTED.value
        else ticket.lead_unit_id,
        ticket.status,
        ticket.status,
        _db_value(TicketEvent, "payload", payload),
        False,
        now,
    )


class _Recipients:
    """The lead units of a chunk, their staff's addresses and the supervisors', read once."""

    def __init__(
        self,
        units: dict[int, Unit],
        staff: dict[int, list[str]],
        supervisors: list[str],
        operators: list[str] | None = None,
    ) -> None:
        self.units = units
        self.staff = staff
        self.supervisors = supervisors
        self.operators = operators or []

    @classmethod
    async def load(
        cls,
        conn: BaseDBAsyncClient,
        tickets: Any,
        clocks: Any,
        event: str,
    ) -> _Recipients:
        unit_ids = {t.lead_unit_id for t in tickets if t.lead_unit_id}
        units = (
            {u.id: u for u in await Unit.filter(id__in=unit_ids).using_db(conn)} if unit_ids else {}
        )
        staff: dict[int, list[str]] = {}
        if units:
            for unit_id, email in (
                await User.filter(unit_id__in=list(units), active=True)
                .exclude(email="")
                .using_db(conn)
                .order_by("id")
                .values_list("unit_id", "email")
            ):
                staff.setdefault(unit_id, []).append(email)
        centre = any(ClockKind(c.kind).centre_owned for c in clocks)
        supervisors = await supervisor_recipients(conn) if event == "breach" or centre else []
        # A late callback is the operators' own work to do: they hear of it too.
        callback = any(c.kind == ClockKind.CALLBACK.value for c in clocks)
        operators = await operator_recipients(conn) if callback else []
        return cls(units, staff, supervisors, operators)

    @functools.cache  # noqa: B019 - one chunk's units; the object lives as long as the chunk
    def _unit_addresses(self, unit: Unit) -> tuple[str, ...]:
        """The unit's mailbox and its staff's usable addresses (checked once per chunk)."""
        return tuple(
            deliverable([*([unit.email] if unit.email else []), *self.staff.get(unit.id, [])])
        )

    def of(self, ticket: Ticket, clock: TicketClock, event: str) -> tuple[Unit | None, list[str]]:
        """The unit named in the mail and its recipients, as `notify.clock_mail` picks them."""
        # The centre's own clocks (改派, 审批, 回访) and a 退单 waiting for 改派 are the centre's
        # lateness: supervisors only, never the unit that disputed or asked.
        centre = ClockKind(clock.kind).centre_owned or ticket.status == Status.DISPUTED.value
        unit = self.units.get(ticket.lead_unit_id) if ticket.lead_unit_id and not centre else None
        to = list(self._unit_addresses(unit)) if unit else []
        if centre:
            to += self.supervisors
        if clock.kind == ClockKind.CALLBACK.value:
            to += self.operators
        if event == "breach":
            to += self.supervisors
        return unit, list(dict.fromkeys(to))
