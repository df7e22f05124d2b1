"""What some actions need from the database before they apply (declared as `Step`s)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.errors import HotlineError
from hotline.domain.hierarchy import (
    OPEN_SUB_STATES,
    Party,
    SubState,
    is_descendant,
    open_subdispatch,
)
from hotline.domain.lifecycle import ACTIONS, OPEN_STATUSES, Action, Role, Status, Step
from hotline.domain.models import Ticket, TicketClock, TicketEvent, TicketUnit, Unit
from hotline.domain.schemas import (
    MAX_ATTACHMENTS,
    ActionBody,
    AssistOpinionBody,
    DispatchBody,
    ExtensionApproveBody,
    MergeBody,
    ReplyBody,
    SubdispatchBody,
    SupplementBody,
)
from hotline.domain.timefmt import local_iso
from hotline.privacy.rules import mask_personal
from hotline.runtime.deployment import Deployment
from hotline.services.units import unit_directory


@dataclass
class StepResult:
    """Column updates and event payload a step adds; `links` replaces the unit links."""

    updates: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[int, str]] | None = None  # (unit id, "lead" | "assist")
    relinked: bool = False  # the step changed the ticket's unit link rows itself
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # written alongside


StepFn = Callable[..., Awaitable[StepResult]]


async def units_by_code(codes: list[str]) -> dict[str, Unit]:
    """Active units for codes (from the unit directory); 422 naming any unknown code."""
    directory = await unit_directory()
    units = {c: u for c in codes if (u := directory.get(c)) is not None and u.active}
    missing = [c for c in codes if c not in units]
    if missing:
        raise HotlineError(f"单位代码不存在：{'、'.join(missing)}", status=422, code="unknown_unit")
    return units


async def resolve_units(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    actor_role: str,
    deployment: Deployment,
    **_: Any,
) -> StepResult:
    """派单 / 改派: the lead (default: the router's proposal) and assisting units.

    A 举报 never goes to a unit it names in any words, nor to that unit's superiors or
    subordinates (lead or assisting): 422 naming them, unless a supervisor overrides it with
    a written reason, which is logged as its own event.
    """
    assert isinstance(body, DispatchBody)
    routing = ticket.routing or {}
    redispatch = action == Action.REDISPATCH
    deployment.words().check_category(body.category)
    lead_code = body.lead_unit or (None if redispatch else routing.get("lead_unit"))
    if not lead_code:
        raise HotlineError(
            "改派必须指定新的主办单位（lead_unit）"
            if redispatch
            else "请指定主办单位（lead_unit）",
            status=422,
            code="lead_unit_required",
        )
    assisting = list(body.assisting_units)
    if not body.lead_unit and not redispatch:
        assisting = assisting or list(routing.get("assisting_units") or [])
    if lead_code in assisting:
        raise HotlineError("主办单位不能同时是协办单位", status=422, code="invalid_units")
    units = await units_by_code([lead_code, *assisting])
    lead = units[lead_code]
    if redispatch and lead.id == ticket.lead_unit_id and not assisting:
        raise HotlineError("改派必须派给其他单位", status=422, code="same_unit")
    named = deployment.must_avoid(
        kind=ticket.kind,
        text=f"{ticket.title}\n{ticket.content}",
        codes=[lead_code, *assisting],
    )
    events: list[tuple[str, dict[str, Any]]] = []
    if named and not body.avoidance_override:
        raise HotlineError(
            f"举报件不能交给被举报的单位及其上下级办理：{'、'.join(named.values())}。"
            "请改派其他单位；确需由其办理的，请督办人员在派单表单的「举报回避例外的书面理由」"
            "中填写理由后派单（接口字段 avoidance_override）",
            status=422,
            code="reported_unit",
        )
    if named:
        if actor_role != Role.SUPERVISOR:
            raise HotlineError(
                "只有督办人员可以在举报件回避规则之外派单", status=403, code="forbidden_override"
            )
        events.append(
            ("avoidance_override", {"units": list(named), "reason": body.avoidance_override})
        )
    directory = await unit_directory()
    previous = next((u.code for u in directory.values() if u.id == ticket.lead_unit_id), None)
    updates: dict[str, Any] = {"lead_unit_id": lead.id, "needs_review": False}
    if body.category:
        updates["category"] = body.category
    if body.dispatch_text:
        updates["dispatch_text"] = mask_personal(
            body.dispatch_text, names=(ticket.complainant_name,)
        )
    return StepResult(
        events=events,
        updates=updates,
        payload={
            "lead_unit": lead_code,
            "assisting_units": assisting,
            "previous_unit": previous,
            "category": body.category or ticket.category,
        },
        links=[(lead.id, "lead"), *((units[c].id, "assist") for c in assisting)],
    )


async def requested_days(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    deployment: Deployment,
    **_: Any,
) -> StepResult:
    """同意延期: at most the days the unit asked for (default: all of them)."""
    assert isinstance(body, ExtensionApproveBody)
    event = (
        await TicketEvent.filter(ticket_id=ticket.id, action=Action.REQUEST_EXTENSION.value)
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    requested = int(event.payload.get("days", 1)) if event else 1
    if body.days and body.days > requested:
        raise HotlineError(
            f"批准的延期天数不能超过申请的 {requested} 个{_extension_unit(ticket, deployment)}",
            status=422,
            code="too_many_days",
        )
    return StepResult(payload={"days": body.days or requested})


def _extension_unit(ticket: Ticket, deployment: Deployment) -> str:
    """工作日 or 自然日: the unit the ticket's policy counts extension days in."""
    sla = deployment.sla
    limit = sla.policy_for(ticket).extension if sla is not None else None
    return "自然日" if limit is not None and limit.unit.value == "d" else "工作日"


async def merge_target(
    conn: BaseDBAsyncClient, *, ticket: Ticket, action: Action, body: ActionBody, **_: Any
) -> StepResult:
    """并单: the open ticket this one repeats, locked and checked."""
    assert isinstance(body, MergeBody)
    target = await Ticket.filter(number=body.into).using_db(conn).first()
    if target is None:
        raise HotlineError(f"要并入的工单 {body.into} 不存在", status=422, code="unknown_ticket")
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
    return StepResult(updates={"merged_into_id": target.id}, payload={"into": body.into})


async def attach_photos(
    conn: BaseDBAsyncClient, *, ticket: Ticket, action: Action, body: ActionBody, **_: Any
) -> StepResult:
    """补充说明: the supplement's stored photos join the ticket's attachments (at most 20)."""
    assert isinstance(body, SupplementBody)
    if not body.photos:
        return StepResult()
    attachments = list(ticket.attachments or [])
    if len(attachments) + len(body.photos) > MAX_ATTACHMENTS:
        raise HotlineError(
            f"这张工单已有 {len(attachments)} 个附件，最多 {MAX_ATTACHMENTS} 个："
            "请少选几张照片，或只补充文字说明。",
            status=422,
            code="too_many_attachments",
        )
    return StepResult(updates={"attachments": attachments + list(body.photos)})


# ---- the unit hierarchy: 协办意见 and 下派 -------------------------------------------


async def assist_opinion(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    body: ActionBody,
    actor_unit_id: int | None,
    links: list[TicketUnit],
    now: datetime,
    **_: Any,
) -> StepResult:
    """协办意见: kept on the assisting unit's own link (the first one times its clock)."""
    assert isinstance(body, AssistOpinionBody)
    link = next(
        (k for k in links if k.active and k.role == "assist" and k.unit_id == actor_unit_id), None
    )
    if link is None:  # the party check in the service refuses first; kept for safety
        raise HotlineError("只有本工单的协办单位可以给出协办意见", status=403, code="not_assisting")
    answered = link.answered_at or now
    values = {"text": body.text, "done": body.done, "answered_at": answered}
    await TicketUnit.filter(id=link.id).using_db(conn).update(**values)
    for key, value in values.items():
        setattr(link, key, value)
    on_time = link.due_at is None or answered <= link.due_at
    return StepResult(payload={"on_time": on_time}, relinked=True)


def _feedback_due(clocks: list[TicketClock]) -> datetime | None:
    row = next((c for c in clocks if c.kind == "feedback" and c.is_open and c.current), None)
    return row.due_at if row is not None else None


async def subdispatch(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    body: ActionBody,
    actor_unit_id: int | None,
    links: list[TicketUnit],
    clocks: list[TicketClock],
    deployment: Deployment,
    now: datetime,
    **_: Any,
) -> StepResult:
    """下派: to a descendant of the acting unit, with a deadline inside the unit's own."""
    assert isinstance(body, SubdispatchBody)
    directory = await unit_directory()
    parents = {code: u.parent_code for code, u in directory.items()}
    mine = next((u for u in directory.values() if u.id == actor_unit_id), None)
    child = (await units_by_code([body.unit]))[body.unit]
    if mine is None or not is_descendant(child.code, mine.code, parents):
        below = "、".join(
            directory[c].name for c in sorted(parents) if mine and parents[c] == mine.code
        )
        hint = f"（本单位的直属下级：{below}）" if below else "（本单位没有下级单位）"
        raise HotlineError(
            f"只能下派给本单位的下级单位，「{child.name}」不是{hint}",
            status=422,
            code="not_descendant",
        )
    # A 举报 dispatched by a supervisor's override never goes further down to a unit it names.
    named = deployment.must_avoid(
        kind=ticket.kind, text=f"{ticket.title}\n{ticket.content}", codes=[child.code]
    )
    if named:
        raise HotlineError(
            f"举报件不能下派给被举报的单位及其上下级：{'、'.join(named.values())}。"
            "请由本单位办理或下派给其他下级单位",
            status=422,
            code="reported_unit",
        )
    # The responsible unit passes down within its feedback deadline; a street holding a
    # 下派 within the deadline its district gave it.
    held = open_subdispatch(links, unit_id=actor_unit_id)
    own_due = held.due_at if held is not None else _feedback_due(clocks)
    own_words = "本单位的下派办理时限" if held is not None else "本单位的反馈时限"
    sla = deployment.sla
    limit = body.limit or (
        str(sla.policies.subdispatch) if sla and sla.policies.subdispatch else ""
    )
    due = sla.due_after(limit, now) if sla is not None and limit else own_due
    if own_due is not None and due is not None and due > own_due:
        if body.limit:
            raise HotlineError(
                f"下派时限 {body.limit} 将于 {local_iso(due)} 截止，晚于{own_words}"
                f"（{local_iso(own_due)}）。请缩短下派时限，或不填（默认不超过本单位时限）",
                status=422,
                code="subdispatch_limit_too_long",
            )
        due = own_due  # the default never outlasts the parent's own deadline
    row = TicketUnit(
        ticket_id=ticket.id,
        unit_id=child.id,
        role="sub",
        active=True,
        created_at=now,
        due_at=due,
        limit=limit,
        state=SubState.DISPATCHED.value,
        parent_unit_id=actor_unit_id,
        warn_at=sla.warn_point(ticket, now, due) if sla is not None and due else None,
    )
    await row.save(using_db=conn)
    links.append(row)
    return StepResult(
        payload={"unit": child.code, "due_at": local_iso(due), "limit": limit}, relinked=True
    )


async def sub_stage(
    conn: BaseDBAsyncClient,
    *,
    ticket: Ticket,
    action: Action,
    body: ActionBody,
    links: list[TicketUnit],
    actor_unit_id: int | None,
    now: datetime,
    **_: Any,
) -> StepResult:
    """下派签收 / 下派答复 / 审核通过 / 退回: the open 下派 moves to the declared stage."""
    spec = ACTIONS[action]
    # The holder moves its own 下派; a parent the one it passed down.
    if spec.party is Party.SUB:
        link = open_subdispatch(links, unit_id=actor_unit_id)
    else:
        link = open_subdispatch(links, parent_id=actor_unit_id)
    assert link is not None and spec.sub_to is not None  # the service checked sub_from
    values: dict[str, Any] = {"state": spec.sub_to.value}
    payload: dict[str, Any] = {"unit": await _code_of(link.unit_id)}
    if isinstance(body, ReplyBody):
        values.update(answered_at=now, text=body.text)
        payload["on_time"] = link.due_at is None or now <= link.due_at
    if spec.sub_to not in OPEN_SUB_STATES:
        values["active"] = False  # reviewed: the descendant no longer holds the ticket
    await TicketUnit.filter(id=link.id).using_db(conn).update(**values)
    for key, value in values.items():
        setattr(link, key, value)
    if spec.party is Party.SUB and spec.sub_to is not SubState.HANDLING:
        # A street answering upward no longer holds what it passed further down.
        await end_below(conn, links=links, parent_id=link.unit_id)
    return StepResult(payload=payload, relinked=True)


async def end_below(conn: BaseDBAsyncClient, *, links: list[TicketUnit], parent_id: int) -> None:
    """The 下派 `parent_id` passed down ends: unfinished ones are withdrawn (the unit below
    no longer reads the ticket), an approved one was adopted into the parent's answer."""
    open_states = {s.value for s in OPEN_SUB_STATES}
    mine = [k for k in links if k.role == "sub" and k.parent_unit_id == parent_id]
    ends = {
        SubState.WITHDRAWN: [k for k in mine if k.state in open_states],
        SubState.ADOPTED: [k for k in mine if k.state == SubState.APPROVED.value],
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


async def _code_of(unit_id: int) -> str:
    directory = await unit_directory()
    return next((u.code for u in directory.values() if u.id == unit_id), str(unit_id))


async def pending_reply(
    conn: BaseDBAsyncClient, *, ticket: Ticket, action: Action, **_: Any
) -> StepResult:
    """答复审核: the unit's reply waiting for review. Approved, it is released as written (its
    result and text in the approval's payload, which the complainant reads); returned, its
    time says which of the unit's clocks it met and so come back."""
    event = (
        await TicketEvent.filter(ticket_id=ticket.id, action=Action.REPLY.value)
        .using_db(conn)
        .order_by("-id")
        .first()
    )
    if event is None:  # pragma: no cover - the status is only reached by a reply
        raise HotlineError("没有找到待审核的答复", status=409, code="no_pending_reply")
    at = event.created_at
    answered_at = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    unit = await Unit.filter(id=event.actor_unit_id).using_db(conn).first()
    # The unit that answered, by code (the rates count returned answers per unit).
    named = {"unit": unit.code if unit else None, "answered_at": answered_at}
    if action is Action.RETURN_REPLY:
        return StepResult(payload=named)
    released = {k: event.payload[k] for k in ("result", "text", "contacted") if k in event.payload}
    return StepResult(payload={**released, **named})


async def holding_unit(conn: BaseDBAsyncClient, *, ticket: Ticket, **_: Any) -> StepResult:
    """催办 / 督办 / 驳回退单: the event names the lead unit it concerns (by code), so the
    rates count urged, supervised and unjustly disputed tickets per unit from the log."""
    directory = await unit_directory()
    code = next((u.code for u in directory.values() if u.id == ticket.lead_unit_id), None)
    return StepResult(payload={"unit": code})


STEPS: dict[Step, StepFn] = {
    Step.UNITS: resolve_units,
    Step.EXTENSION_DAYS: requested_days,
    Step.MERGE_TARGET: merge_target,
    Step.ATTACH_PHOTOS: attach_photos,
    Step.ASSIST: assist_opinion,
    Step.SUBDISPATCH: subdispatch,
    Step.SUB_STAGE: sub_stage,
    Step.PENDING_REPLY: pending_reply,
    Step.HOLDER: holding_unit,
}
