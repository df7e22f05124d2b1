"""The operator console: call intake, the caller's history, and the work queues."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTIONS, OPEN_STATUSES, Action, Role, Status, decisions
from hotline.domain.schemas import TICKET_NUMBER_PATTERN, ActionBody, AnswerBody, TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.domain.vocabulary import (
    DEFAULT_URGENCY,
    KINDS,
    ONLINE_CHANNELS,
    OPERATOR_CHANNELS,
    URGENCIES,
)
from hotline.privacy.confirmed import needs_confirmation
from hotline.privacy.rules import may_ask_no_contact
from hotline.services import knowledge, repeat_holds
from hotline.services import tickets as svc
from hotline.services.approvals import PendingRequest, pending_requests
from hotline.services.callbacks import callback_queue
from hotline.services.event_log import events_of
from hotline.services.units import unit_directory
from hotline.web.pages import similar as similar_pages
from hotline.web.pages.common import next_clock, redirect, render, require_form, signed_in
from hotline.web.pages.forms import validate_form
from hotline.web.pages.params import page_query
from hotline.web.presenters import ticket_out
from hotline.web.queries import TicketListQuery
from hotline.web.session import flash
from sla.clock import ClockKind

CONSOLE_ROLES = (Role.OPERATOR.value, Role.SUPERVISOR.value)
QUEUE_SIZE = 30
# Form field → where it goes in TicketCreate.
NESTED = {
    "address": ("location", "address"),
    "name": ("complainant", "name"),
    "phone": ("complainant", "phone"),
    "anonymous": ("complainant", "anonymous"),
    "confidential": ("complainant", "confidential"),
    "no_contact": ("complainant", "no_contact"),
}
CHECKBOXES = ("anonymous", "confidential", "no_contact")
ERROR_FIELDS = {
    "location.address": "address",
    "complainant.name": "name",
    "complainant.phone": "phone",
}


def _intake_context(
    request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    labels = request.app.state.deployment.words().channels
    return {
        "v": values or {"channel": "phone", "kind": "投诉", "urgency": DEFAULT_URGENCY},
        "errors": errors or {},
        "kinds": KINDS,
        "urgencies": URGENCIES,
        # An operator records calls, forms and messages; Open311 requests come by program.
        "channels": [(c, labels[c]) for c in OPERATOR_CHANNELS],
        # A closed list (the API refuses other words); the input filters it as one types.
        "categories": request.app.state.deployment.words().categories,
    }


async def console(request: Request) -> Response:
    """GET /operator — intake form and the queues."""
    signed_in(request, *CONSOLE_ROLES)
    context = _intake_context(request)
    created = request.query_params.get("created") or ""
    if re.fullmatch(TICKET_NUMBER_PATTERN, created):
        context["created"] = created
    return render(request, "operator.html", context)


def _create_data(form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"location": {}, "complainant": {}}
    for key in ("channel", "kind", "urgency", "title", "content", "category", "call_id"):
        value = str(form.get(key) or "").strip()
        if value:
            data[key] = value
    for key, (group, name) in NESTED.items():
        if key in CHECKBOXES:
            data[group][name] = form.get(key) == "on"
        else:
            data[group][name] = str(form.get(key) or "").strip()
    # Only a reporter may ask not to be contacted; the box may stay ticked after the kind
    # changed (it is always shown without JS), so another kind drops it here.
    if not may_ask_no_contact(str(data.get("kind") or "")):
        data["complainant"]["no_contact"] = False
    data["auto_dispatch"] = False
    return data


def _entry_id(raw: object) -> int | None:
    """The hidden field 「用此答复」 fills: an entry id, or nothing."""
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 2**31 else None


async def intake(request: Request) -> Response:
    """POST /operator/tickets — record the call; 直接办结 answers and closes it at once."""
    principal = signed_in(request, *CONSOLE_ROLES)
    form = await require_form(request)
    answer_now = form.get("do") == Action.ANSWER.value  # the button names the action
    values = {k: form.get(k) for k in form if k != "csrf_token"}
    data, errors = validate_form(TicketCreate, _create_data(form))
    answer = None
    if answer_now:
        # 「用此答复」's entry, if it may still be used (else the answer stands on its own).
        used = await knowledge.usable_entry(_entry_id(form.get("kb_entry")), utcnow())
        answer, answer_errors = validate_form(
            AnswerBody, {"text": form.get("answer") or "", "kb_entry": used.id if used else None}
        )
        if answer_errors:
            errors["answer"] = "直接办结需要填写答复内容（至少 2 个字）"
    if errors:
        shown = {ERROR_FIELDS.get(k, k): v for k, v in errors.items()}
        context = _intake_context(request, values, shown)
        context["extra_flashes"] = [("error", "未受理：请按红字提示修改，已填写的内容都还在。")]
        return render(request, "operator.html", context, status=422)
    settings = request.app.state.settings
    try:
        record = await svc.create_ticket(
            data=data,
            actor=svc.Actor.of(principal),
            now=utcnow(),
            deployment=request.app.state.deployment,
            # 直接办结 must not be dispatched first; otherwise as the deployment says.
            auto_dispatch=False if answer_now else settings.auto_dispatch,
        )
    except HotlineError as exc:
        if not exc.fields:
            raise
        # A refusal about a field (a category not in the list) is shown beside it, the call's
        # words kept, as the form's own checks are.
        shown = {ERROR_FIELDS.get(f["field"], f["field"]): f["message"] for f in exc.fields}
        context = _intake_context(request, values, shown)
        context["extra_flashes"] = [("error", "未受理：请按红字提示修改，已填写的内容都还在。")]
        return render(request, "operator.html", context, status=exc.status)
    number = record.ticket.number
    if answer_now:
        await svc.perform_action(
            number=number,
            action=Action.ANSWER.value,
            body=answer,
            principal=principal,
            now=utcnow(),
            deployment=request.app.state.deployment,
        )
        if answer is not None and answer.kb_entry:
            await knowledge.record_use(answer.kb_entry, utcnow())
        flash(request, f"已受理并直接办结，工单号 {number}（查询码 {record.ticket.query_code}）。")
        return redirect("/operator")
    status = record.ticket.status
    code = record.ticket.query_code
    if needs_confirmation(kind=record.ticket.kind, confidential=record.ticket.confidential):
        then = "这是举报件或保密件：请打开工单核对单位将看到的标题和内容，确认后再派单。"
    elif status == Status.DISPATCHED.value:
        then = "已按系统建议自动派单。"
    elif await repeat_holds.is_held(record.ticket.id):
        then = (
            "疑似重复：与近期在办的工单很可能是同一件事，未派单；"
            "请在「疑似重复」中并单或确认不是重复。"
        )
    else:
        then = "待派单：可稍后在「待派单」中打开核对建议后派单。"
    flash(request, f"已受理，工单号 {number}（查询码 {code}）。{then}")
    # Back to an empty form for the next caller; the new ticket stays one click away.
    return redirect(f"/operator?created={number}")


async def caller(request: Request) -> Response:
    """GET /operator/caller?phone= — the caller's earlier tickets, open ones first."""
    principal = signed_in(request, *CONSOLE_ROLES)
    # The API's model: two numbers pasted at once are said in the box, not sent to the database.
    asked = {"phone": request.query_params.get("phone")}
    phone = page_query(TicketListQuery, asked, what="无法查询来电").phone or ""
    rows: list[Any] = []
    total = 0
    if len(phone) >= 7:
        items, total = await svc.list_tickets(
            principal=principal,
            filters=svc.TicketFilter(phone=phone),
            page=1,
            per_page=20,
            now=utcnow(),
        )
        units = await unit_directory()
        open_values = {s.value for s in OPEN_STATUSES}
        items.sort(key=lambda t: t.status not in open_values)  # stable: newest first within
        rows = [ticket_out(svc.record_of(t), viewer=principal, units=units) for t in items]
    return render(
        request,
        "_caller.html",
        {
            "rows": rows,
            "total": total,
            "phone": phone,
            "open_statuses": [s.value for s in OPEN_STATUSES],
        },
    )


ONLINE_WINDOW = timedelta(hours=24)


async def _queue(principal: Any, status: str, **extra: Any) -> tuple[list[Any], int]:
    return await svc.list_tickets(
        principal=principal,
        filters=svc.TicketFilter(status=[status], **extra),
        page=1,
        per_page=QUEUE_SIZE,
        now=utcnow(),
        oldest_first=True,
    )


async def _last_payload(ids: list[int], action: str) -> dict[int, dict[str, Any]]:
    # Oldest first, so each ticket keeps its latest.
    return {e.ticket_id: dict(e.payload) for e in await events_of(ids, [action])}


async def queues(request: Request) -> Response:
    """GET /operator/queue — dispatch queue, disputes and callbacks (polled)."""
    from hotline.services.units import active_units
    from hotline.web.pages.forms import fields_of

    principal = signed_in(request, *CONSOLE_ROLES)
    units = await unit_directory()
    sla = request.app.state.deployment.sla
    now = utcnow()
    # Tickets held in 疑似重复 wait there, not here: 按建议派单 would send a repeat out twice.
    held = await repeat_holds.held_ids(now=now)
    review, review_total = await _queue(principal, Status.RECEIVED.value, exclude_ids=held)
    pending, pending_total = await pending_requests(page=1, per_page=QUEUE_SIZE)
    # Soonest 回访时限 first (overdue at the top): the callback is the centre's own clock.
    callbacks, replied_total = await callback_queue(limit=QUEUE_SIZE)
    replied = [c.ticket for c in callbacks]
    # Contacts made without an operator (web form, WeChat, Open311): worth a look even when
    # the router dispatched them, e.g. to call back a citizen who left only a phone number.
    online, online_total = await svc.list_tickets(
        principal=principal,
        filters=svc.TicketFilter(channels=list(ONLINE_CHANNELS), created_since=now - ONLINE_WINDOW),
        page=1,
        per_page=QUEUE_SIZE,
        now=now,
    )
    replies = await _last_payload([t.id for t in replied], Action.REPLY.value)

    def rows(items: list[Any], extra: dict[int, dict[str, Any]] | None = None) -> list[Any]:
        return [
            {
                "t": (out := ticket_out(svc.record_of(t), viewer=principal, units=units)),
                "left": next_clock(out, now=now, sla=sla),
                "payload": (extra or {}).get(t.id, {}),
                "unit_name": units[out.lead_unit.code].name if out.lead_unit else "",
            }
            for t in items
        ]

    choices = [(u.code, u.name) for u in await active_units()]
    return render(
        request,
        "_operator_queues.html",
        {
            "review": rows(review),
            "review_total": review_total,
            "approvals": [approval_row(p, principal, units, now) for p in pending],
            "approvals_total": pending_total,
            "replied": [
                {**row, **callback_due(c.due_at, now)}
                for row, c in zip(rows(replied, replies), callbacks, strict=True)
            ],
            "replied_total": replied_total,
            "online": rows(online),
            "online_total": online_total,
            "online_channels": _words(
                [request.app.state.deployment.words().channels[c] for c in ONLINE_CHANNELS]
            ),
            **await similar_pages.queue_context(principal),
            "callback_fields": fields_of(
                ACTIONS[Action.CALLBACK].body,
                action="callback",
                units=choices,
                role=principal.role,
            ),
        },
    )


def callback_due(due_at: datetime | None, now: datetime) -> dict[str, Any]:
    """What the callback queue shows of a ticket's 回访时限: the deadline and, past it, how
    late (已超回访时限)."""
    if due_at is None:
        return {"callback_due": None, "callback_late": None}
    late = now - due_at
    return {
        "callback_due": due_at,
        "callback_late": waited_text(late) if late > timedelta(0) else None,
    }


def waited_text(waited: timedelta) -> str:
    """How long a request has waited, as the queue says it: 2天3小时 / 3小时5分 / 不到1分钟."""
    waited = max(waited, timedelta(0))
    hours, minutes = waited.seconds // 3600, (waited.seconds % 3600) // 60
    if waited.days:
        return f"{waited.days}天{hours}小时"
    return f"{hours}小时{minutes}分" if hours else (f"{minutes}分钟" if minutes else "不到1分钟")


def _decision_kind(action: Action) -> str:
    """How the queue offers a decision: one click, a reason to write, or the ticket's form
    (a decision that needs more, e.g. 改派 naming a unit)."""
    extra = set(ACTIONS[action].body.model_fields) - set(ActionBody.model_fields)
    required = {n for n in extra if ACTIONS[action].body.model_fields[n].is_required()}
    if required == {"reason"} and extra == {"reason"}:
        return "reason"
    if not required and not any("unit" in n for n in extra):
        return "click"
    return "form"


def approval_row(
    item: PendingRequest, principal: Any, units: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """One request of the approvals queue as the console shows it, with its decisions."""
    t = ticket_out(item.record, viewer=principal, units=units)
    unit = next((u for u in units.values() if u.id == item.unit_id), None)
    status = Status(t.status)
    return {
        "t": t,
        "label": item.request.label,
        "reason": item.reason,
        "days": item.payload.get("days"),
        "unit_name": unit.name if unit else "",
        "asked_at": item.asked_at,
        "waited": waited_text(now - item.asked_at),
        # Past the centre's own limit for deciding (改派 or 审批 clock): supervisors are told.
        "late": any(
            c.current
            and c.is_open
            and ClockKind(c.kind) in (ClockKind.REDISPATCH, ClockKind.DECISION)
            and c.due_at < now
            for c in item.record.clocks
        ),
        "decisions": [
            {"action": a.value, "label": ACTIONS[a].label, "kind": _decision_kind(a)}
            for a in decisions(status, Role(principal.role))
        ],
    }


def _words(items: list[str]) -> str:
    """甲、乙和丙."""
    return "、".join(items[:-1]) + "和" + items[-1] if len(items) > 1 else "".join(items)


routes = [
    Route("/operator", console, methods=["GET"]),
    Route("/operator/tickets", intake, methods=["POST"]),
    Route("/operator/caller", caller, methods=["GET"]),
    Route("/operator/queue", queues, methods=["GET"]),
]
