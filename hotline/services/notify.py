"""Mail caused by ticket actions and clocks, written to the outbox in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.deployment import Deployment
from hotline.lifecycle import Action
from hotline.mail.models import enqueue_mail
from hotline.mail.templates import (
    Deadline,
    TicketInfo,
    render_breach,
    render_dispatch,
    render_warning,
)
from hotline.models import Ticket, TicketClock, Unit, User
from hotline.timefmt import local_text

CLOCK_NAMES = {"receipt": "签收", "mediation": "调解", "feedback": "反馈"}

log = logging.getLogger("hotline.notify")


def ticket_info(ticket: Ticket) -> TicketInfo:
    """What a mail may say about a ticket (no complainant data: mail leaves the system)."""
    summary = ticket.content if len(ticket.content) <= 120 else ticket.content[:120] + "…"
    return TicketInfo(
        number=ticket.number,
        title=ticket.title,
        kind=ticket.kind,
        urgency=ticket.urgency,
        category=ticket.category or "",
        summary=summary,
    )


async def on_action(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
) -> None:
    """Queue the mail an action causes: the unit learns of a new dispatch at once."""
    if action not in (Action.DISPATCH, Action.REDISPATCH):
        return
    codes = [payload["lead_unit"], *payload.get("assisting_units", [])]
    units = await Unit.filter(code__in=codes).using_db(conn)
    clocks = await TicketClock.filter(ticket_id=ticket.id, current=True).using_db(conn)
    deadlines = [
        Deadline(
            clock_name=CLOCK_NAMES.get(c.kind, c.kind),
            due_text=local_text(c.due_at) + ("（暂定）" if c.provisional else ""),
        )
        for c in sorted(clocks, key=lambda c: c.kind != "receipt")
    ]
    for unit in units:
        to = await unit_recipients(conn, unit)
        if not to:
            continue
        mail = render_dispatch(
            ticket=ticket_info(ticket),
            unit_name=unit.name,
            deadlines=deadlines,
            link_base=deployment.public_base_url,
        )
        await enqueue_mail(
            to=to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            ticket_number=ticket.number,
            reason="dispatch",
            now=now,
            using_db=conn,
        )


async def unit_recipients(conn: BaseDBAsyncClient, unit: Unit) -> list[str]:
    """The unit's mailbox and its staff's addresses."""
    staff = await User.filter(unit_id=unit.id, active=True).exclude(email="").using_db(conn)
    addresses = [unit.email] if unit.email else []
    addresses += [u.email for u in staff]
    return _deliverable(addresses)


async def supervisor_recipients(conn: BaseDBAsyncClient) -> list[str]:
    """Every active supervisor with a mail address."""
    rows = await User.filter(role="supervisor", active=True).exclude(email="").using_db(conn)
    return _deliverable(u.email for u in rows)


def _deliverable(addresses: Any) -> list[str]:
    """Distinct usable addresses; a mistyped one is logged and skipped.

    One bad address in a user record must not make the dispatch or the sweeper's
    transaction fail (enqueue_mail refuses it), which would block every other mail too.
    """
    usable: list[str] = []
    for address in dict.fromkeys(a.strip() for a in addresses):
        bare = parseaddr(address)[1]
        local, _, domain = bare.rpartition("@")
        if (
            local
            and domain
            and not any(ch.isspace() for ch in bare)
            and "\n" not in address
            and "\r" not in address
        ):
            usable.append(address)
        else:
            log.warning("跳过无效的邮件地址：%r", address)
    return usable


async def clock_mail(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    clock: TicketClock,
    event: str,
    now: datetime,
    link_base: str,
) -> None:
    """Queue the warning (to the unit) or breach (to the unit and supervisors) mail."""
    unit = (
        await Unit.filter(id=ticket.lead_unit_id).using_db(conn).first()
        if ticket.lead_unit_id
        else None
    )
    to = await unit_recipients(conn, unit) if unit else []
    clock_name = CLOCK_NAMES.get(clock.kind, clock.kind)
    due_text = local_text(clock.due_at)
    info = ticket_info(ticket)
    unit_name = unit.name if unit else "（未派单）"
    if event == "warning":
        mail = render_warning(
            ticket=info,
            unit_name=unit_name,
            clock_name=clock_name,
            due_text=due_text,
            link_base=link_base,
        )
    else:
        to += await supervisor_recipients(conn)
        mail = render_breach(
            ticket=info,
            unit_name=unit_name,
            clock_name=clock_name,
            due_text=due_text,
            link_base=link_base,
        )
    to = list(dict.fromkeys(to))
    if to:
        await enqueue_mail(
            to=to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            ticket_number=ticket.number,
            reason=event,
            now=now,
            using_db=conn,
        )
