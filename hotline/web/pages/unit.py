"""The unit workbench: the unit's tickets grouped by what needs doing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.lifecycle import ACTIONS, Action, Role
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services import worklist
from hotline.services.event_log import events_of
from hotline.services.hierarchy_rates import hierarchy_figures
from hotline.services.rates import DateRange, UnitGroup
from hotline.services.units import unit_directory
from hotline.web.pages.common import (
    PageError,
    Remaining,
    next_clock,
    remaining,
    render,
    signed_in,
)
from hotline.web.presenters import ticket_row
from sla.limits import limit_words

ROWS = 10  # rows per group on the workbench; 「查看更多」 pages through the rest
PAGE_ROWS = 50  # rows per page of one group's full list
MAX_PAGE = 1000  # each page reads the rows before it: beyond this, the search page
GROUPS = (
    (
        "supervised",
        "督办件",
        "督办人员督办的工单，请优先办理；设了督办时限的，须在督办时限内答复。",
    ),
    ("sign", "待签收", "派来的工单，请先签收；不属于本单位的请退单并说明理由。"),
    ("handling", "办理中", "已签收、正在办理（含挂起和延期审核中）。办完请回复。"),
    ("soon", "一天内到期", "24 小时内有时限到期，请优先办理。"),
    ("late", "已超期", "已超过时限，请尽快办理并回复；需要时申请延期。"),
    (
        "reopened",
        "重办退回",
        "市民不满意要求重办，或中心审核退回了答复：请按理由重新办理后再答复，时限照常计算。",
    ),
    (
        "extension",
        "申请已答复",
        "中心已答复延期或挂起申请（同意或不同意，见说明）；不同意的，时限照常计算。",
    ),
    (
        "sub",
        "下派件",
        "上级单位下派给本单位的工单：签收、办理后向上级答复，上级审核后由其回复市民。",
    ),
    ("assist", "协办件", "本单位协办的工单：请在协办时限内给出协办意见。"),
    ("review", "下派待审核", "下级单位已答复：请审核通过（作为本单位回复草稿）或退回。"),
)
# The centre's answers a unit reads beside the ticket, by the action that gave them.
_ANSWERS = (
    Action.APPROVE_EXTENSION,
    Action.REFUSE_EXTENSION,
    Action.APPROVE_PAUSE,
    Action.DENY_PAUSE,
    Action.REJECT_DISPUTE,
)
_URGING = (Action.URGE, Action.SUPERVISE)


async def unit_groups(request: Request) -> dict[str, Any]:
    """The unit's open tickets in the workbench groups (a ticket may be in several): at
    most ROWS per group, soonest due first, each group's count beside it; empty groups
    are left out."""
    principal = signed_in(request, Role.UNIT.value)
    now = utcnow()
    unit_id = principal.unit_id or 0
    slices = await worklist.group_slices(
        unit_id, [key for key, _, _ in GROUPS], now=now, offset=0, limit=ROWS
    )
    ids = list(dict.fromkeys(i for s in slices.values() for i in s.ids))
    rows = await _rows(request, ids, now=now)
    groups = [
        (key, title, hint, [_in_group(key, rows[i]) for i in slices[key].ids if i in rows],
         slices[key])
        for key, title, hint in GROUPS
        if slices[key].count
    ]  # fmt: skip
    units = await unit_directory()
    return {
        "groups": groups,
        "version": await worklist.version(unit_id, now),
        "unit_name": units[principal.unit_code].name if principal.unit_code in units else "",
    }


async def _rows(request: Request, ids: list[int], *, now: datetime) -> dict[int, dict[str, Any]]:
    """The shown tickets' rows: the presenter's view, time left, urging marks and the
    centre's latest words on each (read for these tickets only)."""
    principal = signed_in(request, Role.UNIT.value)
    items = await worklist.shown(ids)
    # The latest extension answer and any 重办 per ticket, from the event log.
    reopened: dict[int, str] = {}  # 重办 or an answer returned by review: the centre's words
    extension: dict[int, str] = {}  # the answer to the latest extension or pause request
    disputed: dict[int, str] = {}  # a dispute the centre turned down (驳回退单)
    # 催办 / 督办 per ticket: how many and the latest reason (a mark on every row).
    urged: dict[int, dict[str, dict[str, Any]]] = {}
    events = await events_of(
        ids,
        [
            Action.REOPEN.value,
            Action.RETURN_REPLY.value,
            Action.REQUEST_EXTENSION.value,
            Action.PAUSE.value,
            *(a.value for a in _ANSWERS),
            *(a.value for a in _URGING),
        ],
    )
    for e in events:
        action = Action(e.action)
        if action in (Action.REOPEN, Action.RETURN_REPLY):
            reopened[e.ticket_id] = _answer(action, e.payload)
        elif action in (Action.REQUEST_EXTENSION, Action.PAUSE):
            extension.pop(e.ticket_id, None)
        elif action in _URGING:
            mark = urged.setdefault(e.ticket_id, {}).setdefault(
                action.value, {"label": ACTIONS[action].label[0], "count": 0}
            )
            mark["count"] += 1
            mark["reason"] = str(e.payload.get("reason", ""))
            if e.payload.get("limit"):
                mark["limit"] = limit_words(str(e.payload["limit"]))
        elif action is Action.REJECT_DISPUTE:
            disputed[e.ticket_id] = _answer(action, e.payload)
        else:  # the centre's answer, named as the action table names it
            extension[e.ticket_id] = _answer(action, e.payload)
    units = await unit_directory()
    sla = request.app.state.deployment.sla
    rows: dict[int, dict[str, Any]] = {}
    for item in items:
        t = item.ticket
        out = ticket_row(
            t, clocks=item.clocks, links=item.links, units=units, viewer_unit_id=principal.unit_id
        )
        lead = t.lead_unit_id == principal.unit_id
        marks = urged.get(t.id, {})
        row = {
            "t": out,
            "left": next_clock(out, now=now, sla=sla),
            "lead": lead,
            "note": "",
            "marks": [marks[a.value] for a in _URGING if a.value in marks],
            "notes": {
                "sign": disputed.get(t.id, ""),
                "reopened": reopened.get(t.id, ""),
                "extension": extension.get(t.id, ""),
            },
        }
        part = _hierarchy_part(out, principal.unit_code, lead=lead, now=now, sla=sla)
        if part is not None:
            group, note, left = part
            row = {**row, "note": note, "left": left or row["left"], "part": group}
        rows[t.id] = row
    return rows


def _in_group(key: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row as one group shows it (the centre's words that put it there, if any)."""
    note = row["notes"].get(key)
    return {**row, "note": note} if note else row


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
    if (
        sub is not None
        and sub.parent is not None
        and sub.parent.code == code
        and sub.state in ("dispatched", "handling", "replied")
    ):
        # A street that passed its own 下派 further down (街道 → 社区): where that stands.
        group = "review" if sub.state == "replied" else "sub"
        return group, f"下派{sub.unit.name}：{sub.state_label}", None
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


def _answer(action: Action, payload: dict[str, Any]) -> str:
    """The centre's answer as a unit reads it: 不同意挂起：理由."""
    reason = str(payload.get("reason") or "")
    return f"{ACTIONS[action].label}：{reason}" if reason else ACTIONS[action].label


async def workbench(request: Request) -> Response:
    """GET /unit — the workbench page (with the month's 协办/下派 figures; the polled
    fragment leaves them out)."""
    context = await unit_groups(request)
    context["own_part"] = await own_part(request)
    return render(request, "unit.html", context)


async def workbench_fragment(request: Request) -> Response:
    """GET /unit/list?v=… — the groups alone (polled every 10 s): 204 while nothing the
    unit's page shows has changed since version `v`, which the page it has carries."""
    principal = signed_in(request, Role.UNIT.value)
    seen = request.query_params.get("v")
    if seen and seen == await worklist.version(principal.unit_id or 0, utcnow()):
        return Response(status_code=204)
    return render(request, "_unit_poll.html", await unit_groups(request))


async def group_page(request: Request) -> Response:
    """GET /unit/group/{key}?page=N — every ticket of one group, PAGE_ROWS a page
    (the workbench's 「查看更多」)."""
    principal = signed_in(request, Role.UNIT.value)
    key = request.path_params["key"]
    titles = {k: (title, hint) for k, title, hint in GROUPS}
    if key not in titles:
        raise PageError("没有这个分组，请回到承办工作台。", status=404, code="not_found")
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise PageError(
            f"页码必须是 1 到 {MAX_PAGE} 之间的整数；更多工单请用工单查询。",
            status=422,
            code="page",
        )
    page = int(raw)
    now = utcnow()
    found = await worklist.group_slice(
        principal.unit_id or 0, key, now=now, offset=(page - 1) * PAGE_ROWS, limit=PAGE_ROWS + 1
    )
    rows = await _rows(request, found.ids[:PAGE_ROWS], now=now)
    title, hint = titles[key]
    return render(
        request,
        "unit_group.html",
        {
            "key": key,
            "title": title,
            "hint": hint,
            "rows": [_in_group(key, rows[i]) for i in found.ids[:PAGE_ROWS] if i in rows],
            "slice": found,
            "page": page,
            "more": len(found.ids) > PAGE_ROWS,
        },
    )


routes = [
    Route("/unit", workbench, methods=["GET"]),
    Route("/unit/list", workbench_fragment, methods=["GET"]),
    Route("/unit/group/{key}", group_page, methods=["GET"]),
]
