"""The unit workbench: the unit's tickets grouped by what needs doing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.lifecycle import ACTIONS, OPEN_STATUSES, Action, Role, Status
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services import tickets as svc
from hotline.services.event_log import events_of
from hotline.services.hierarchy_rates import hierarchy_figures
from hotline.services.rates import DateRange, UnitGroup
from hotline.services.units import unit_directory
from hotline.web.pages.common import Remaining, next_clock, remaining, render, signed_in
from hotline.web.presenters import ticket_out

MAX_OPEN = 500  # a unit with more open tickets than this needs the search page, not a list
GROUPS = (
    ("sign", "待签收", "派来的工单，请先签收；不属于本单位的请退单并说明理由。"),
    ("handling", "办理中", "已签收、正在办理（含挂起和延期审核中）。办完请回复。"),
    ("soon", "一天内到期", "24 小时内有时限到期，请优先办理。"),
    ("late", "已超期", "已超过时限，请尽快办理并回复；需要时申请延期。"),
    ("reopened", "重办退回", "市民不满意，中心要求重新办理。"),
    ("extension", "延期已答复", "中心已答复延期申请（同意或不同意）。"),
    (
        "sub",
        "下派件",
        "上级单位下派给本单位的工单：签收、办理后向上级答复，上级审核后由其回复市民。",
    ),
    ("assist", "协办件", "本单位协办的工单：请在协办时限内给出协办意见。"),
    ("review", "下派待审核", "下级单位已答复：请审核通过（作为本单位回复草稿）或退回。"),
)
_HANDLING = {Status.HANDLING.value, Status.PAUSED.value, Status.EXTENSION_REQUESTED.value}


async def unit_groups(request: Request) -> dict[str, Any]:
    """The unit's open tickets in the workbench groups (a ticket may be in several)."""
    principal = signed_in(request, Role.UNIT.value)
    now = utcnow()
    items, total = await svc.list_tickets(
        principal=principal,
        filters=svc.TicketFilter(status=[s.value for s in OPEN_STATUSES]),
        page=1,
        per_page=MAX_OPEN,
        now=now,
    )
    ids = [t.id for t in items]
    # The latest extension answer and any 重办 per ticket, from the event log.
    reopened: set[int] = set()
    extension: dict[int, str] = {}
    events = await events_of(
        ids,
        [
            Action.REOPEN.value,
            Action.REQUEST_EXTENSION.value,
            Action.APPROVE_EXTENSION.value,
            Action.REFUSE_EXTENSION.value,
        ],
    )
    for e in events:
        action = Action(e.action)
        if action is Action.REOPEN:
            reopened.add(e.ticket_id)
        elif action is Action.REQUEST_EXTENSION:
            extension.pop(e.ticket_id, None)
        else:  # the centre's answer, named as the action table names it
            extension[e.ticket_id] = ACTIONS[action].label
    units = await unit_directory()
    sla = request.app.state.deployment.sla
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in GROUPS}
    soon = now + timedelta(days=1)
    for t in sorted(items, key=lambda t: (t.next_due_at is None, t.next_due_at or t.created_at)):
        out = ticket_out(svc.record_of(t), viewer=principal, units=units)
        lead = t.lead_unit_id == principal.unit_id
        row = {"t": out, "left": next_clock(out, now=now, sla=sla), "lead": lead, "note": ""}
        part = _hierarchy_part(out, principal.unit_code, lead=lead, now=now, sla=sla)
        if part is not None:
            group, note, left = part
            row = {**row, "note": note, "left": left or row["left"], "part": group}
            if group:
                groups[group].append(row)
            if group in ("sub", "assist"):
                continue  # the lead unit's groups are not this unit's work
        if t.status == Status.DISPATCHED.value and lead:
            groups["sign"].append(row)
        if t.status in _HANDLING:
            groups["handling"].append(row)
        if t.next_due_at is not None and now <= t.next_due_at < soon:
            groups["soon"].append(row)
        if t.next_due_at is not None and t.next_due_at < now:
            groups["late"].append(row)
        if t.id in reopened and t.status in _HANDLING:
            groups["reopened"].append(row)
        if t.id in extension and t.status in _HANDLING:
            groups["extension"].append({**row, "note": extension[t.id]})
    return {
        "groups": [(key, title, hint, groups[key]) for key, title, hint in GROUPS],
        "total": total,
        "truncated": total > MAX_OPEN,
        "unit_name": units[principal.unit_code].name if principal.unit_code in units else "",
    }


def _hierarchy_part(
    out: Any, code: str | None, *, lead: bool, now: datetime, sla: Any
) -> tuple[str | None, str, Remaining | None] | None:
    """This unit's part in a ticket beyond the lead's: (group, note, its own time left).

    A descendant holding a 下派 and an assisting unit see their own deadline; the lead
    unit sees how many opinions are back and where its 下派 stands."""
    sub = out.subdispatch
    if lead:
        notes = []
        if out.assists:
            given = sum(1 for a in out.assists if a.answered_at)
            notes.append(f"{given}/{len(out.assists)} 协办意见已回")
        if sub is not None and sub.state in ("dispatched", "handling", "replied"):
            notes.append(f"下派{sub.unit.name}：{sub.state_label}")
        if not notes:
            return None
        return ("review" if sub and sub.state == "replied" else None), "；".join(notes), None
    if (
        sub is not None
        and sub.unit.code == code
        and sub.state in ("dispatched", "handling", "replied")
    ):
        left = _left(sub.due_at, sub.limit, now=now, sla=sla, done=sub.state == "replied")
        parent = sub.parent.name if sub.parent else "上级单位"
        return "sub", f"{parent}下派：{_CHILD_WORDS.get(sub.state, sub.state_label)}", left
    mine = next((a for a in out.assists if a.unit.code == code), None)
    if mine is not None:
        note = "协办：意见已回" if mine.answered_at else "协办：意见未回"
        left = _left(mine.due_at, "", now=now, sla=sla, done=mine.answered_at is not None)
        return "assist", note, left
    return None


# A 下派's stage as the descendant reads it (the stage labels speak for the parent).
_CHILD_WORDS = {
    "dispatched": "请签收",
    "handling": "办理中，办完请向上级答复",
    "replied": "已答复上级，待审核",
}


def _left(due: str | None, limit: str, *, now: datetime, sla: Any, done: bool) -> Remaining:
    """Time left on a 协办 or 下派 deadline (their own, not the lead unit's clocks)."""
    return remaining(
        due_at=datetime.fromisoformat(due) if due else None,
        warn_at=None,
        state="met" if done else "running",
        limit=limit or "wd",
        now=now,
        sla=sla,
    )


async def own_part(request: Request) -> dict[str, Any] | None:
    """This month's part of the unit in tickets it does not lead (协办意见, 下派件), or None
    when it had none: its own figures, which the lead unit's rates do not show."""
    principal = signed_in(request, Role.UNIT.value)
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    figures = await hierarchy_figures(
        days=DateRange(today.replace(day=1), today),
        group=UnitGroup(unit=principal.unit_code),
        now=now,
    )
    units = figures["units"]
    return units[0] if units else None


async def workbench(request: Request) -> Response:
    """GET /unit — the workbench page (with the month's 协办/下派 figures; the polled
    fragment leaves them out)."""
    context = await unit_groups(request)
    context["own_part"] = await own_part(request)
    return render(request, "unit.html", context)


async def workbench_fragment(request: Request) -> Response:
    """GET /unit/list — the groups alone (polled every few seconds)."""
    return render(request, "_unit_groups.html", await unit_groups(request))


routes = [
    Route("/unit", workbench, methods=["GET"]),
    Route("/unit/list", workbench_fragment, methods=["GET"]),
]
