"""The 疑似重复 queue: every channel's new ticket is screened; a likely repeat is not dispatched.

`screen` runs before a ticket is written (so the decision to auto-dispatch can still change),
`hold` after it: the ticket stays 待派单 with a `SimilarHold` naming the open tickets it
resembled. The operator then merges it (the ordinary 并单 action) or releases it (不是重复),
which dispatches it as auto-dispatch would have. A hold whose ticket left 待派单 any other way
(merged, dispatched from its page or the API) simply drops out of the queue.

Held tickets are not listed in 待派单, whose 「按建议派单」 would send a likely repeat to a
unit without its candidates in view. A dispatch from the ticket's page or the API is allowed
and ends the hold: there an operator chose the unit on purpose (the API has no other way to
let a held ticket go, and 「不是重复」 can only follow the router's proposal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError, not_found
from hotline.domain.lifecycle import Action, Status
from hotline.domain.models import SimilarHold, Ticket
from hotline.domain.schemas import TICKET_NUMBER_PATTERN, DispatchBody, TicketCreate
from hotline.privacy.confirmed import needs_confirmation
from hotline.runtime.deployment import Deployment
from hotline.services import similar
from hotline.services.rate_sql import placeholders

HOLD_DAYS = timedelta(days=90)


@dataclass(frozen=True)
class Screen:
    """A new ticket's repeat screen, prepared before it is written: `read` (SQL with `?`
    placeholders and its values) goes to the database with the trip that takes the ticket's
    number (`hotline.services.one_trip`); `held` scores the rows it returns."""

    scorer: similar.Scorer
    profile: Any
    read: tuple[str, list[Any]] | None

    def held(self, rows: Iterable[Mapping[str, Any]]) -> list[Any]:
        """The open tickets the new one very probably repeats (score ≥ hold_threshold)."""
        found = similar.rank(self.scorer, self.profile, similar.candidates_of(rows))
        return [f for f in found if f.score >= self.scorer.rules.hold_threshold]


def prepare(*, data: TicketCreate, deployment: Deployment, now: datetime) -> Screen | None:
    """The screen of a new ticket, None when the deployment screens no new tickets."""
    s = similar.scorer(deployment)
    rules = s.rules
    if not rules.screen_new:
        return None
    text = f"{data.title}\n{data.content}"
    district, street = data.location.district, data.location.street
    if not district and not street:
        district, street = similar.place_of(deployment, text, data.location.address)
    probe = similar.Probe(
        text=data.content,
        title=data.title,
        address=data.location.address,
        district=district,
        street=street,
        phone=data.complainant.phone,
    )
    # As `similar.find_similar` profiles a probe for the centre (phone included).
    p = s.profile(
        text=probe.text,
        title=probe.title,
        address=probe.address,
        district=probe.district,
        street=probe.street,
        phone=probe.phone,
    )
    since = now - timedelta(days=rules.window_days)
    return Screen(s, p, similar.staff_read(probe, p, since=since, rules=rules))


async def screen(*, data: TicketCreate, deployment: Deployment, now: datetime) -> list[Any]:
    """The open tickets a new ticket very probably repeats, read on their own (intake sends
    the read with its trip instead)."""
    prepared = prepare(data=data, deployment=deployment, now=now)
    if prepared is None or prepared.read is None:
        return []
    conn = Ticket._meta.db
    sql, params = prepared.read
    _, rows = await conn.execute_query(placeholders(conn.capabilities.dialect, sql), params)
    return prepared.held(rows)


async def hold(conn: BaseDBAsyncClient, *, ticket: Ticket, held: list[Any], now: datetime) -> None:
    """Record the hold of a new ticket that `screen` found to be a likely repeat, through
    `conn` (intake's one trip: the hold is written and committed with the ticket)."""
    if held and ticket.status == Status.RECEIVED.value:
        await SimilarHold(
            ticket_id=ticket.id, candidates=similar.as_dicts(held), created_at=now
        ).save(using_db=conn)


async def is_held(ticket_id: int) -> bool:
    """Whether the ticket waits in 疑似重复."""
    return await SimilarHold.exists(ticket_id=ticket_id, released_at=None)


@dataclass(frozen=True)
class Held:
    """One ticket waiting in 疑似重复, with the tickets it resembled."""

    ticket: Ticket
    candidates: list[dict[str, Any]]
    held_at: datetime


async def held_ids(*, now: datetime) -> list[int]:
    """Ids of the held tickets still 待派单 (what the 待派单 queue leaves out)."""
    held = await SimilarHold.filter(released_at=None, created_at__gte=now - HOLD_DAYS).values_list(
        "ticket_id", flat=True
    )
    if not held:
        return []
    return list(
        await Ticket.filter(id__in=list(held), status=Status.RECEIVED.value).values_list(
            "id", flat=True
        )
    )


async def held_tickets(*, now: datetime, limit: int = 30) -> tuple[list[Held], int]:
    """Held tickets still 待派单, oldest first, and how many there are.

    A hold whose ticket was merged or dispatched from its own page stays unreleased: only
    holds whose ticket is still 待派单 count, of the last `HOLD_DAYS` (older ones are long
    past every deadline and shown in 待派单 and the overdue lists anyway).
    """
    held = dict(
        await SimilarHold.filter(released_at=None, created_at__gte=now - HOLD_DAYS)
        .order_by("id")
        .values_list("ticket_id", "id")
    )
    waiting = await Ticket.filter(id__in=list(held), status=Status.RECEIVED.value).values_list(
        "id", flat=True
    )
    ids = sorted(waiting, key=lambda i: held[i])
    holds = {h.ticket_id: h for h in await SimilarHold.filter(ticket_id__in=ids[:limit])}
    tickets = await Ticket.filter(id__in=ids[:limit]).prefetch_related(
        "unit_links", "clocks", "merged_into"
    )
    tickets.sort(key=lambda t: held[t.id])
    return [Held(t, list(holds[t.id].candidates), holds[t.id].created_at) for t in tickets], len(
        ids
    )


async def release(
    *,
    number: str,
    principal: Principal,
    deployment: Deployment,
    now: datetime,
    auto_dispatch: bool,
) -> str:
    """不是重复: the hold ends and the ticket is dispatched as auto-dispatch would have.

    Returns what became of it, in words for the operator.
    """
    from hotline.services import tickets as ticket_service

    # A number of the wrong shape (an edited URL) is no ticket, not a database error.
    ticket = (
        await Ticket.get_or_none(number=number)
        if re.fullmatch(TICKET_NUMBER_PATTERN, number)
        else None
    )
    if ticket is None:
        raise not_found(f"工单 {number} ")
    row = await SimilarHold.get_or_none(ticket_id=ticket.id, released_at=None)
    if row is None or ticket.status != Status.RECEIVED.value:
        raise HotlineError(
            f"工单 {number} 不在疑似重复队列中（可能已由他人处理），请刷新页面",
            status=409,
            code="not_held",
        )
    row.released_at = now
    row.released_by = principal.display_name
    await row.save(update_fields=["released_at", "released_by"])
    routing = ticket.routing or {}
    confident = routing.get("lead_unit") and not ticket.needs_review
    if needs_confirmation(kind=ticket.kind, confidential=ticket.confidential):
        return "已确认不是重复。这是举报件或保密件：请打开工单核对转办内容，确认后再派单。"
    if auto_dispatch and confident:
        await ticket_service.perform_action(
            number=number,
            action=Action.DISPATCH.value,
            body=DispatchBody(expected_version=ticket.version),
            principal=principal,
            now=now,
            deployment=deployment,
        )
        return "已确认不是重复，并已按系统建议派单。"
    return "已确认不是重复，工单在「待派单」中等待核对派单。"
