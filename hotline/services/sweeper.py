"""The sweeper: finds clocks past their warning point or due time and escalates exactly once.

Each clock row carries `warned` and `breached` flags. A sweeper claims a clock with a
conditional UPDATE (`… WHERE id = ? AND warned = false`) inside the same transaction that
writes the event and queues the mail, so with several sweepers (or after a crash
mid-sweep) each warning and each breach is recorded once and only once.

This is I/O (database, outbox), so it lives in hotline/; the deadline arithmetic it relies
on stays pure in sla/ (`sla.clock`), which imports nothing of hotline/.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from hotline.domain.models import JobRun, Ticket, TicketClock, TicketEvent, Unit
from hotline.domain.timefmt import SHANGHAI, local_day, local_text
from hotline.domain.vocabulary import Status
from hotline.mail.outbox import enqueue_mail
from hotline.mail.templates import OverdueItem, UnitOverdue, render_digest
from hotline.outbox.backlog import backlog
from hotline.runtime.periodic import run_every
from hotline.services.notify import clock_mail, clock_name, supervisor_recipients, ticket_info
from sla.clock import ClockKind, overdue_text

log = logging.getLogger("hotline.sweeper")


@dataclass
class SweepReport:
    """What one sweep did."""

    warnings: list[int] = field(default_factory=list)
    breaches: list[int] = field(default_factory=list)
    digest_sent: bool = False


async def sweep(*, now: datetime, link_base: str, batch: int = 200) -> SweepReport:
    """Record every due breach, then every due warning, each exactly once."""
    report = SweepReport()
    while True:
        ids = (
            await TicketClock.filter(is_open=True, breached=False, due_at__lte=now)
            .exclude(state="paused")
            .order_by("due_at", "id")
            .limit(batch)
            .values_list("id", flat=True)
        )
        done = await _escalate(cast(list[int], ids), "breach", now=now, link_base=link_base)
        report.breaches += done
        if len(ids) < batch:
            break
    while True:
        ids = (
            await TicketClock.filter(is_open=True, warned=False, warn_at__lte=now, due_at__gt=now)
            .exclude(state="paused")
            .order_by("warn_at", "id")
            .limit(batch)
            .values_list("id", flat=True)
        )
        done = await _escalate(cast(list[int], ids), "warning", now=now, link_base=link_base)
        report.warnings += done
        if len(ids) < batch:
            break
    return report


async def _escalate(ids: list[int], event: str, *, now: datetime, link_base: str) -> list[int]:
    """Claim each clock with a conditional update and record its event and mail."""
    if not ids:
        return []
    claimed: list[int] = []
    async with in_transaction() as conn:
        for clock_id in ids:
            # Re-check `is_open` in the claim: a re-dispatch or merge may have retired the
            # clock since it was selected, and a retired clock must not be escalated.
            claim = TicketClock.filter(id=clock_id, is_open=True)
            if event == "breach":
                # A breach found before its warning was sent counts as both: no late warning.
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
                continue  # another sweeper got there first
            clock = await TicketClock.filter(id=clock_id).using_db(conn).get()
            ticket = await Ticket.filter(id=clock.ticket_id).using_db(conn).get()
            await TicketEvent.create(
                using_db=conn,
                ticket_id=ticket.id,
                action=f"sla_{event}",
                actor_name="系统",
                actor_role="system",
                # The centre's own clock (改派) is nobody's unit's lateness, nor is anything
                # late while a 退单 waits for the centre to re-dispatch.
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


async def send_daily_digest(*, now: datetime, link_base: str, hour: int = 8) -> bool:
    """Once per local day after `hour`: mail supervisors the overdue tickets per unit."""
    local = now.astimezone(SHANGHAI)
    if local.hour < hour:
        return False
    day = local_day(now)
    try:
        async with in_transaction() as conn:
            await JobRun.create(using_db=conn, name="digest", day=day, created_at=now)
            to = await supervisor_recipients(conn)
            overdue = (
                await TicketClock.filter(is_open=True, due_at__lt=now)
                .using_db(conn)
                .order_by("due_at")
            )
            by_unit: dict[int | None, list[OverdueItem]] = {}
            tickets = {
                t.id: t
                for t in await Ticket.filter(id__in=[c.ticket_id for c in overdue]).using_db(conn)
            }
            for clock in overdue:
                ticket = tickets[clock.ticket_id]
                # The centre's own clocks (改派, 审批) and 退单待改派 are nobody's unit's lateness.
                centre = ClockKind(clock.kind).centre_owned
                owner = (
                    None
                    if centre or ticket.status == Status.DISPUTED.value
                    else ticket.lead_unit_id
                )
                by_unit.setdefault(owner, []).append(
                    OverdueItem(
                        number=ticket.number,
                        # Mail leaves the system: a 举报 shows its confirmed title only.
                        title=ticket_info(ticket).title,
                        clock_name=clock_name(clock.kind),
                        due_text=local_text(clock.due_at),
                        overdue_text=overdue_text(now - (clock.due_at or now)),
                    )
                )
            units = {
                u.id: u
                for u in await Unit.filter(id__in=[k for k in by_unit if k is not None]).using_db(
                    conn
                )
            }
            groups = [
                UnitOverdue(
                    unit_name=units[k].name
                    if k in units
                    else "12345热线中心（未派单、退单待改派、审批）",
                    items=items,
                )
                for k, items in sorted(by_unit.items(), key=lambda kv: -len(kv[1]))
            ]
            if to:
                mail = render_digest(
                    date_text=local.strftime("%Y年%m月%d日"),
                    as_of_text=local.strftime("%H:%M"),
                    units=groups,
                    link_base=link_base,
                    backlog=await backlog("mail", now=now, using_db=conn),
                )
                await enqueue_mail(
                    to=to,
                    subject=mail.subject,
                    text=mail.text,
                    html=mail.html,
                    ticket_number=None,
                    reason="digest",
                    now=now,
                    using_db=conn,
                )
    except IntegrityError:
        return False  # another worker already sent today's digest
    return True


async def run_sweeper(
    *, interval: float, stop: asyncio.Event, link_base: str, clock: object = None
) -> None:
    """Sweep every `interval` seconds until `stop` is set; errors are logged, not fatal."""
    from hotline.domain.timefmt import utcnow

    now_fn = clock if callable(clock) else utcnow

    async def once() -> None:
        now = now_fn()
        report = await sweep(now=now, link_base=link_base)
        if report.warnings or report.breaches:
            log.info("sweep: %d warnings, %d breaches", len(report.warnings), len(report.breaches))
        await send_daily_digest(now=now, link_base=link_base)

    await run_every(once, interval=interval, stop=stop, name="sweep", log=log)
