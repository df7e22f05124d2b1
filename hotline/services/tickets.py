"""Ticket service: create, act, read, list and track — every change writes one event."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from hotline.auth import Principal
from hotline.deployment import Deployment
from hotline.errors import HotlineError, not_found
from hotline.lifecycle import (
    ACTION_LABELS,
    LEAD_UNIT_ACTIONS,
    OPEN_STATUSES,
    Action,
    Role,
    Status,
    decide,
)
from hotline.models import Ticket, TicketEvent, TicketUnit, Unit
from hotline.schemas import (
    ActionBody,
    AnswerBody,
    CallbackBody,
    DispatchBody,
    ExtensionApproveBody,
    ExtensionRequestBody,
    MediateBody,
    MergeBody,
    ReasonBody,
    ReplyBody,
    TicketCreate,
)
from hotline.services import clocks, notify
from hotline.timefmt import SHANGHAI

# Internal steps a complainant does not see on the tracking page.
PRIVATE_ACTIONS = frozenset(
    {
        Action.REJECT,
        Action.REDISPATCH,
        Action.URGE,
        Action.SUPERVISE,
        Action.REFUSE_EXTENSION,
        Action.MEDIATE,
        "sla_warning",
        "sla_breach",
    }
)
TICKET_RELATIONS = ("lead_unit", "unit_links__unit", "clocks", "merged_into")


@dataclass(frozen=True)
class Actor:
    """Who acts, as written into the event log."""

    user_id: int | None
    name: str
    role: str
    unit_id: int | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor for a signed-in principal."""
        return cls(principal.user_id, principal.display_name, principal.role, principal.unit_id)


SYSTEM = Actor(None, "系统", Role.SYSTEM.value, None)


# ---- create -----------------------------------------------------------------


async def create_ticket(
    *,
    data: TicketCreate,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
) -> Ticket:
    """Record a new ticket with its routing proposal; dispatch at once when confident."""
    from hotline.services.numbering import new_query_code, next_number

    text = f"{data.title}\n{data.content}"
    proposal = deployment.propose(
        text=text, address=data.location.address, kind=data.kind, category=data.category
    )
    category = data.category or proposal.get("category")
    complainant = data.complainant
    async with in_transaction() as conn:
        number = await next_number(conn, now)
        ticket = await Ticket.create(
            using_db=conn,
            number=number,
            query_code=new_query_code(),
            channel=data.channel,
            kind=data.kind,
            urgency=data.urgency,
            category=category,
            title=data.title,
            content=data.content,
            address=data.location.address,
            district=data.location.district,
            street=data.location.street,
            latitude=data.location.latitude,
            longitude=data.location.longitude,
            complainant_name="" if complainant.anonymous else complainant.name,
            complainant_phone=complainant.phone,
            complainant_email=complainant.email,
            complainant_openid=complainant.openid,
            anonymous=complainant.anonymous,
            confidential=complainant.confidential or data.kind == "举报",
            attachments=[a.model_dump() for a in data.attachments],
            status=Status.RECEIVED.value,
            routing=proposal,
            needs_review=bool(proposal.get("needs_review", True)),
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        await _write_event(
            conn,
            ticket=ticket,
            action="create",
            actor=actor,
            from_status=None,
            to_status=Status.RECEIVED.value,
            payload={"channel": data.channel, "category": category},
            now=now,
        )
        lead = proposal.get("lead_unit")
        if auto_dispatch and lead and not ticket.needs_review:
            await _apply(
                conn,
                ticket=ticket,
                action=Action.DISPATCH,
                body=DispatchBody(),
                actor=SYSTEM,
                now=now,
                deployment=deployment,
            )
    return ticket


# ---- actions ----------------------------------------------------------------


async def perform_action(
    *,
    number: str,
    action: str,
    body: ActionBody,
    principal: Principal,
    now: datetime,
    deployment: Deployment,
) -> Ticket:
    """Apply one lifecycle action for a signed-in user; refuse with 403/404/409/422."""
    act = Action(action)
    ticket = await visible_ticket(number=number, principal=principal)
    async with in_transaction() as conn:
        await _apply(
            conn,
            ticket=ticket,
            action=act,
            body=body,
            actor=Actor.of(principal),
            now=now,
            deployment=deployment,
        )
    return ticket


async def _apply(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
) -> None:
    """Check the table, change the ticket only if nobody changed it meanwhile, log it."""
    status = Status(ticket.status)
    new_status = decide(status, action, Role(actor.role))
    if (
        actor.role == Role.UNIT
        and action in LEAD_UNIT_ACTIONS
        and ticket.lead_unit_id != actor.unit_id
    ):
        raise HotlineError(
            f"只有主办单位可以{ACTION_LABELS[action]}", status=403, code="not_lead_unit"
        )
    if body.expected_version is not None and body.expected_version != ticket.version:
        raise _conflict()
    updates, payload = await _prepare(conn, ticket, action, body, now=now, deployment=deployment)
    if body.note:
        payload["note"] = body.note
    changed = await (
        Ticket.filter(id=ticket.id, version=ticket.version)
        .using_db(conn)
        .update(status=new_status.value, version=ticket.version + 1, updated_at=now, **updates)
    )
    if changed != 1:
        raise _conflict()
    ticket.status = new_status.value
    ticket.version += 1
    ticket.updated_at = now
    for key, value in updates.items():
        setattr(ticket, key, value)
    if action in (Action.DISPATCH, Action.REDISPATCH):
        await _link_units(conn, ticket=ticket, payload=payload, now=now)
    await _write_event(
        conn,
        ticket=ticket,
        action=action.value,
        actor=actor,
        from_status=status.value,
        to_status=new_status.value,
        payload=payload,
        now=now,
    )
    await clocks.on_action(
        conn, ticket=ticket, action=action, payload=payload, now=now, deployment=deployment
    )
    await notify.on_action(
        conn, ticket=ticket, action=action, payload=payload, now=now, deployment=deployment
    )


def _conflict() -> HotlineError:
    return HotlineError("工单已被他人更新，请刷新后重试", status=409, code="version_conflict")


async def _prepare(
    conn: BaseDBAsyncClient,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    *,
    now: datetime,
    deployment: Deployment,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate what needs the database; return column updates and the event payload."""
    updates: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    if isinstance(body, DispatchBody):
        routing = ticket.routing or {}
        lead_code = body.lead_unit or (
            None if action == Action.REDISPATCH else routing.get("lead_unit")
        )
        if not lead_code:
            raise HotlineError(
                "请指定主办单位（lead_unit）"
                if action == Action.DISPATCH
                else "改派必须指定新的主办单位（lead_unit）",
                status=422,
                code="lead_unit_required",
            )
        assisting = list(body.assisting_units)
        if not body.lead_unit and action == Action.DISPATCH:
            assisting = assisting or list(routing.get("assisting_units") or [])
        if lead_code in assisting:
            raise HotlineError("主办单位不能同时是协办单位", status=422, code="invalid_units")
        units = await _units_by_code([lead_code, *assisting])
        lead = units[lead_code]
        if action == Action.REDISPATCH and lead.id == ticket.lead_unit_id and not assisting:
            raise HotlineError("改派必须派给其他单位", status=422, code="same_unit")
        updates["lead_unit_id"] = lead.id
        updates["needs_review"] = False
        if body.category:
            updates["category"] = body.category
        payload.update(
            lead_unit=lead_code,
            assisting_units=assisting,
            previous_unit=await _unit_code(ticket.lead_unit_id),
            category=body.category or ticket.category,
        )
    elif isinstance(body, ExtensionRequestBody):
        payload.update(reason=body.reason, days=body.days)
    elif isinstance(body, ExtensionApproveBody):
        requested = await _requested_extension_days(ticket)
        days = body.days or requested
        if body.days and body.days > requested:
            raise HotlineError(
                f"批准的延期天数不能超过申请的 {requested} 个工作日",
                status=422,
                code="too_many_days",
            )
        payload["days"] = days
    elif isinstance(body, ReasonBody):
        payload["reason"] = body.reason
    elif isinstance(body, MediateBody):
        payload.update(outcome=body.outcome, text=body.text)
    elif isinstance(body, ReplyBody):
        updates["result"] = body.result
        payload.update(result=body.result, text=body.text, contacted=body.contacted)
    elif isinstance(body, CallbackBody):
        updates["satisfaction"] = body.satisfaction
        payload.update(contacted=body.contacted, satisfaction=body.satisfaction, solved=body.solved)
    elif isinstance(body, MergeBody):
        target = await Ticket.filter(number=body.into).using_db(conn).first()
        if target is None:
            raise HotlineError(
                f"要并入的工单 {body.into} 不存在", status=422, code="unknown_ticket"
            )
        if target.id == ticket.id:
            raise HotlineError("不能并入自身", status=422, code="merge_self")
        # Lock both tickets (in id order, so opposite merges cannot deadlock) and read the
        # target again under the lock: two operators merging a pair into each other at
        # the same moment must not leave both merged and the matter open nowhere.
        locked = (
            await Ticket.filter(id__in=[ticket.id, target.id])
            .order_by("id")
            .select_for_update()
            .using_db(conn)
        )
        target = next(t for t in locked if t.id == target.id)
        if Status(target.status) not in OPEN_STATUSES:
            raise HotlineError(
                f"工单 {body.into} 已办结或已并单，不能并入", status=422, code="merge_target_closed"
            )
        updates["merged_into_id"] = target.id
        updates["closed_at"] = now
        payload["into"] = body.into
    elif isinstance(body, AnswerBody):
        updates["result"] = "solved"
        updates["closed_at"] = now
        payload["text"] = body.text
    if action == Action.CLOSE:
        updates["closed_at"] = now
    if action == Action.REOPEN:
        updates.update(result=None, satisfaction=None, closed_at=None)
    return updates, payload


async def _units_by_code(codes: list[str]) -> dict[str, Unit]:
    units = {u.code: u for u in await Unit.filter(code__in=codes, active=True)}
    missing = [c for c in codes if c not in units]
    if missing:
        raise HotlineError(f"单位代码不存在：{'、'.join(missing)}", status=422, code="unknown_unit")
    return units


async def _unit_code(unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = await Unit.get_or_none(id=unit_id)
    return unit.code if unit else None


async def _requested_extension_days(ticket: Ticket) -> int:
    event = (
        await TicketEvent.filter(ticket_id=ticket.id, action=Action.REQUEST_EXTENSION.value)
        .order_by("-id")
        .first()
    )
    return int(event.payload.get("days", 1)) if event else 1


async def _link_units(
    conn: BaseDBAsyncClient, *, ticket: Ticket, payload: dict[str, Any], now: datetime
) -> None:
    """Replace the ticket's active unit links with the new lead and assisting units."""
    await TicketUnit.filter(ticket_id=ticket.id, active=True).using_db(conn).update(active=False)
    units = await _units_by_code([payload["lead_unit"], *payload["assisting_units"]])
    await TicketUnit.create(
        using_db=conn,
        ticket_id=ticket.id,
        unit=units[payload["lead_unit"]],
        role="lead",
        created_at=now,
    )
    for code in payload["assisting_units"]:
        await TicketUnit.create(
            using_db=conn, ticket_id=ticket.id, unit=units[code], role="assist", created_at=now
        )


async def _write_event(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    now: datetime,
) -> TicketEvent:
    """Append one row to the event log."""
    return await TicketEvent.create(
        using_db=conn,
        ticket_id=ticket.id,
        action=action,
        actor_id=actor.user_id,
        actor_name=actor.name,
        actor_role=actor.role,
        actor_unit_id=actor.unit_id,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
        public=action not in PRIVATE_ACTIONS,
        created_at=now,
    )


# ---- read -------------------------------------------------------------------


def _scope(principal: Principal) -> Q:
    """Unit staff see only tickets their unit currently holds (lead or assisting)."""
    if principal.role == Role.UNIT:
        return Q(unit_links__unit_id=principal.unit_id, unit_links__active=True)
    return Q()


async def visible_ticket(*, number: str, principal: Principal) -> Ticket:
    """The ticket if this user may see it; 404 alike for missing and not theirs."""
    ticket = (
        await Ticket.filter(_scope(principal), number=number)
        .distinct()
        .prefetch_related(*TICKET_RELATIONS)
        .first()
    )
    if ticket is None:
        raise not_found()
    return ticket


@dataclass(frozen=True)
class TicketFilter:
    """List filters from the query string."""

    status: list[str] | None = None
    unit: str | None = None
    kind: str | None = None
    category: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    overdue: bool | None = None
    needs_review: bool | None = None
    phone: str | None = None
    q: str | None = None


async def list_tickets(
    *, principal: Principal, filters: TicketFilter, page: int, per_page: int, now: datetime
) -> tuple[list[Ticket], int]:
    """One page of the tickets this user may see, newest first, and the total."""
    query = Ticket.filter(_scope(principal))
    if filters.status:
        query = query.filter(status__in=filters.status)
    if filters.unit:
        query = query.filter(lead_unit__code=filters.unit)
    if filters.kind:
        query = query.filter(kind=filters.kind)
    if filters.category:
        query = query.filter(category=filters.category)
    if filters.created_from:
        query = query.filter(created_at__gte=local_midnight(filters.created_from))
    if filters.created_to:
        query = query.filter(created_at__lt=local_midnight(filters.created_to + timedelta(days=1)))
    if filters.needs_review is not None:
        query = query.filter(needs_review=filters.needs_review)
    if filters.phone and principal.role == Role.OPERATOR:
        query = query.filter(complainant_phone=filters.phone)
    if filters.q:
        query = query.filter(Q(number=filters.q) | Q(title__icontains=filters.q))
    if filters.overdue is True:
        query = query.filter(next_due_at__lt=now)
    elif filters.overdue is False:
        query = query.filter(Q(next_due_at__isnull=True) | Q(next_due_at__gte=now))
    query = query.distinct()
    total = await query.count()
    items = (
        await query.order_by("-created_at", "-id")
        .offset((page - 1) * per_page)
        .limit(per_page)
        .prefetch_related(*TICKET_RELATIONS)
    )
    return list(items), total


def local_midnight(day: date) -> datetime:
    """The start of a local (Asia/Shanghai) day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


async def timeline(ticket: Ticket, *, public_only: bool = False) -> list[TicketEvent]:
    """The ticket's events in the order they happened."""
    query = TicketEvent.filter(ticket_id=ticket.id)
    if public_only:
        query = query.filter(public=True)
    return list(await query.order_by("id").prefetch_related("actor_unit"))


async def track_ticket(*, number: str, code: str) -> Ticket:
    """The ticket for the public tracking page; a wrong code is the same 404 as no ticket."""
    ticket = await Ticket.get_or_none(number=number).prefetch_related(*TICKET_RELATIONS)
    expected = ticket.query_code if ticket else "xxxxxx"
    if not hmac.compare_digest(expected.encode(), code.strip().upper().encode()) or ticket is None:
        raise not_found()
    return ticket
