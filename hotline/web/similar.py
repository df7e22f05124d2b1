"""Similar tickets over HTTP: the candidates of a ticket, or of a call being typed (重复件)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.lifecycle import STATUS_LABELS, Role, Status
from hotline.domain.timefmt import utcnow
from hotline.services import similar as similar_service
from hotline.services import tickets as ticket_service
from hotline.web.endpoint import TICKET_NUMBER, api, request_body
from hotline.web.http import json_response, require_principal, require_role
from hotline.web.schemas_similar import SimilarList, SimilarOut, SimilarQuery


def _answer(request: Request, items: list[similar_service.Similar]) -> Response:
    rules = similar_service.scorer(request.app.state.deployment).rules
    return json_response(
        SimilarList(
            items=[
                SimilarOut(
                    number=i.number,
                    title=i.title,
                    status=i.status,
                    status_label=STATUS_LABELS[Status(i.status)],
                    score=i.score,
                    reason=i.reason,
                )
                for i in items
            ],
            hold_threshold=rules.hold_threshold,
        )
    )


@api(
    summary="相似工单（可能是同一件事的在办工单）",
    path={"number": TICKET_NUMBER},
    response=SimilarList,
    description="相似工单，最相似的在前",
    errors=(401, 404),
)
async def ticket_similar(request: Request) -> Response:
    """GET /api/v1/tickets/{number}/similar — open, recent tickets this one probably repeats."""
    principal = await require_principal(request)
    ticket = await ticket_service.visible_ticket(
        number=request.path_params["number"], principal=principal
    )
    items = await similar_service.find_similar(
        probe=similar_service.probe_of(ticket, unit=principal.role == Role.UNIT),
        deployment=request.app.state.deployment,
        now=utcnow(),
        principal=principal,
    )
    return _answer(request, items)


@api(
    summary="查找相似工单（受理时按内容、地点、来电号码）",
    body=SimilarQuery,
    response=SimilarList,
    description="相似工单，最相似的在前",
    errors=(400, 401, 403, 413, 422),
)
async def similar(request: Request) -> Response:
    """POST /api/v1/similar — open, recent tickets a call being typed probably repeats."""
    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR)
    q: SimilarQuery = await request_body(request)
    deployment = request.app.state.deployment
    district, street = q.district, q.street
    if not district and not street:
        district, street = similar_service.place_of(deployment, f"{q.title}\n{q.text}", q.address)
    items = await similar_service.find_similar(
        probe=similar_service.Probe(
            text=q.text,
            title=q.title,
            address=q.address,
            district=district,
            street=street,
            phone=q.phone,
        ),
        deployment=deployment,
        now=utcnow(),
        principal=principal,
    )
    return _answer(request, items)


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/tickets/{number}/similar", ticket_similar, methods=["GET"]),
    Route("/similar", similar, methods=["POST"]),
]
