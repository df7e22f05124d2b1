"""JSON API under /api/v1: each endpoint parses, calls one service function and answers."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.errors import HotlineError, not_found
from hotline.lifecycle import ACTION_BODIES, Action, Role
from hotline.presenters import ticket_out, track_out, unit_out
from hotline.schemas import TicketCreate, TicketPage
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import retry_key
from hotline.services.units import active_units, unit_directory
from hotline.timefmt import utcnow
from hotline.web.http import (
    error_response,
    json_response,
    read_json,
    require_principal,
    require_role,
)
from hotline.web.ratelimit import Refused

MAX_PER_PAGE = 100


def _deployment(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.deployment


async def create_ticket(request: Request) -> Response:
    """POST /api/v1/tickets — an operator records a new ticket."""
    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR)
    data = await read_json(request, TicketCreate)
    settings = request.app.state.settings
    record = await ticket_service.create_ticket(
        data=data,
        actor=ticket_service.Actor.of(principal),
        now=utcnow(),
        deployment=_deployment(request),
        auto_dispatch=settings.auto_dispatch if data.auto_dispatch is None else data.auto_dispatch,
        retry=retry_key(
            f"user:{principal.user_id}",
            request.headers.get("idempotency-key"),
            ["create", data.model_dump(mode="json")],
        ),
    )
    # Built from what was just written: nothing is read back.
    body = ticket_out(record, viewer=principal, units=await unit_directory())
    response = json_response(body, status=201)
    response.headers["Location"] = f"/api/v1/tickets/{record.ticket.number}"
    if record.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _bool(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise HotlineError(f"参数 {name} 必须是 true 或 false", status=422, code="validation_error")


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise HotlineError(
            f"参数 {name} 必须是 YYYY-MM-DD 格式的日期", status=422, code="validation_error"
        ) from exc


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise HotlineError(
            f"参数 {name} 必须是 {low}–{high} 之间的整数", status=422, code="validation_error"
        )
    return int(value)


async def list_tickets(request: Request) -> Response:
    """GET /api/v1/tickets — filtered, paginated, scoped to what the user may see."""
    principal = await require_principal(request)
    q = request.query_params
    status = [s for s in (q.get("status") or "").split(",") if s]
    filters = ticket_service.TicketFilter(
        status=status or None,
        unit=q.get("unit") or None,
        kind=q.get("kind") or None,
        category=q.get("category") or None,
        created_from=_date(q.get("created_from"), "created_from"),
        created_to=_date(q.get("created_to"), "created_to"),
        overdue=_bool(q.get("overdue"), "overdue"),
        needs_review=_bool(q.get("needs_review"), "needs_review"),
        phone=q.get("phone") or None,
        q=q.get("q") or None,
    )
    page = _int(q.get("page"), "page", 1, 1, 1_000_000)
    per_page = _int(q.get("per_page"), "per_page", 20, 1, MAX_PER_PAGE)
    items, total = await ticket_service.list_tickets(
        principal=principal, filters=filters, page=page, per_page=per_page, now=utcnow()
    )
    units = await unit_directory()
    return json_response(
        TicketPage(
            items=[
                ticket_out(ticket_service.record_of(t), viewer=principal, units=units)
                for t in items
            ],
            total=total,
            page=page,
            per_page=per_page,
        )
    )


async def get_ticket(request: Request) -> Response:
    """GET /api/v1/tickets/{number} — one ticket with its timeline."""
    principal = await require_principal(request)
    ticket = await ticket_service.visible_ticket(
        number=request.path_params["number"], principal=principal
    )
    events = await ticket_service.timeline(ticket)
    return json_response(
        ticket_out(
            ticket_service.record_of(ticket),
            viewer=principal,
            units=await unit_directory(),
            events=events,
        )
    )


async def ticket_action(request: Request) -> Response:
    """POST /api/v1/tickets/{number}/{action} — one lifecycle action."""
    principal = await require_principal(request)
    action = request.path_params["action"]
    body_model = ACTION_BODIES.get(action)
    if body_model is None:
        raise HotlineError(f"未知操作：{action}", status=404, code="unknown_action")
    number = request.path_params["number"]
    # Scope first: someone else's ticket is 404 whatever the body says.
    ticket = await ticket_service.visible_ticket(number=number, principal=principal)
    body = await read_json(request, body_model, allow_empty=True)
    record = await ticket_service.perform_action(
        number=number,
        ticket=ticket,
        action=Action(action).value,
        body=body,
        principal=principal,
        now=utcnow(),
        deployment=_deployment(request),
        retry=retry_key(
            f"user:{principal.user_id}",
            request.headers.get("idempotency-key"),
            [number, action, body.model_dump(mode="json")],
        ),
    )
    # A unit that was re-dispatched away (改派) no longer sees the ticket.
    if not ticket_service.may_see(record, principal):
        return JSONResponse({"number": number, "status": "no_longer_visible"}, status_code=200)
    events = await ticket_service.timeline(record.ticket)
    response = json_response(
        ticket_out(record, viewer=principal, units=await unit_directory(), events=events)
    )
    if record.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def track(request: Request) -> Response:
    """GET /api/v1/track/{number}?code=XXXXXX — public status, no personal data."""
    # The peer address; uvicorn replaces it from X-Forwarded-For only for FORWARDED_ALLOW_IPS.
    client = request.client.host if request.client else "unknown"
    number = request.path_params["number"]
    try:
        attempt = await request.app.state.track_limiter.attempt(client, number)
    except Refused as exc:
        response = error_response(
            429, "rate_limited", f"查询码错误次数过多，请 {exc.retry_after} 秒后再试"
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    code = request.query_params.get("code", "")
    try:
        if not code:
            raise not_found()
        ticket = await ticket_service.track_ticket(number=number, code=code)
    except HotlineError:
        await attempt.failed()
        raise
    await attempt.succeeded()
    events = await ticket_service.timeline(ticket, public_only=True)
    record = ticket_service.record_of(ticket)
    return json_response(track_out(record, events, await unit_directory()))


async def list_units(request: Request) -> Response:
    """GET /api/v1/units — every active responsible unit."""
    await require_principal(request)
    return JSONResponse(
        {"items": [out.model_dump() for u in await active_units() if (out := unit_out(u))]}
    )


async def routing_stats(request: Request) -> Response:
    """GET /api/v1/stats/routing — auto-dispatch, dispute and re-dispatch shares per unit."""
    from hotline.services.stats import routing_figures
    from hotline.services.tickets import local_midnight

    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
    q = request.query_params
    since = _date(q.get("from"), "from")
    until = _date(q.get("to"), "to")
    return JSONResponse(
        await routing_figures(
            since=local_midnight(since) if since else None,
            until=local_midnight(until + timedelta(days=1)) if until else None,
        )
    )


routes = [
    Route("/api/v1/tickets", create_ticket, methods=["POST"]),
    Route("/api/v1/tickets", list_tickets, methods=["GET"]),
    Route("/api/v1/tickets/{number}", get_ticket, methods=["GET"]),
    Route("/api/v1/tickets/{number}/{action}", ticket_action, methods=["POST"]),
    Route("/api/v1/track/{number}", track, methods=["GET"]),
    Route("/api/v1/units", list_units, methods=["GET"]),
    Route("/api/v1/stats/routing", routing_stats, methods=["GET"]),
]
