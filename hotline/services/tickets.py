"""Ticket service: create, act, read, list and track — every change writes one event.

What an action does is read from its declaration in `hotline.domain.lifecycle.ACTIONS`; this
module only loads rows, asks the declaration's parts (body, database step, clock effects,
mail) and writes the result in as few statements as it can.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError, not_found
from hotline.domain.fulltext import Query
from hotline.domain.hierarchy import (
    OPEN_SUB_STATES,
    SUB_STATE_LABELS,
    Party,
    SubState,
    may_pass_down,
    sub_stages,
)
from hotline.domain.lifecycle import (
    ACTIONS,
    LEAD_UNIT_ACTIONS,
    Action,
    ActionSpec,
    Role,
    Sms,
    Status,
    decide,
    event_public,
)
from hotline.domain.models import Ticket, TicketClock, TicketEvent, TicketUnit
from hotline.domain.schemas import TICKET_NUMBER_PATTERN, ActionBody, DispatchBody, TicketCreate
from hotline.domain.timefmt import SHANGHAI
from hotline.outbox.models import OutboxMessage
from hotline.privacy.confirmed import (
    CONFIRM_FIRST,
    EDIT_BY_CONFIRMING,
    needs_confirmation,
    proposed_text,
)
from hotline.privacy.rules import (
    is_confidential,
    no_contact_applies,
)
from hotline.runtime.deployment import Deployment
from hotline.services import one_trip, repeat_holds, ticket_search, worklist
from hotline.services.idempotency import Retry, earlier_result, remember
from hotline.services.notify import MAILERS
from hotline.services.rate_rows import refresh_ticket_rates
from hotline.services.sla_engine import ClockChange, write_clocks
from hotline.services.steps import STEPS, StepResult
from hotline.services.texts import citizen_messages, sms_row

TICKET_RELATIONS = ("unit_links", "clocks", "merged_into")
NO_CONTACT_REFUSED = (
    "该举报人要求不被联系，不能记录为已联系；请记为未联系（不勾选「已联系上市民」，不填满意度）"
)


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


@dataclass
class TicketRecord:
    """A ticket with the rows its presentation needs, as read or as just written."""

    ticket: Ticket
    clocks: list[TicketClock]
    links: list[TicketUnit]
    merged_into: str | None = None
    events: list[TicketEvent] | None = None
    replayed: bool = False  # the answer to a retried request (same Idempotency-Key)

    def active_unit_ids(self) -> set[int]:
        """Units that hold the ticket now (lead and assisting)."""
        return {link.unit_id for link in self.links if link.active}


def record_of(ticket: Ticket) -> TicketRecord:
    """The record of a ticket read with TICKET_RELATIONS prefetched."""
    return TicketRecord(
        ticket=ticket,
        clocks=list(ticket.clocks),
        links=list(ticket.unit_links),
        merged_into=ticket.merged_into.number if ticket.merged_into else None,
    )


@dataclass
class Outcome:
    """One action decided and planned, ready to be written."""

    action: Action
    from_status: Status
    to_status: Status
    updates: dict[str, Any]
    payload: dict[str, Any]
    links: list[tuple[int, str]] | None = None
    clocks: ClockChange | None = None
    extra_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    relinked: bool = False  # the step changed unit link rows (协办意见, 下派)
    # The declaration as it applied (a reviewed kind's reply goes to the centre first).
    spec: ActionSpec | None = None


# ---- create -----------------------------------------------------------------


async def create_ticket(
    *,
    data: TicketCreate,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
    retry: Retry | None = None,
    photos: list[str] | None = None,
) -> TicketRecord:
    """Record a new ticket with its routing proposal; dispatch at once when confident.

    With `retry` (an Idempotency-Key), a repeat of a finished request returns its ticket.
    `photos` are the stored names of photos already on disk, one per attachment (set here,
    never by a client: the name locates a file).
    """
    if retry is not None:
        earlier = await earlier_result(retry, "create")
        if earlier is not None:
            return await _replay(earlier)
    try:
        record = await _create(
            data=data,
            actor=actor,
            now=now,
            deployment=deployment,
            auto_dispatch=auto_dispatch,
            retry=retry,
            photos=photos,
            # A likely repeat of an open ticket is not dispatched: it waits in 疑似重复.
            screen=repeat_holds.prepare(data=data, deployment=deployment, now=now),
        )
    except IntegrityError:
        if retry is None:
            raise
        # A twin of this request committed first: answer with its ticket.
        earlier = await earlier_result(retry, "create")
        if earlier is None:
            raise
        return await _replay(earlier)
    return record


def _attachments(data: TicketCreate, photos: list[str]) -> list[dict[str, Any]]:
    """The attachment metadata to store; the i-th stored photo name goes with the i-th."""
    rows = [a.model_dump() for a in data.attachments]
    for row, photo in zip(rows, photos, strict=False):
        row["photo"] = photo
    return rows


async def _replay(number: str) -> TicketRecord:
    """The current record of a ticket an earlier request with the same key made or changed."""
    ticket = await Ticket.get(number=number).prefetch_related(*TICKET_RELATIONS)
    record = record_of(ticket)
    record.replayed = True
    return record


async def _create(
    *,
    data: TicketCreate,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
    retry: Retry | None = None,
    photos: list[str] | None = None,
    screen: repeat_holds.Screen | None = None,
) -> TicketRecord:
    """Build the new ticket's rows and write them in one trip (`hotline.services.one_trip`).

    `screen`: the repeat screen, whose read goes with the trip that takes the number; a
    likely repeat is not dispatched and its hold in 疑似重复 is written with its rows."""
    deployment.words().check_category(data.category)
    proposal = deployment.propose(
        text=f"{data.title}\n{data.content}",
        address=data.location.address,
        kind=data.kind,
        category=data.category,
    )
    async with one_trip.trip(Ticket) as trip:
        number, ticket_id = await trip.reserve(now, read=screen.read if screen else None)
        held = screen.held(trip.read_rows) if screen and screen.read else []
        ticket = _new_ticket(
            data, proposal, id=ticket_id, number=number, actor=actor, now=now, photos=photos
        )
        record = await _create_rows(
            trip.recorder,
            ticket=ticket,
            data=data,
            actor=actor,
            now=now,
            deployment=deployment,
            auto_dispatch=auto_dispatch and not held,
            retry=retry,
            held=held,
        )
        await trip.send()
    return record


def _new_ticket(
    data: TicketCreate,
    proposal: dict[str, Any],
    *,
    id: int,
    number: str,
    actor: Actor,
    now: datetime,
    photos: list[str] | None,
) -> Ticket:
    """The new ticket's row, as received (not yet dispatched)."""
    from hotline.services.numbering import new_query_code

    complainant = data.complainant
    return Ticket(
        id=id,
        number=number,
        query_code=new_query_code(),
        channel=data.channel,
        kind=data.kind,
        urgency=data.urgency,
        category=data.category or proposal.get("category"),
        title=data.title,
        content=data.content,
        dispatch_text=proposed_text(
            kind=data.kind,
            confidential=complainant.confidential,
            text=data.dispatch_text or data.content,
            names=(complainant.name,),
        ),
        dispatch_title=proposed_text(
            kind=data.kind,
            confidential=complainant.confidential,
            text=data.title,
            names=(complainant.name,),
        ),
        address=data.location.address,
        **_place(data, proposal),
        latitude=data.location.latitude,
        longitude=data.location.longitude,
        complainant_name="" if complainant.anonymous else complainant.name,
        complainant_phone=complainant.phone,
        complainant_email=complainant.email,
        complainant_openid=complainant.openid,
        anonymous=complainant.anonymous,
        confidential=is_confidential(kind=data.kind, confidential=complainant.confidential),
        sms_opt_out=complainant.sms_opt_out,
        no_contact=complainant.no_contact,
        attachments=_attachments(data, photos or []),
        status=Status.RECEIVED.value,
        routing=proposal,
        needs_review=bool(proposal.get("needs_review", True)),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        version=1,
        call_id=data.call_id,
    )


async def _create_rows(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    data: TicketCreate,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    auto_dispatch: bool,
    retry: Retry | None,
    held: list[Any] | None = None,
) -> TicketRecord:
    """Every row of a new ticket, written through `conn` (in `_create`, a recorder that
    keeps them for one trip): the ticket, dispatched at once when the router is confident,
    its events, search row, links, clocks, rate rows, texts and mail, and its hold in
    疑似重复 when `held` names the open tickets it very probably repeats."""
    outcome = None
    category = ticket.category  # as received, before a dispatch may set it
    # A 举报 or confidential ticket waits for a person to confirm what units read.
    confirm = needs_confirmation(kind=ticket.kind, confidential=ticket.confidential)
    routing = ticket.routing
    if auto_dispatch and routing.get("lead_unit") and not ticket.needs_review and not confirm:
        # Decided before the insert, so the ticket is written once, already dispatched.
        outcome = await _decide(
            conn,
            ticket=ticket,
            action=Action.DISPATCH,
            body=DispatchBody(),
            actor=SYSTEM,
            now=now,
            deployment=deployment,
            clock_rows=[],
        )
        _set(ticket, outcome, now)
    await ticket.save(using_db=conn)
    await repeat_holds.hold(conn, ticket=ticket, held=held or [], now=now)
    created = _event(
        ticket,
        action="create",
        actor=actor,
        from_status=None,
        to_status=Status.RECEIVED.value,
        payload={"channel": data.channel, "category": category},
        now=now,
    )
    if retry is not None:
        await remember(conn, retry, ticket_number=ticket.number, action="create", now=now)
    # The number and the query code, committed with the ticket (a replayed retry
    # returns above without writing, so it never queues a second text).
    text = sms_row(ticket=ticket, sms=Sms.CREATED, payload={}, now=now, deployment=deployment)
    if outcome is None:
        if text is not None:
            await text.save(using_db=conn)
        await created.save(using_db=conn)
        await ticket_search.index_ticket(conn, ticket, events=[created])
        return TicketRecord(ticket=ticket, clocks=[], links=[], events=[created])
    return await _write(
        conn,
        ticket=ticket,
        outcome=outcome,
        actor=SYSTEM,
        now=now,
        deployment=deployment,
        clock_rows=[],
        links=[],
        before=[created],
        outbox=[text] if text is not None else [],
    )


def _place(data: TicketCreate, proposal: dict[str, Any]) -> dict[str, str]:
    """District and street as given, else where the router found the matter.

    A phone call's place is in its words (「含浦街道…」), not in form fields: without this
    the 热点区域 figures would miss the main channel. A street is taken only with its own
    district, so a given district is never paired with another district's street.
    """
    district = data.location.district or str(proposal.get("district") or "")
    street = data.location.street
    if not street and district == (proposal.get("district") or ""):
        street = str(proposal.get("street") or "")
    return {"district": district, "street": street}


# ---- actions ----------------------------------------------------------------


async def perform_action(
    *,
    number: str,
    action: str,
    body: ActionBody,
    principal: Principal,
    now: datetime,
    deployment: Deployment,
    ticket: Ticket | None = None,
    retry: Retry | None = None,
) -> TicketRecord:
    """Apply one lifecycle action for a signed-in user; refuse with 403/404/409/422.

    `ticket` is the ticket already read by `visible_ticket` for this principal, if any.
    With `retry` (an Idempotency-Key), a repeat of a finished action returns the ticket
    as it is instead of a second action (or a 409 for the first one's new status).
    """
    act = Action(action)
    if retry is not None:
        if await earlier_result(retry, act.value) is not None:
            return await _replay(number)
        try:
            return await _perform(number, act, body, principal, now, deployment, ticket, retry)
        except (IntegrityError, HotlineError) as exc:
            # A twin of this request won the race: answer with its result, not a conflict.
            if isinstance(exc, HotlineError) and exc.code != "version_conflict":
                raise
            if await earlier_result(retry, act.value) is None:
                raise
            return await _replay(number)
    return await _perform(number, act, body, principal, now, deployment, ticket, None)


async def _perform(
    number: str,
    act: Action,
    body: ActionBody,
    principal: Principal,
    now: datetime,
    deployment: Deployment,
    ticket: Ticket | None,
    retry: Retry | None,
) -> TicketRecord:
    """One action by a signed-in user, on the ticket as their scope lets them see it."""
    if ticket is None:
        ticket = await visible_ticket(number=number, principal=principal)
    return await apply_action(
        ticket=ticket,
        action=act,
        body=body,
        actor=Actor.of(principal),
        now=now,
        deployment=deployment,
        retry=retry,
    )


async def apply_action(
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    retry: Retry | None = None,
) -> TicketRecord:
    """One action in its transaction (the idempotency record in the same one).

    For actors without an account (a citizen holding the query code) the caller has
    already established that they may act on `ticket`; the table still decides whether
    their role may take this action in this status.
    """
    record = record_of(ticket)
    async with in_transaction() as conn:
        outcome = await _decide(
            conn,
            ticket=ticket,
            action=action,
            body=body,
            actor=actor,
            now=now,
            deployment=deployment,
            clock_rows=record.clocks,
            links=record.links,
        )
        changed = await (
            Ticket.filter(id=ticket.id, version=ticket.version)
            .using_db(conn)
            .update(
                status=outcome.to_status.value,
                version=ticket.version + 1,
                updated_at=now,
                **outcome.updates,
            )
        )
        # Not `!= 1`: SQLite's count includes the rows the volume_daily trigger upserts.
        if not changed:
            raise _conflict()
        if retry is not None:
            await remember(conn, retry, ticket_number=ticket.number, action=action.value, now=now)
        _set(ticket, outcome, now)
        written = await _write(
            conn,
            ticket=ticket,
            outcome=outcome,
            actor=actor,
            now=now,
            deployment=deployment,
            clock_rows=record.clocks,
            links=record.links,
        )
    written.merged_into = outcome.payload.get("into", record.merged_into)
    return written


async def _decide(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    clock_rows: list[TicketClock],
    links: list[TicketUnit] | None = None,
) -> Outcome:
    """Check the table and the body, run the action's step and plan its clocks."""
    spec = ACTIONS[action]
    status = Status(ticket.status)
    links = links if links is not None else []
    new_status = decide(status, action, Role(actor.role))
    if spec.review is not None and reviewed_kind(ticket.kind, deployment):
        # 答复审核: the answer waits for the centre before the complainant reads it.
        new_status = spec.review.to
        spec = spec.under_review()
    if (
        actor.role == Role.UNIT
        and action in LEAD_UNIT_ACTIONS
        and ticket.lead_unit_id != actor.unit_id
    ):
        raise HotlineError(f"只有主办单位可以{spec.label}", status=403, code="not_lead_unit")
    _check_party(
        spec.party, action=spec.label, actor=actor, links=links, lead_unit_id=ticket.lead_unit_id
    )
    own, below = sub_stages(links, actor.unit_id)
    stage = below if spec.party is Party.PARENT else own
    if spec.sub_from is not None and stage not in spec.sub_from:
        raise HotlineError(
            f"下派状态为「{SUB_STATE_LABELS[stage]}」，不能执行「{spec.label}」",
            status=409,
            code="invalid_subdispatch_state",
        )
    if (
        body.records_contact()
        # The citizen's own rating is not a contact: they chose to answer.
        and actor.role != Role.CITIZEN
        and no_contact_applies(no_contact=ticket.no_contact, confidential=ticket.confidential)
    ):
        raise HotlineError(NO_CONTACT_REFUSED, status=422, code="no_contact")
    if body.expected_version is not None and body.expected_version != ticket.version:
        raise _conflict()
    step = StepResult()
    if spec.step is not None:
        step = await STEPS[spec.step](
            conn,
            ticket=ticket,
            action=action,
            body=body,
            actor_role=actor.role,
            actor_unit_id=actor.unit_id,
            deployment=deployment,
            links=links,
            clocks=clock_rows,
            now=now,
        )
    # After the step: a unit the 举报 names is the first thing to correct (409 says so).
    if spec.needs_confirmed_text and needs_confirmation(
        kind=ticket.kind, confidential=ticket.confidential
    ):
        if ticket.dispatch_confirmed_at is None:
            raise HotlineError(CONFIRM_FIRST, status=422, code="dispatch_text_unconfirmed")
        if isinstance(body, DispatchBody) and body.dispatch_text:
            # An unconfirmed text must not replace the confirmed one on the way to a unit.
            raise HotlineError(EDIT_BY_CONFIRMING, status=422, code="dispatch_text_unconfirmed")
    updates = {**body.ticket_columns(), **step.updates}
    payload = {**body.event_payload(), **step.payload}
    if spec.closes:
        updates["closed_at"] = now
    for column in spec.clears:
        updates[column] = None
    for column in spec.stamps:
        updates[column] = now
    change = None
    if deployment.sla is not None:
        change = deployment.sla.change(
            spec,
            ticket=ticket,
            rows=clock_rows,
            payload=payload,
            category=updates.get("category"),
            now=now,
        )
    if change is not None:
        payload.update(change.payload())
        updates["next_due_at"] = change.next_due_at
    return Outcome(
        action,
        status,
        new_status,
        updates,
        payload,
        step.links,
        change,
        step.events,
        relinked=step.relinked,
        spec=spec,
    )


_PARTY_REFUSALS = {
    Party.ASSIST: "只有本工单的协办单位可以{label}",
    Party.SUB: "只有承接下派的下级单位可以{label}",
    Party.PARENT: "只有主办单位或已签收下派的下级单位可以{label}",
}


def _check_party(
    party: Party,
    *,
    action: str,
    actor: Actor,
    links: list[TicketUnit],
    lead_unit_id: int | None = None,
) -> None:
    """A unit takes an assisting or 下派 action only through its own open link (403); passes
    down or reviews only as the responsible unit or a signed 下派's holder."""
    if actor.role != Role.UNIT or party not in _PARTY_REFUSALS:
        return
    if party is Party.PARENT:
        held = may_pass_down(links, unit_id=actor.unit_id, lead_unit_id=lead_unit_id)
    else:
        held = any(
            link.active and link.role == party.value and link.unit_id == actor.unit_id
            for link in links
        )
    if not held:
        raise HotlineError(
            _PARTY_REFUSALS[party].format(label=action), status=403, code=f"not_{party.value}_unit"
        )


def reviewed_kind(kind: str, deployment: Deployment) -> bool:
    """Whether the deployment reviews units' answers on tickets of this kind (答复审核)."""
    return deployment.sla is not None and kind in deployment.sla.policies.review_kinds


def _set(ticket: Ticket, outcome: Outcome, now: datetime) -> None:
    """Mirror a decided outcome onto the in-memory ticket."""
    ticket.status = outcome.to_status.value
    ticket.version += 1
    ticket.updated_at = now
    for key, value in outcome.updates.items():
        setattr(ticket, key, value)


async def _write(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    outcome: Outcome,
    actor: Actor,
    now: datetime,
    deployment: Deployment,
    clock_rows: list[TicketClock],
    links: list[TicketUnit],
    before: list[TicketEvent] | None = None,
    outbox: list[OutboxMessage] | None = None,
) -> TicketRecord:
    """Write the event, unit links, clocks, mail and text message of a decided action.

    `outbox` holds rows the caller built (the new ticket's text): every outbox row of the
    change goes in one INSERT.
    """
    spec = outcome.spec or ACTIONS[outcome.action]
    event = _event(
        ticket,
        action=outcome.action.value,
        actor=actor,
        from_status=outcome.from_status.value,
        to_status=outcome.to_status.value,
        payload=outcome.payload,
        now=now,
        public=spec.public,
    )
    # Events a step asks for (e.g. a supervisor's override of the 举报 rule) come first.
    extra = [
        _event(
            ticket,
            action=name,
            actor=actor,
            from_status=outcome.from_status.value,
            to_status=outcome.from_status.value,
            payload=payload,
            now=now,
        )
        for name, payload in outcome.extra_events
    ]
    events = [*(before or []), *extra, event]
    if len(events) == 1:
        await event.save(using_db=conn)
    else:
        await TicketEvent.bulk_create(events, using_db=conn)
    if before or ticket_search.touches_document(outcome.updates, (e.payload for e in events)):
        # The search index in this transaction: a reply is findable once it is committed.
        await ticket_search.index_ticket(conn, ticket, events=events if before else None)
    # The worklist copy's marks: those the stored links carry, moved on by these events.
    stored_links = [k for k in links if k.id is not None]
    marks = worklist.marks_of((e.action for e in events), worklist.marks_on(stored_links))
    if outcome.links is not None:
        assist_due = assist_warn = None
        if deployment.sla is not None and deployment.sla.policies.assist is not None:
            assist_due = deployment.sla.due_after(deployment.sla.policies.assist, now)
            assist_warn = deployment.sla.warn_point(ticket, now, assist_due)
        links = await _relink(
            conn,
            ticket=ticket,
            links=links,
            new=outcome.links,
            now=now,
            assist_due=assist_due,
            assist_warn=assist_warn,
            copy=worklist.link_copy(ticket, marks, now),
        )
    if outcome.to_status not in _HELD:
        await _end_subdispatch(conn, ticket_id=ticket.id, links=links)
    if outcome.clocks is not None and outcome.clocks.plan.touches():
        clock_rows = await write_clocks(conn, ticket_id=ticket.id, change=outcome.clocks)
    if spec.affects_rates or (outcome.clocks is not None and outcome.clocks.plan.touches()):
        # The rows the audited rates are summed from, in this same transaction; a ticket
        # created here (`before`) has all its events in hand, others are read back. A clock
        # change (挂起, 恢复 …) moves the deadline an unanswered assignment is late against.
        await refresh_ticket_rates(
            conn, ticket_id=ticket.id, clocks=clock_rows, events=events if before else None
        )
    messages = list(outbox or [])
    if spec.mail is not None:
        messages += await MAILERS[spec.mail](
            conn,
            ticket=ticket,
            payload=outcome.payload,
            clocks=clock_rows,
            now=now,
            deployment=deployment,
        )
    if spec.sms is not None:
        messages += citizen_messages(
            ticket=ticket, sms=spec.sms, payload=outcome.payload, now=now, deployment=deployment
        )
    if len(messages) == 1:
        await messages[0].save(using_db=conn)
    elif messages:
        await OutboxMessage.bulk_create(messages, using_db=conn)
    if stored_links:
        # The unit worklists read their links' copy of the ticket: rewritten in this
        # transaction (links made by this action already carry it).
        await worklist.write_copy(conn, ticket=ticket, marks=marks, now=now)
    return TicketRecord(ticket=ticket, clocks=clock_rows, links=links, events=events)


def _conflict() -> HotlineError:
    return HotlineError("工单已被他人更新，请刷新后重试", status=409, code="version_conflict")


async def _relink(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    links: list[TicketUnit],
    new: list[tuple[int, str]],
    now: datetime,
    assist_due: datetime | None = None,
    assist_warn: datetime | None = None,
    copy: dict[str, Any] | None = None,
) -> list[TicketUnit]:
    """Replace the ticket's active unit links with the new lead and assisting units (each
    assisting unit's 协办时限 counted from this dispatch), carrying the worklist `copy`."""
    if any(link.active for link in links):
        await (
            TicketUnit.filter(ticket_id=ticket.id, active=True).using_db(conn).update(active=False)
        )
        for link in links:
            link.active = False
    rows = [
        TicketUnit(
            ticket_id=ticket.id,
            unit_id=unit_id,
            role=role,
            active=True,
            created_at=now,
            due_at=assist_due if role == "assist" else None,
            warn_at=assist_warn if role == "assist" else None,
            **(copy or {}),
        )
        for unit_id, role in new
    ]
    await TicketUnit.bulk_create(rows, using_db=conn)
    return [*links, *rows]


# The responsible unit holds the ticket (signed for, not yet replied): a 下派 may be open.
_HELD = frozenset(
    {Status.HANDLING, Status.PAUSED, Status.PAUSE_REQUESTED, Status.EXTENSION_REQUESTED}
)


async def _end_subdispatch(
    conn: BaseDBAsyncClient, *, ticket_id: int, links: list[TicketUnit]
) -> None:
    """The ticket left the responsible unit (回复, 改派, 并单…): an unfinished 下派 is
    withdrawn (the descendant no longer reads the ticket), an approved one was adopted."""
    open_states = {s.value for s in OPEN_SUB_STATES}
    ends = {
        SubState.WITHDRAWN: [k for k in links if k.role == "sub" and k.state in open_states],
        SubState.ADOPTED: [k for k in links if k.role == "sub" and k.state == SubState.APPROVED],
    }
    for state, rows in ends.items():
        if not rows:
            continue
        await (
            TicketUnit.filter(id__in=[k.id for k in rows])
            .using_db(conn)
            .update(active=False, state=state.value)
        )
        for k in rows:
            k.active, k.state = False, state.value


def _event(
    ticket: Ticket,
    *,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    now: datetime,
    public: bool | None = None,
) -> TicketEvent:
    """One row of the event log, not yet written (`public`: as the action applied, when it
    differs from its name's default, e.g. a reply under review)."""
    return TicketEvent(
        ticket_id=ticket.id,
        action=action,
        actor_id=actor.user_id,
        actor_name=actor.name,
        actor_role=actor.role,
        actor_unit_id=actor.unit_id,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
        public=event_public(action) if public is None else public,
        created_at=now,
    )


# ---- read -------------------------------------------------------------------


def _scope(principal: Principal) -> Q:
    """Unit staff see only tickets their unit currently holds (lead or assisting)."""
    if principal.role == Role.UNIT:
        return Q(unit_links__unit_id=principal.unit_id, unit_links__active=True)
    return Q()


def may_see(record: TicketRecord, principal: Principal) -> bool:
    """Whether the principal may still see the ticket (a unit re-dispatched away may not)."""
    return principal.role != Role.UNIT or principal.unit_id in record.active_unit_ids()


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
    channel: str | None = None
    # Any of these channels (the operator's queue of online contacts).
    channels: list[str] | None = None
    created_since: datetime | None = None
    created_from: date | None = None
    created_to: date | None = None
    overdue: bool | None = None
    needs_review: bool | None = None
    phone: str | None = None
    q: str | None = None
    external_id: str | None = None  # a ticket imported from the old platform
    # Left out (the 待派单 queue leaves out the tickets waiting in 疑似重复).
    exclude_ids: list[int] | None = None


@dataclass
class TicketList:
    """One page of a list; a text search (`query`) ranks by relevance, its total capped."""

    items: list[Ticket]
    total: int
    capped: bool = False
    query: Query | None = None


async def list_tickets(
    *,
    principal: Principal,
    filters: TicketFilter,
    page: int,
    per_page: int,
    now: datetime,
    oldest_first: bool = False,
) -> tuple[list[Ticket], int]:
    """One page of the tickets this user may see, newest first (queues: oldest first)."""
    found = await find_tickets(
        principal=principal,
        filters=filters,
        page=page,
        per_page=per_page,
        now=now,
        oldest_first=oldest_first,
    )
    return found.items, found.total


async def find_tickets(
    *,
    principal: Principal,
    filters: TicketFilter,
    page: int,
    per_page: int,
    now: datetime,
    oldest_first: bool = False,
) -> TicketList:
    """`list_tickets`, with a text search's ranking, cap and query for highlighting."""
    if _worklist_only(principal, filters, oldest_first):
        return await _unit_worklist(principal, filters, page=page, per_page=per_page)
    query = Ticket.filter(_scope(principal))
    found: ticket_search.Found | None = None
    if filters.status:
        _check_statuses(filters.status)
        query = query.filter(status__in=filters.status)
    if filters.unit:
        query = query.filter(lead_unit__code=filters.unit)
    if filters.kind:
        query = query.filter(kind=filters.kind)
    if filters.category:
        query = query.filter(category=filters.category)
    if filters.channel:
        query = query.filter(channel=filters.channel)
    if filters.channels:
        query = query.filter(channel__in=filters.channels)
    if filters.created_since:
        query = query.filter(created_at__gte=filters.created_since)
    if filters.created_from:
        query = query.filter(created_at__gte=local_midnight(filters.created_from))
    if filters.created_to:
        query = query.filter(created_at__lt=local_midnight(filters.created_to + timedelta(days=1)))
    if filters.needs_review is not None:
        query = query.filter(needs_review=filters.needs_review)
    if filters.external_id:
        query = query.filter(external_id=filters.external_id)
    if filters.exclude_ids:
        query = query.exclude(id__in=filters.exclude_ids)
    if filters.phone:
        # Units get a ticket's phone to call back, but may not look people up by number.
        if principal.role == Role.UNIT:
            raise HotlineError("承办单位不能按来电号码查询工单", status=403, code="forbidden")
        query = query.filter(complainant_phone=filters.phone)
    if filters.q:
        found = await ticket_search.search(principal=principal, text=filters.q)
        words = _text_match(found, principal)
        # Only something shaped like a ticket number is looked up as one (the column holds 20).
        if re.fullmatch(TICKET_NUMBER_PATTERN, filters.q):
            query = query.filter(Q(number=filters.q) | words)
        else:
            query = query.filter(words)
    if filters.overdue is True:
        query = query.filter(next_due_at__lt=now)
    elif filters.overdue is False:
        query = query.filter(Q(next_due_at__isnull=True) | Q(next_due_at__gte=now))
    query = query.distinct()
    if found is not None:
        return await _ranked_page(query, found, page=page, per_page=per_page)
    total = await query.count()
    items = (
        await query.order_by(*(("created_at", "id") if oldest_first else ("-created_at", "-id")))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .prefetch_related(*TICKET_RELATIONS)
    )
    return TicketList(list(items), total)


def _check_statuses(statuses: list[str] | None) -> None:
    unknown = [s for s in statuses or [] if s not in Status.__members__.values()]
    if unknown:
        raise HotlineError(
            f"参数 status 的取值「{'、'.join(unknown)}」无效，可选：{'、'.join(Status)}",
            status=422,
            code="validation_error",
        )


def _worklist_only(principal: Principal, filters: TicketFilter, oldest_first: bool) -> bool:
    """A unit's own list by status alone: read from its links (hotline.services.worklist)."""
    return (
        principal.role == Role.UNIT
        and principal.unit_id is not None
        and not oldest_first
        and replace(filters, status=None) == TicketFilter()
    )


async def _unit_worklist(
    principal: Principal, filters: TicketFilter, *, page: int, per_page: int
) -> TicketList:
    """One page of the unit's current tickets, newest first, through its links' copy."""
    _check_statuses(filters.status)
    ids, total = await worklist.unit_page(
        principal.unit_id or 0, filters.status, page=page, per_page=per_page
    )
    return TicketList(await tickets_by_ids(ids), total)


async def tickets_by_ids(ids: list[int]) -> list[Ticket]:
    """These tickets with TICKET_RELATIONS, in the order of `ids` (a list's page)."""
    rows = await Ticket.filter(id__in=ids).prefetch_related(*TICKET_RELATIONS)
    by_id = {t.id: t for t in rows}
    return [by_id[i] for i in ids if i in by_id]


def _text_match(found: ticket_search.Found, principal: Principal) -> Q:
    """Tickets the full-text index found for this user (see `ticket_search`).

    A unit's index column holds only what it is shown; the same rule its pages use is
    applied once more here, so a 举报 or confidential ticket whose text no person has
    confirmed can never be found by a unit through its original words (李建国, say).
    """
    hits = Q(id__in=found.hits.ids)
    if principal.role != Role.UNIT:
        return hits
    return ticket_search.unit_shown() & hits


async def _ranked_page(
    query: QuerySet[Ticket], found: ticket_search.Found, *, page: int, per_page: int
) -> TicketList:
    """A page of search results in rank order (a ticket number typed in comes first)."""
    # At most the index's cap (+ one number) ids: the other filters are applied to these.
    ids = await query.values_list("id", flat=True)
    rank = {ticket_id: i for i, ticket_id in enumerate(found.hits.ids)}
    ordered = sorted(ids, key=lambda i: rank.get(i, -1))
    shown = ordered[(page - 1) * per_page : page * per_page]
    rows = await Ticket.filter(id__in=shown).prefetch_related(*TICKET_RELATIONS)
    by_id = {t.id: t for t in rows}
    items = [by_id[i] for i in shown if i in by_id]
    return TicketList(items, len(ordered), capped=found.hits.capped, query=found.query)


def local_midnight(day: date) -> datetime:
    """The start of a local (Asia/Shanghai) day, in UTC.

    UTC because SQLite compares stored times as text: a +08:00 bound would be 8 hours off.
    """
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


async def timeline(ticket: Ticket, *, public_only: bool = False) -> list[TicketEvent]:
    """The ticket's events in the order they happened."""
    query = TicketEvent.filter(ticket_id=ticket.id)
    if public_only:
        query = query.filter(public=True)
    return list(await query.order_by("id").prefetch_related("actor_unit"))


async def merged_main(ticket: Ticket) -> tuple[TicketRecord, list[TicketEvent]] | None:
    """For a merged repeat, the ticket it was merged into and its public steps."""
    if ticket.merged_into_id is None:
        return None
    main = await Ticket.get(id=ticket.merged_into_id).prefetch_related(*TICKET_RELATIONS)
    return record_of(main), await timeline(main, public_only=True)


async def track_ticket(*, number: str, code: str) -> Ticket:
    """The ticket for the public tracking page; a wrong code is the same 404 as no ticket."""
    ticket = await Ticket.get_or_none(number=number).prefetch_related(*TICKET_RELATIONS)
    expected = ticket.query_code if ticket else "xxxxxx"
    if not hmac.compare_digest(expected.encode(), code.strip().upper().encode()) or ticket is None:
        raise not_found()
    return ticket
