"""Mail caused by ticket actions and clocks, written to the outbox in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.lifecycle import Mail
from hotline.domain.models import Ticket, TicketClock, Unit, User
from hotline.domain.timefmt import local_text
from hotline.domain.vocabulary import Status
from hotline.mail.outbox import mail_values, new_mail
from hotline.mail.templates import (
    Deadline,
    TicketInfo,
    clock_params,
    clock_subject,
    dispatch_params,
    dispatch_subject,
    subdispatch_params,
    subdispatch_subject,
)
from hotline.outbox.models import OutboxMessage
from hotline.privacy.confirmed import TicketWords, unit_text, unit_text_of
from hotline.runtime.deployment import Deployment
from hotline.services.staff_mail import staff_addresses
from hotline.services.units import unit_directory
from sla.clock import ClockKind

# Builds the unsaved mail rows of an action; the caller inserts them with its other outbox
# rows in one statement (hotline.services.tickets._write).
Mailer = Callable[..., Awaitable[list[OutboxMessage]]]

log = logging.getLogger("hotline.notify")


def ticket_info(ticket: Ticket) -> TicketInfo:
    """What a mail may say about a ticket: what its units read (mail leaves the system).

    Of a 举报 or confidential ticket that is the text a person at the centre confirmed.
    """
    seen = unit_text_of(ticket)
    text = seen.text
    summary = text if len(text) <= 120 else text[:120] + "…"
    return TicketInfo(
        number=ticket.number,
        title=seen.title,
        kind=ticket.kind,
        urgency=ticket.urgency,
        category=ticket.category or "",
        summary=summary,
    )


def mail_title(ticket: TicketWords) -> str:
    """The title a mail may show: `ticket_info(ticket).title`, without masking the content
    (the digest lists thousands of titles and no text)."""
    return unit_text(
        kind=ticket.kind,
        confidential=ticket.confidential,
        title=ticket.title,
        content="",
        complainant_name=ticket.complainant_name,
        dispatch_title=ticket.dispatch_title,
        dispatch_text="",
        confirmed=ticket.dispatch_confirmed_at is not None,
    ).title


def clock_name(kind: str) -> str:
    """A clock's Chinese name (签收 / 调解 / 反馈)."""
    try:
        return ClockKind(kind).label
    except ValueError:
        return kind


async def mail_dispatch(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    payload: dict[str, Any],
    clocks: list[TicketClock],
    now: datetime,
    deployment: Deployment,
) -> list[OutboxMessage]:
    """The lead and assisting units learn of a new dispatch at once, with its deadlines.

    Returns the unsaved rows: the caller inserts them in its transaction.
    """
    directory = await unit_directory()
    codes = [payload["lead_unit"], *payload.get("assisting_units", [])]
    order = {ClockKind.RECEIPT.value: 0}
    deadlines = [
        Deadline(
            clock_name=clock_name(c.kind),
            due_text=local_text(c.due_at) + ("（暂定）" if c.provisional else ""),
        )
        for c in sorted(
            (c for c in clocks if c.current and c.is_open), key=lambda c: order.get(c.kind, 1)
        )
    ]
    units = [u for code in codes if (u := directory.get(code)) is not None]
    staff = await staff_addresses(conn, [u.id for u in units])
    info = ticket_info(ticket)
    mails = []
    for unit in units:
        to = deliverable([*([unit.email] if unit.email else []), *staff[unit.id]])
        if not to:
            continue
        # Rendered by the sender from these values: no template work inside the request.
        mails.append(
            new_mail(
                to=to,
                subject=dispatch_subject(info),
                text="",
                html=None,
                template="dispatch",
                params=dispatch_params(
                    ticket=info,
                    unit_name=unit.name,
                    deadlines=deadlines,
                    link_base=deployment.public_base_url,
                ),
                ticket_number=ticket.number,
                reason="dispatch",
                now=now,
            )
        )
    return mails


async def mail_subdispatch(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    payload: dict[str, Any],
    now: datetime,
    deployment: Deployment,
    **_: Any,
) -> list[OutboxMessage]:
    """The descendant learns at once that a ticket was passed down to it, with its deadline."""
    directory = await unit_directory()
    unit = directory.get(payload["unit"])
    parent = next((u for u in directory.values() if u.id == ticket.lead_unit_id), None)
    if unit is None:
        return []
    to = await unit_recipients(conn, unit)
    if not to:
        return []
    due = payload.get("due_at")
    info = ticket_info(ticket)
    return [
        new_mail(
            to=to,
            subject=subdispatch_subject(info),
            text="",
            html=None,
            template="subdispatch",
            params=subdispatch_params(
                ticket=info,
                unit_name=unit.name,
                parent_name=parent.name if parent else "上级单位",
                due_text=local_text(datetime.fromisoformat(due)) if due else "—",
                link_base=deployment.public_base_url,
            ),
            ticket_number=ticket.number,
            reason="subdispatch",
            now=now,
        )
    ]


MAILERS: dict[Mail, Mailer] = {Mail.DISPATCH: mail_dispatch, Mail.SUBDISPATCH: mail_subdispatch}


async def unit_recipients(conn: BaseDBAsyncClient, unit: Unit) -> list[str]:
    """The unit's mailbox and its staff's addresses."""
    staff = await User.filter(unit_id=unit.id, active=True).exclude(email="").using_db(conn)
    addresses = [unit.email] if unit.email else []
    return deliverable([*addresses, *(u.email for u in staff)])


async def supervisor_recipients(conn: BaseDBAsyncClient) -> list[str]:
    """Every active supervisor with a mail address."""
    rows = await User.filter(role="supervisor", active=True).exclude(email="").using_db(conn)
    return deliverable(u.email for u in rows)


async def operator_recipients(conn: BaseDBAsyncClient) -> list[str]:
    """Every active operator with a mail address (they make the callbacks)."""
    rows = await User.filter(role="operator", active=True).exclude(email="").using_db(conn)
    return deliverable(u.email for u in rows)


def deliverable(addresses: Any) -> list[str]:
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
    """Queue the warning (to the unit) or breach (to the unit and supervisors) mail.

        The centre's own clocks (改派, 审批) are the centre's lateness: their mail goes to
        supervisors only, never to the unit that disputed the dispatch or made the request.
    (The sweeper escalates in batches
        through `hotline.services.escalation`, which picks the same recipients.)
    """
    # The centre's own clocks (改派, 审批), and 退单待改派 whatever clock runs: the ticket
    # waits on the centre, not on the unit that disputed it.
    centre = ClockKind(clock.kind).centre_owned or ticket.status == Status.DISPUTED.value
    unit = (
        await Unit.filter(id=ticket.lead_unit_id).using_db(conn).first()
        if ticket.lead_unit_id and not centre
        else None
    )
    to = await unit_recipients(conn, unit) if unit else []
    if centre:
        to += await supervisor_recipients(conn)
    if clock.kind == ClockKind.CALLBACK.value:
        to += await operator_recipients(conn)  # the callback is the operators' own work
    if event != "warning":
        to += await supervisor_recipients(conn)
    mail = clock_mail_row(
        ticket=ticket,
        clock=clock,
        unit=unit,
        to=list(dict.fromkeys(to)),
        event=event,
        now=now,
        link_base=link_base,
    )
    if mail is not None:
        await mail.save(using_db=conn)


def clock_mail_row(
    *,
    ticket: Ticket,
    clock: TicketClock,
    unit: Unit | None,
    to: list[str],
    event: str,
    now: datetime,
    link_base: str,
) -> OutboxMessage | None:
    """The unsaved warning or breach mail of one clock to `to` (None when nobody to tell)."""
    values = clock_mail_values(
        ticket=ticket, clock=clock, unit=unit, to=to, event=event, now=now, link_base=link_base
    )
    return OutboxMessage(**values) if values is not None else None


def clock_mail_values(
    *,
    ticket: Ticket,
    clock: TicketClock,
    unit: Unit | None,
    to: list[str],
    event: str,
    now: datetime,
    link_base: str,
) -> dict[str, Any] | None:
    """`clock_mail_row`'s column values (the sweeper inserts a chunk's with one statement)."""
    if not to:
        return None
    centre = ClockKind(clock.kind).centre_owned
    name = clock_name(clock.kind)
    due_text = local_text(clock.due_at)
    unit_name = "12345热线中心" if centre else (unit.name if unit else "（未派单）")
    # Rendered by the sender from these values (hotline.mail.outbox.mail_content).
    return mail_values(
        to=to,
        subject=clock_subject(event, number=ticket.number, clock_name=name, due_text=due_text),
        text="",
        html=None,
        template=event,
        params=clock_params(
            ticket=ticket_info(ticket),
            unit_name=unit_name,
            clock_name=name,
            due_text=due_text,
            link_base=link_base,
            centre=centre,
        ),
        ticket_number=ticket.number,
        reason=event,
        now=now,
    )
