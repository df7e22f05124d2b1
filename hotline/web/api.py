"""JSON API under /api/v1: each endpoint parses, calls one service function and answers.

Each endpoint declares its contract once with `@api(...)`; `routes` is mounted at /api/v1 in
hotline.web.app, and /openapi.json is generated from that route table.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTION_BODIES, Action, Role
from hotline.domain.schemas import RatingIn, TicketCreate, TicketOut, TicketPage, TrackOut
from hotline.domain.timefmt import utcnow
from hotline.services import knowledge, rating
from hotline.services import tickets as ticket_service
from hotline.services.idempotency import retry_key
from hotline.services.ratelimit import Refused
from hotline.services.units import active_units, unit_directory
from hotline.web.endpoint import TICKET_NUMBER, api, request_body, request_query
from hotline.web.http import error_response, json_response, require_principal, require_role
from hotline.web.presenters import ticket_out, unit_out
from hotline.web.queries import DateRangeQuery, TicketListQuery, TrackQuery
from hotline.web.tracking import same_origin, too_many_tries, track_view, tracked_ticket


def _deployment(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.deployment


@api(
    summary="受理新工单",
    body=TicketCreate,
    response=TicketOut,
    status=201,
    description="已受理",
    errors=(400, 401, 403, 413, 422),
)
async def create_ticket(request: Request) -> Response:
    """POST /api/v1/tickets — an operator records a new ticket."""
    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR)
    data: TicketCreate = await request_body(request)
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


@api(
    summary="工单列表",
    query=TicketListQuery,
    response=TicketPage,
    description="一页工单",
    errors=(401, 403, 422),  # 403: unit staff may not search by phone
)
async def list_tickets(request: Request) -> Response:
    """GET /api/v1/tickets — filtered, paginated, scoped to what the user may see."""
    principal = await require_principal(request)
    q: TicketListQuery = request_query(request)
    filters = ticket_service.TicketFilter(
        status=q.status or None,
        unit=q.unit,
        kind=q.kind,
        category=q.category,
        channel=q.channel,
        created_from=q.created_from,
        created_to=q.created_to,
        overdue=q.overdue,
        needs_review=q.needs_review,
        phone=q.phone,
        q=q.q,
        external_id=q.external_id,
    )
    page, per_page = q.page, q.per_page
    found = await ticket_service.find_tickets(
        principal=principal, filters=filters, page=page, per_page=per_page, now=utcnow()
    )
    units = await unit_directory()
    return json_response(
        TicketPage(
            items=[
                ticket_out(ticket_service.record_of(t), viewer=principal, units=units)
                for t in found.items
            ],
            total=found.total,
            page=page,
            per_page=per_page,
            total_capped=found.capped,
        )
    )


@api(
    summary="工单详情与流转记录",
    path={"number": TICKET_NUMBER},
    response=TicketOut,
    description="工单",
    errors=(401, 404),
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


@api(
    summary="工单操作：{action}",
    path={"number": TICKET_NUMBER},
    bodies=ACTION_BODIES,
    per="action",
    body_required=False,
    response=TicketOut,
    description="操作后的工单",
    errors=(400, 401, 403, 404, 409, 413, 422),
)
async def ticket_action(request: Request) -> Response:
    """POST /api/v1/tickets/{number}/{action} — one lifecycle action."""
    principal = await require_principal(request)
    action = request.path_params["action"]
    if action not in ACTION_BODIES:
        raise HotlineError(f"未知操作：{action}", status=404, code="unknown_action")
    number = request.path_params["number"]
    # Scope first: someone else's ticket is 404 whatever the body says.
    ticket = await ticket_service.visible_ticket(number=number, principal=principal)
    data = await request_body(request)
    used = getattr(data, "kb_entry", None)  # 直接办结 with a knowledge-base entry
    await knowledge.check_usable(used, utcnow())
    record = await ticket_service.perform_action(
        number=number,
        ticket=ticket,
        action=Action(action).value,
        body=data,
        principal=principal,
        now=utcnow(),
        deployment=_deployment(request),
        retry=retry_key(
            f"user:{principal.user_id}",
            request.headers.get("idempotency-key"),
            [number, action, data.model_dump(mode="json")],
        ),
    )
    if used and not record.replayed:
        await knowledge.record_use(used, utcnow())
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


@api(
    summary="市民查询办理进度（无需登录）",
    public=True,
    path={"number": TICKET_NUMBER},
    query=TrackQuery,
    response=TrackOut,
    description="进度",
    errors=(404, 422, 429),
)
async def track(request: Request) -> Response:
    """GET /api/v1/track/{number}?code=XXXXXX — public status, no personal data."""
    number = request.path_params["number"]
    try:
        ticket = await tracked_ticket(request, number, request_query(request).code)
    except Refused as exc:
        return _too_many(exc)
    return json_response(await track_view(ticket))


@api(
    summary="市民评价办理结果（即回访，无需登录）",
    public=True,
    path={"number": TICKET_NUMBER},
    body=RatingIn,
    response=TrackOut,
    description="评价已记录（计入回访、满意率）",
    errors=(400, 403, 404, 409, 413, 422, 429),
)
async def rate(request: Request) -> Response:
    """POST /api/v1/track/{number}/rating — the complainant rates the reply (回访)."""
    if not same_origin(request):
        message = "请求来源不符，请在本站的进度查询页评价"
        raise HotlineError(message, status=403, code="cross_origin")
    data: RatingIn = await request_body(request)
    try:
        ticket = await tracked_ticket(request, request.path_params["number"], data.code)
    except Refused as exc:
        return _too_many(exc)
    record = await rating.rate(
        ticket=ticket, rating=data, now=utcnow(), deployment=_deployment(request)
    )
    return json_response(await track_view(record.ticket))


def _too_many(exc: Refused) -> Response:
    response = error_response(429, "rate_limited", too_many_tries(exc.retry_after))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@api(summary="承办单位列表", description="单位", errors=(401,))
async def list_units(request: Request) -> Response:
    """GET /api/v1/units — every active responsible unit."""
    await require_principal(request)
    return JSONResponse(
        {"items": [out.model_dump() for u in await active_units() if (out := unit_out(u))]}
    )


@api(
    summary="派单统计：自动派单率、退单率、改派率（按单位，来自事件记录）",
    query=DateRangeQuery,
    description="统计",
    errors=(401, 403, 422),
)
async def routing_stats(request: Request) -> Response:
    """GET /api/v1/stats/routing — auto-dispatch, dispute and re-dispatch shares per unit."""
    from hotline.services.stats import routing_figures
    from hotline.services.tickets import local_midnight

    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
    q: DateRangeQuery = request_query(request)
    since, until = q.since, q.until
    return JSONResponse(
        await routing_figures(
            since=local_midnight(since) if since else None,
            until=local_midnight(until + timedelta(days=1)) if until else None,
        )
    )


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/tickets", create_ticket, methods=["POST"]),
    Route("/tickets", list_tickets, methods=["GET"]),
    Route("/tickets/{number}", get_ticket, methods=["GET"]),
    Route("/tickets/{number}/{action}", ticket_action, methods=["POST"]),
    Route("/track/{number}", track, methods=["GET"]),
    Route("/track/{number}/rating", rate, methods=["POST"]),
    Route("/units", list_units, methods=["GET"]),
    Route("/stats/routing", routing_stats, methods=["GET"]),
]
