"""Batched escalation records exactly what escalating one clock at a time recorded.

The reference below is the sweeper as it was before batches: select, then per clock a
conditional UPDATE, the clock and ticket read back, one event and one mail with their own
look-ups. The same tickets are escalated both ways and every event and mail compared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import pytest
from tortoise.transactions import in_transaction

from hotline.domain.models import Ticket, TicketClock, TicketEvent, User
from hotline.mail.outbox import mail_content
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services import escalation
from hotline.services.notify import clock_mail, clock_name
from hotline.services.sweeper import sweep
from sla.clock import ClockKind
from tests.api.test_statement_count import counting
from tests.service.conftest import make_people
from tests.service.test_sweeper import ACCOUNTS, LINK, T0, D, Env, H

ACCOUNTS_MORE = [*ACCOUNTS, ("rsj", "unit", "RSJ"), ("rsj2", "unit", "RSJ")]


@pytest.fixture
async def env(db: Any, deployment: Deployment) -> Env:
    people = await make_people(deployment, ACCOUNTS_MORE, now=T0)
    # One mistyped address among a unit's staff is skipped, not fatal.
    await User.filter(username="rsj2").update(email="rsj2 at test.example")
    return Env(deployment=deployment, people=people)


async def one_by_one(ids: list[int], event: str, *, now: datetime, link_base: str) -> list[int]:
    """The sweeper's escalation before batches (hotline/services/sweeper.py at 081ab63)."""
    claimed: list[int] = []
    async with in_transaction() as conn:
        for clock_id in ids:
            claim = TicketClock.filter(id=clock_id, is_open=True)
            if event == "breach":
                changed = (
                    await claim.filter(breached=False)
                    .using_db(conn)
                    .update(breached=True, warned=True, state="breached")
                )
            else:
                changed = (
                    await claim.filter(warned=False)
                    .using_db(conn)
                    .update(warned=True, state="warning")
                )
            if changed != 1:
                continue
            clock = await TicketClock.filter(id=clock_id).using_db(conn).get()
            ticket = await Ticket.filter(id=clock.ticket_id).using_db(conn).get()
            await TicketEvent.create(
                using_db=conn,
                ticket_id=ticket.id,
                action=f"sla_{event}",
                actor_name="系统",
                actor_role="system",
                actor_unit_id=None
                if ClockKind(clock.kind).centre_owned or ticket.status == "disputed"
                else ticket.lead_unit_id,
                from_status=ticket.status,
                to_status=ticket.status,
                payload={
                    "clock": clock.kind,
                    "clock_label": clock_name(clock.kind),
                    "due_at": clock.due_at.isoformat() if clock.due_at else None,
                    "generation": clock.generation,
                },
                public=False,
                created_at=now,
            )
            await clock_mail(
                conn, ticket=ticket, clock=clock, event=event, now=now, link_base=link_base
            )
            claimed.append(clock_id)
    return claimed


async def recorded() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every escalation event and mail, in the order written."""
    events = [
        (
            e.ticket_id,
            e.action,
            e.actor_name,
            e.actor_role,
            e.actor_unit_id,
            e.from_status,
            e.to_status,
            e.payload,
            e.public,
            e.created_at,
        )
        for e in await TicketEvent.filter(action__startswith="sla_").order_by("id")
    ]
    mails = [
        (m.to_addrs, *mail_content(m), m.ticket_number, m.reason, m.status)
        for m in await OutboxMessage.filter(reason__in=["warning", "breach"]).order_by("id")
    ]
    return events, mails


async def scenario(env: Env) -> None:
    """Tickets of two units, a disputed one on the centre's clock, a merged one."""
    for i in range(12):
        await env.dispatched(T0 + i * H, title=f"小区电梯故障 {i}")
    rsj = await env.dispatched(T0, title="拖欠工资")
    await env.act(rsj, "redispatch", "op", T0 + H, lead_unit="RSJ")
    disputed = await env.dispatched(T0, title="不属于本单位的问题")
    await env.act(disputed, "reject", "zjj", T0 + H, reason="不属于本单位职责")
    repeat = await env.dispatched(T0, title="重复来电")
    target = await env.dispatched(T0, title="首次来电")
    await env.act(repeat, "merge", "op", T0 + H, into=target.number)


@pytest.mark.backends
async def test_batches_record_the_same_events_and_mails_as_one_at_a_time(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await scenario(env)
    before = [(c.id, c.warned, c.breached, c.state) for c in await TicketClock.all().order_by("id")]
    # Two instants: warnings only, then breaches (and the warnings still due).
    moments = [T0 + 20 * H, T0 + 3 * D, T0 + 8 * D]
    monkeypatch.setattr(escalation, "CHUNK", 5)  # several chunks per sweep
    batched = []
    for now in moments:
        report = await sweep(now=now, link_base=LINK, batch=7)
        batched.append((report.breaches, report.warnings))
    events, mails = await recorded()
    assert len(events) > 20 and len(mails) == len(events)
    assert {e[1] for e in events} == {"sla_warning", "sla_breach"}
    assert any(e[7]["clock"] == "redispatch" and e[4] is None for e in events)

    # Undo, then escalate the same clocks one at a time.
    await TicketEvent.filter(action__startswith="sla_").delete()
    await OutboxMessage.filter(reason__in=["warning", "breach"]).delete()
    for clock_id, warned, breached, state in before:
        await TicketClock.filter(id=clock_id).update(warned=warned, breached=breached, state=state)
    from hotline.services import sweeper

    monkeypatch.setattr(sweeper, "escalate", one_by_one)
    single = []
    for now in moments:
        report = await sweep(now=now, link_base=LINK, batch=7)
        single.append((report.breaches, report.warnings))
    assert batched == single
    ref_events, ref_mails = await recorded()
    assert events == ref_events
    # Message-IDs differ by nature; everything a person reads is the same.
    assert mails == ref_mails


async def test_a_mass_breach_is_claimed_a_chunk_per_statement(env: Env) -> None:
    """Twenty overdue clocks of one chunk: one claim, one event insert, one outbox insert."""
    for i in range(10):
        await env.dispatched(T0, title=f"停水 {i}")
    ids = cast(
        list[int],
        await TicketClock.filter(is_open=True).order_by("id").values_list("id", flat=True),
    )
    with counting() as statements:
        claimed = await escalation.escalate(ids, "breach", now=T0 + 8 * D, link_base=LINK)
    assert claimed == ids and len(ids) == 20
    assert await TicketEvent.filter(action="sla_breach").count() == 20
    assert await OutboxMessage.filter(reason="breach").count() == 20
    # Not ten statements per clock: the claim, three reads (clocks, tickets, units), the
    # unit staff's and the supervisors' addresses and the two bulk inserts, for any count.
    assert len(statements) <= 8, statements
