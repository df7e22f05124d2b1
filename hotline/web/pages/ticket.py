"""The ticket page (the link in every dispatch mail), its action forms, print view and search."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError, not_found
from hotline.domain.fulltext import snippet
from hotline.domain.hierarchy import descendants
from hotline.domain.lifecycle import (
    ACTIONS,
    APPROVAL_REQUESTS,
    OPEN_STATUSES,
    STATUS_LABELS,
    Action,
)
from hotline.domain.schemas import TicketOut
from hotline.domain.timefmt import utcnow
from hotline.domain.vocabulary import OUTCOME_LABELS, RESULT_LABELS
from hotline.privacy.confirmed import needs_confirmation
from hotline.services import tickets as svc
from hotline.services.units import active_units, unit_directory, unstaffed_codes
from hotline.web.pages.common import (
    CENTRE,
    clock_views,
    limit_text,
    next_clock,
    redirect,
    render,
    require_form,
    signed_in,
)
from hotline.web.pages.forms import NOT_CONTACTED_FIELDS, fields_of, parse_form, validate_form
from hotline.web.pages.params import page_query, ticket_number
from hotline.web.presenters import ticket_out
from hotline.web.session import flash

# What the timeline shows of an event's payload, in this order.
PAYLOAD_LABELS = {
    "reason": "理由",
    "text": "内容",
    "result": "办理结果",
    "outcome": "调解结果",
    "contacted": "已联系市民",
    "satisfaction": "满意度",
    "solved": "问题已解决",
    "days": "天数",
    "lead_unit": "主办单位",
    "assisting_units": "协办单位",
    "category": "分类",
    "into": "并入",
    "title": "标题",  # 确认转办内容: what units read (never shown to units, see presenters)
    "dispatch_text": "转办内容",
    "limit": "时限",  # 督办 or 下派, as the event says
    "note": "备注",
    "supplement": "市民补充",
    "photos": "附照片（张）",
    "unit": "下级单位",
    "due_at": "截止",
    "done": "所负责部分已办完",
    "on_time": "按时",
    "kb_entry": "所用知识库条目（编号）",  # 直接办结 with 「用此答复」
}
# Per event, where the generic label says too little.
EVENT_PAYLOAD_LABELS = {Action.CALLBACK.value: {"note": "回访备注"}}
VALUE_LABELS = {True: "是", False: "否", **RESULT_LABELS, **OUTCOME_LABELS}
_DISPATCHES = (Action.DISPATCH.value, Action.REDISPATCH.value)


def _safe_next(value: Any, default: str) -> str:
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else default


def payload_lines(
    payload: dict[str, Any],
    units: dict[str, Any],
    *,
    days_unit: str = "",
    labels: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """An event's payload as (label, text) lines a person reads (extension `days` in the
    policy's unit, e.g. 3 个自然日; `labels` overrides the generic ones for one event)."""
    lines = []
    for key, label in {**PAYLOAD_LABELS, **(labels or {})}.items():
        if key not in payload or payload[key] in (None, "", []):
            continue
        value = payload[key]
        if key in ("lead_unit", "unit"):
            unit = units.get(value)
            value = unit.name if unit else value
        elif key == "due_at" and isinstance(value, str):
            value = value[:16].replace("T", " ")  # local ISO time → 2026-12-09 00:00
        elif key == "limit" and isinstance(value, str):
            value = limit_text(value)
        elif key == "days" and days_unit:
            value = f"{value} 个{days_unit}"
        elif key == "assisting_units":
            value = "、".join(units[c].name if c in units else c for c in value)
        else:
            value = VALUE_LABELS.get(value, value) if isinstance(value, (bool, str)) else value
        lines.append((label, str(value)))
    return lines


async def _unit_choices() -> list[tuple[str, str]]:
    # A unit nobody can sign for is marked in the select, before the operator picks it.
    unstaffed = await unstaffed_codes()
    return [
        (u.code, f"{u.name}（无可用账号）" if u.code in unstaffed else u.name)
        for u in await active_units()
    ]


async def _page_context(
    request: Request,
    number: str,
    *,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    principal = signed_in(request)
    ticket = await svc.visible_ticket(number=number, principal=principal)
    events = await svc.timeline(ticket)
    units = await unit_directory()
    out = ticket_out(svc.record_of(ticket), viewer=principal, units=units, events=events)
    choices = await _unit_choices()
    confidential = needs_confirmation(kind=out.kind, confidential=out.complainant.confidential)
    deployment = request.app.state.deployment
    extension = _extension_words(deployment, ticket)
    forms = []
    for name in out.allowed_actions:
        spec = ACTIONS[Action(name)]
        mine = name == failed
        fields = fields_of(
            spec.body,
            action=name,
            units=choices,
            values=values if mine else _prefill(name, out),
            errors=errors if mine else None,
            role=principal.role,
        )
        is_confirm = name == Action.CONFIRM_TEXT.value
        if is_confirm and out.awaiting_confirmation:
            # One keystroke when the proposal is fine: the cursor waits in the text.
            for f in fields:
                f.autofocus = f.name == "dispatch_text"
        if confidential and name in _DISPATCHES:
            # What units read of a 举报 or confidential ticket is changed by confirming only.
            fields = [f for f in fields if f.name != "dispatch_text"]
        if confidential and name == Action.REPLY.value and not mine:
            # A unit never sees a confidential reporter's number: 已联系上市民 starts unticked.
            for f in fields:
                if f.name == "contacted":
                    f.value = False
        not_contacted = name == Action.CALLBACK and out.complainant.no_contact
        if not_contacted:
            fields = [f for f in fields if f.name in NOT_CONTACTED_FIELDS]
        hint = ""
        if name in _EXTENSION_FORMS and extension is not None:
            # Asked and shown in the policy's own unit, with the maximum before submitting.
            unit_words, most = extension
            for f in fields:
                if f.name == "days":
                    f.label = f"{f.label}（{unit_words}，最多 {most} 个）"
                    f.max = most
            hint = f"本类诉求每次最多延期 {most} 个{unit_words}。"
        if name == Action.SUBDISPATCH.value:
            below = descendants(principal.unit_code or "", _parents(units))
            for f in fields:
                if f.name == "unit":
                    f.choices = [(c, units[c].name) for c in below]
        if name == Action.REPLY.value:
            hint = _missing_opinions(out)
        forms.append(
            {
                "action": name,
                "label": spec.label,
                "fields": fields,
                "not_contacted": not_contacted,
                "open": mine
                or (
                    failed is None
                    and (
                        (is_confirm and out.awaiting_confirmation)
                        or (spec.next_step and not out.awaiting_confirmation)
                    )
                ),
                "error": (errors or {}).get("_", "") if mine else "",
                "hint": hint,
            }
        )
    timeline = [
        {
            "event": e,
            "lines": payload_lines(
                e.payload,
                units,
                days_unit=extension[0] if extension else "",
                labels=EVENT_PAYLOAD_LABELS.get(e.action),
            ),
        }
        for e in (out.timeline or [])
    ]
    sla = request.app.state.deployment.sla if request.app.state.deployment else None
    return {
        "t": out,
        "clocks": clock_views(out, now=utcnow(), sla=sla),
        "forms": forms,
        "timeline": timeline,
        "is_centre": principal.role in CENTRE,
    }


def _prefill(action: str, out: TicketOut) -> dict[str, Any] | None:
    """The confirm form starts from the current dispatch title and text (the proposal); the
    reply form from the approved answer of a 下派 (the draft)."""
    if action == Action.CONFIRM_TEXT.value:
        return {"title": out.dispatch_title, "dispatch_text": out.dispatch_text}
    if action in (Action.REPLY.value, Action.SUB_REPLY.value) and out.reply_draft:
        return {"text": out.reply_draft, "contacted": True}
    return None


_EXTENSION_FORMS = {Action.REQUEST_EXTENSION.value, Action.APPROVE_EXTENSION.value}
_LIMIT_UNIT_WORDS = {"wd": "工作日", "d": "自然日"}


def _extension_words(deployment: Any, ticket: Any) -> tuple[str, int] | None:
    """The ticket's extension unit (工作日 / 自然日) and the most days one request may ask."""
    sla = getattr(deployment, "sla", None)
    if sla is None:
        return None
    policy = sla.policy_for(ticket)
    limit = policy.extension
    if limit is None or limit.unit.value not in _LIMIT_UNIT_WORDS:
        return None
    return _LIMIT_UNIT_WORDS[limit.unit.value], limit.amount


def _parents(units: dict[str, Any]) -> dict[str, str]:
    return {code: u.parent_code for code, u in units.items()}


def _missing_opinions(out: TicketOut) -> str:
    """What the reply form says about the assisting units' opinions."""
    if not out.assists:
        return ""
    missing = [a.unit.name for a in out.assists if a.answered_at is None]
    if not missing:
        return f"协办意见已全部收到（{len(out.assists)}/{len(out.assists)}）。"
    given = len(out.assists) - len(missing)
    return (
        f"协办意见已回 {given}/{len(out.assists)}，尚未收到：{'、'.join(missing)}。"
        "可先催协办单位，或在答复中说明。"
    )


async def ticket_page(request: Request) -> Response:
    """GET /tickets/{number} — the ticket, its clocks, timeline and the user's actions."""
    context = await _page_context(request, ticket_number(request.path_params["number"]))
    return render(request, "ticket.html", context)


async def print_page(request: Request) -> Response:
    """GET /tickets/{number}/print — 工单处理单 for paper."""
    context = await _page_context(request, ticket_number(request.path_params["number"]))
    context["now"] = utcnow()
    return render(request, "ticket_print.html", context)


async def _warn_unstaffed(request: Request, record: Any) -> None:
    """Warn when a unit just given the ticket has nobody who can sign in and act for it."""
    by_id = {u.id: u for u in (await unit_directory()).values()}
    given = [by_id[link.unit_id] for link in record.links if link.active and link.unit_id in by_id]
    missing = await unstaffed_codes(u.code for u in given)
    if missing:
        names = "、".join(u.name for u in given if u.code in missing)
        flash(
            request,
            f"注意：{names}还没有可用的账号，无人能签收办理。"
            "请联系管理员为其开通账号，或改派其他单位。",
            "error",
        )


async def act(request: Request) -> Response:
    """POST /tickets/{number}/act/{action} — one lifecycle action from a page form."""
    principal = signed_in(request)
    form = await require_form(request)
    number = ticket_number(request.path_params["number"])
    name = request.path_params["action"]
    try:
        spec = ACTIONS[Action(name)]
    except ValueError:
        raise not_found() from None
    back = _safe_next(form.get("next"), f"/tickets/{number}")
    ticket = await svc.visible_ticket(number=number, principal=principal)
    data = parse_form(spec.body, form)
    version = str(form.get("expected_version") or "")
    if version.isdigit():
        data["expected_version"] = int(version)
    body, errors = validate_form(spec.body, data)
    if body is None:
        values = {k: form.getlist(k) if k == "assisting_units" else form.get(k) for k in form}
        context = await _page_context(request, number, failed=name, values=values, errors=errors)
        flash_now = [("error", f"「{spec.label}」未提交：请按红字提示修改后再提交。")]
        context["extra_flashes"] = flash_now
        return render(request, "ticket.html", context, status=422)
    try:
        record = await svc.perform_action(
            number=number,
            ticket=ticket,
            action=spec.action.value,
            body=body,
            principal=principal,
            now=utcnow(),
            deployment=request.app.state.deployment,
        )
    except HotlineError as exc:
        if exc.code == "version_conflict":
            flash(request, "这张工单刚被他人处理过，页面已刷新。请核对最新状态后再操作。", "error")
        else:
            flash(request, f"「{spec.label}」未执行：{exc.message}", "error")
        return redirect(back)
    flash(request, f"工单 {number} 已{spec.label}。")
    if spec.action in (Action.DISPATCH, Action.REDISPATCH):
        await _warn_unstaffed(request, record)
    if not svc.may_see(record, principal):
        return redirect("/unit")
    return redirect(back)


async def search(request: Request) -> Response:
    """GET /tickets — search by number, phone, text, status, unit and date."""
    from hotline.web.queries import TicketListQuery

    principal = signed_in(request)
    q = request.query_params
    status = [s for s in q.getlist("status") if s]
    if q.get("approvals"):
        # 待审批: the requests of the approvals queue (a status chosen as well narrows it).
        waiting = [s.value for s in APPROVAL_REQUESTS]
        status = [s for s in status if s in waiting] or waiting
    channel_labels = request.app.state.deployment.words().channels
    error, page, per_page = "", 1, 30
    items: list[Any] = []
    total, capped, words = 0, False, None
    try:
        # The API's model (sizes, ranges, messages): an oversize phone or page number is
        # said on the page, never sent to the database.
        query = page_query(
            TicketListQuery,
            {
                "status": ",".join(status),
                "unit": q.get("unit"),
                "channel": q.get("channel"),
                "created_from": q.get("from"),
                "created_to": q.get("to"),
                "phone": q.get("phone"),
                "q": q.get("q"),
                "page": q.get("page"),
            },
        )
    except HotlineError as exc:
        error = exc.message
    else:
        filters = svc.TicketFilter(
            status=query.status,
            unit=query.unit,
            channel=query.channel,
            created_from=query.created_from,
            created_to=query.created_to,
            overdue=True if q.get("overdue") else None,
            phone=query.phone,
            q=query.q,
        )
        page = query.page
        found = await svc.find_tickets(
            principal=principal, filters=filters, page=page, per_page=per_page, now=utcnow()
        )
        items, total, capped, words = found.items, found.total, found.capped, found.query
    units = await unit_directory()
    sla = request.app.state.deployment.sla
    now = utcnow()
    rows = []
    for t in items:
        out = ticket_out(svc.record_of(t), viewer=principal, units=units)
        row = {"t": out, "left": next_clock(out, now=now, sla=sla)}
        if words:
            # The matched words marked in what this viewer reads (units: the dispatch text).
            row["title_marks"] = snippet(out.title, words, width=len(out.title))
            row["snippet"] = snippet(out.content, words) or snippet(out.location.address, words)
        rows.append(row)
    query = [(k, v) for k, v in q.multi_items() if k != "page"]
    return render(
        request,
        "search.html",
        {
            "rows": rows,
            "total": total,
            "capped": capped,
            "page": page,
            "pages": max(1, -(-total // per_page)),
            "q": q,
            "query": query,
            "statuses": [(s.value, STATUS_LABELS[s]) for s in STATUS_LABELS],
            "selected_status": status,
            "open_statuses": [s.value for s in OPEN_STATUSES],
            "units": await _unit_choices(),
            "channels": list(channel_labels.items()),
            "error": error,
            "phone_search": principal.role == "operator",
        },
        status=422 if error else 200,
    )


routes = [
    Route("/tickets", search, methods=["GET"]),
    Route("/tickets/{number}", ticket_page, methods=["GET"]),
    Route("/tickets/{number}/print", print_page, methods=["GET"]),
    Route("/tickets/{number}/act/{action}", act, methods=["POST"]),
]
