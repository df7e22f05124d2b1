"""POST /api/v1/route-preview: the router's proposal for a draft, nothing created."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.lifecycle import Role
from hotline.domain.schemas import Kind, RoutingOut, Strict
from hotline.services.units import unit_directory
from hotline.web.endpoint import api, request_body
from hotline.web.http import json_response, require_principal, require_role
from hotline.web.presenters import routing_out


class RoutePreviewIn(Strict):
    """A draft ticket as the operator has typed it so far."""

    kind: Kind = "投诉"
    title: str = Field(default="", max_length=200)
    content: str = Field(default="", max_length=20000)
    address: str = Field(default="", max_length=300)
    category: str | None = Field(default=None, max_length=32)


@api(
    summary="派单建议预览：按草稿分类、派单，不创建工单",
    body=RoutePreviewIn,
    response=RoutingOut,
    description="路由建议",
    errors=(400, 401, 403, 413, 422),
)
async def route_preview(request: Request) -> Response:
    """Classify and route a draft exactly as `create_ticket` would, without writing anything."""
    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR)
    draft: RoutePreviewIn = await request_body(request)
    proposal: dict[str, Any] = request.app.state.deployment.propose(
        text=f"{draft.title}\n{draft.content}",
        address=draft.address,
        kind=draft.kind,
        category=draft.category or None,
    )
    return json_response(routing_out(proposal, await unit_directory()))


# Mounted at /api/v1 (hotline.web.app).
routes = [Route("/route-preview", route_preview, methods=["POST"])]
