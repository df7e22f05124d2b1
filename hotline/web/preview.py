"""POST /api/v1/route-preview: the router's proposal for a draft, nothing created."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.lifecycle import Role
from hotline.presenters import routing_out
from hotline.schemas import Kind, Strict
from hotline.services.units import unit_directory
from hotline.web.http import json_response, read_json, require_principal, require_role


class RoutePreviewIn(Strict):
    """A draft ticket as the operator has typed it so far."""

    kind: Kind = "投诉"
    title: str = Field(default="", max_length=200)
    content: str = Field(default="", max_length=20000)
    address: str = Field(default="", max_length=300)
    category: str | None = Field(default=None, max_length=32)


async def route_preview(request: Request) -> Response:
    """Classify and route a draft exactly as `create_ticket` would, without writing anything."""
    principal = await require_principal(request)
    require_role(principal, Role.OPERATOR, Role.SUPERVISOR)
    draft = await read_json(request, RoutePreviewIn)
    proposal: dict[str, Any] = request.app.state.deployment.propose(
        text=f"{draft.title}\n{draft.content}",
        address=draft.address,
        kind=draft.kind,
        category=draft.category or None,
    )
    return json_response(routing_out(proposal, await unit_directory()))


routes = [Route("/api/v1/route-preview", route_preview, methods=["POST"])]
