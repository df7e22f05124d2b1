"""The console's similar tickets (重复件): candidates while a call is typed, one-click 并单 of
the call into an open ticket, and the 疑似重复 queue (merge or release a held ticket)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Action, Role
from hotline.domain.schemas import MergeBody, TicketCreate
from hotline.domain.timefmt import utcnow
from hotline.services import repeat_holds
from hotline.services import similar as similar_service
from hotline.services import tickets as svc
from hotline.services.units import unit_directory
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.pages.forms import validate_form
from hotline.web.presenters import ticket_out
from hotline.web.session import flash

CONSOLE_ROLES = (Role.OPERATOR.value, Role.SUPERVISOR.value)
QUEUE_SIZE = 30
MIN_TEXT = 4  # fewer characters say nothing about the matter


async def candidates(request: Request) -> Response:
    """GET /operator/similar?title=&content=&address=&phone= — the panel beside the intake form."""
    principal = signed_in(request, *CONSOLE_ROLES)
    q = request.query_params
    title = (q.get("title") or "")[:200].strip()
    content = (q.get("content") or "")[:20000].strip()
    address = (q.get("address") or "")[:300].strip()
    phone = (q.get("phone") or "")[:32].strip()
    items: list[similar_service.Similar] = []
    if len(title) + len(content) >= MIN_TEXT or len(phone) >= 7:
        deployment = request.app.state.deployment
        district, street = similar_service.place_of(deployment, f"{title}\n{content}", address)
        items = await similar_service.find_similar(
            probe=similar_service.Probe(
                text=content,
                title=title,
                address=address,
                district=district,
                street=street,
                phone=phone if phone.replace("-", "").replace(" ", "").isdigit() else "",
            ),
            deployment=deployment,
            now=utcnow(),
            principal=principal,
        )
    rules = similar_service.scorer(request.app.state.deployment).rules
    return render(
        request,
        "_similar.html",
        {"items": items, "asked": bool(title or content or phone), "hold": rules.hold_threshold},
    )


async def merge_call(request: Request) -> Response:
    """POST /operator/merge — record the call being typed and merge it into an open ticket.

    The call is kept as a ticket of its own (the caller, the words, the time), closed as 并单
    into the ticket it repeats, whose reply the caller will hear.
    """
    from hotline.web.pages.operator import ERROR_FIELDS, _create_data, _intake_context

    principal = signed_in(request, *CONSOLE_ROLES)
    form = await require_form(request)
    into = str(form.get("into") or "")
    values = {k: form.get(k) for k in form if k not in ("csrf_token", "into")}
    data, errors = validate_form(TicketCreate, _create_data(form))
    body, body_errors = validate_form(MergeBody, {"into": into})
    if errors or body_errors:
        shown = {ERROR_FIELDS.get(k, k): v for k, v in errors.items()}
        if body_errors:
            shown["_"] = "要并入的工单号不对，请在右侧「相似工单」中重新点选"
        context = _intake_context(request, values, shown)
        context["extra_flashes"] = [
            ("error", "未并单：请按红字提示补全来电内容，已填写的内容都还在。")
        ]
        return render(request, "operator.html", context, status=422)
    deployment = request.app.state.deployment
    record = await svc.create_ticket(
        data=data,
        actor=svc.Actor.of(principal),
        now=utcnow(),
        deployment=deployment,
        auto_dispatch=False,
    )
    number = record.ticket.number
    try:
        await svc.perform_action(
            number=number,
            action=Action.MERGE.value,
            body=body,
            principal=principal,
            now=utcnow(),
            deployment=deployment,
        )
    except HotlineError as exc:
        # The call is recorded either way; the operator decides what to do with it next.
        flash(
            request,
            f"已受理为工单 {number}，但未能并入 {into}：{exc.message}。请打开工单处理。",
            "error",
        )
        return redirect(f"/operator?created={number}")
    flash(request, f"已受理为工单 {number}，并已并入工单 {into}（不再单独派单）。")
    return redirect(f"/operator?created={number}")


async def release(request: Request) -> Response:
    """POST /operator/repeats/{number}/release — 不是重复: dispatch as usual."""
    principal = signed_in(request, *CONSOLE_ROLES)
    await require_form(request)
    number = request.path_params["number"]
    try:
        said = await repeat_holds.release(
            number=number,
            principal=principal,
            deployment=request.app.state.deployment,
            now=utcnow(),
            auto_dispatch=request.app.state.settings.auto_dispatch,
        )
    except HotlineError as exc:
        flash(request, exc.message, "error")
        return redirect("/operator")
    flash(request, f"工单 {number}：{said}")
    return redirect("/operator")


async def queue_context(principal: Any) -> dict[str, Any]:
    """The 疑似重复 group of the operator's queues."""
    held, total = await repeat_holds.held_tickets(now=utcnow(), limit=QUEUE_SIZE)
    units = await unit_directory()
    return {
        "repeats": [
            {
                "t": ticket_out(svc.record_of(h.ticket), viewer=principal, units=units),
                "candidates": h.candidates,
                "held_at": h.held_at,
            }
            for h in held
        ],
        "repeats_total": total,
    }


routes = [
    Route("/operator/similar", candidates, methods=["GET"]),
    Route("/operator/merge", merge_call, methods=["POST"]),
    Route("/operator/repeats/{number}/release", release, methods=["POST"]),
]
