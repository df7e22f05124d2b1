"""What some actions need from the database before they apply (declared as `Step`s)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import OPEN_STATUSES, Action, Role, Status, Step
from hotline.domain.models import Ticket, TicketEvent, Unit
from hotline.domain.schemas import ActionBody, DispatchBody, ExtensionApproveBody, MergeBody
from hotline.privacy.rules import mask_personal
from hotline.runtime.deployment import Deployment
from hotline.services.units import unit_directory


@dataclass
class StepResult:
    """Column updates and event payload a step adds; `links` replaces the unit links."""

    updates: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    links: list[tuple[int, str]] | None = None  # (unit id, "lead" | "assist")
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
) -> StepResult:
    """派单 / 改派: the lead (default: the router's proposal) and assisting units.

    A 举报 never goes to a unit it names in any words, nor to that unit's superiors or
    subordinates (lead or assisting): 422 naming them, unless a supervisor overrides it with
    a written reason, which is logged as its own event.
    """
    assert isinstance(body, DispatchBody)
    routing = ticket.routing or {}
    redispatch = action == Action.REDISPATCH
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
    conn: BaseDBAsyncClient, *, ticket: Ticket, action: Action, body: ActionBody, **_: Any
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
            f"批准的延期天数不能超过申请的 {requested} 个工作日",
            status=422,
            code="too_many_days",
        )
    return StepResult(payload={"days": body.days or requested})


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
    Step.PENDING_REPLY: pending_reply,
    Step.HOLDER: holding_unit,
}
