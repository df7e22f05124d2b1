"""Citizens' photos served back: to the citizen with the ticket's number and query code, and
to signed-in staff who may see the ticket. Never by a path a client names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from hotline.citizens.photos import BY_EXTENSION, HEIC
from hotline.domain.errors import HotlineError, not_found
from hotline.domain.lifecycle import Role
from hotline.domain.schemas import TICKET_NUMBER_PATTERN
from hotline.privacy.confirmed import needs_confirmation
from hotline.services import photo_store
from hotline.services import tickets as ticket_service
from hotline.services.ratelimit import Refused
from hotline.web.pages.common import render, signed_in
from hotline.web.pages.params import ticket_number

if TYPE_CHECKING:  # rows the services read: the web layer shows them and runs no query
    from hotline.domain.models import Ticket

_NUMBER = re.compile(TICKET_NUMBER_PATTERN)
# The same words for a wrong code, a wrong number and a missing photo: nothing leaks.
PHOTO_NOT_FOUND = "没有找到这张照片。请核对工单号和查询码后，从进度查询页打开。"


def photo_response(ticket: Ticket, index: int, root: Path) -> Response:
    """The index-th attachment of a ticket if it is a stored photo; 404 otherwise."""
    items: list[Any] = list(ticket.attachments or [])
    item = items[index] if 0 <= index < len(items) else None
    stored = item.get("photo") if isinstance(item, dict) else None
    path = photo_store.path_of(root, stored) if isinstance(stored, str) else None
    if path is None or not path.is_file():
        raise not_found("照片")
    assert isinstance(stored, str)
    # The type comes from our own stored name (checked bytes), not from what was uploaded.
    kind = BY_EXTENSION[stored.rsplit(".", 1)[1]]
    # Browsers cannot show HEIC: it is offered as a download (tickets from before uploads
    # were converted to JPEG).
    disposition = "attachment" if kind is HEIC else "inline"
    name = str(item.get("name") or f"photo.{kind.extension}") if item else stored
    return FileResponse(
        path,
        media_type=kind.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            # Citizens open photos on shared phones and internet-café PCs: nothing kept.
            "Cache-Control": "no-store",
        },
    )


def _index(request: Request) -> int:
    return int(request.path_params["index"])


async def track_photo(request: Request) -> Response:
    """GET /track/{number}/photos/{index}?code= — a photo for whoever holds the query code."""
    number = request.path_params["number"]
    if not _NUMBER.match(number):
        return _citizen_error(request, 404, PHOTO_NOT_FOUND)
    client = request.client.host if request.client else "unknown"
    try:
        # Counted like /api/v1/track: a photo URL must not be a second place to guess codes.
        attempt = await request.app.state.track_limiter.attempt(client, number)
    except Refused as exc:
        response = _citizen_error(
            request, 429, f"查询码错误次数过多，请 {exc.retry_after} 秒后再试。"
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    code = request.query_params.get("code", "")
    try:
        if not code or len(code) > 32:
            raise not_found()
        ticket = await ticket_service.track_ticket(number=number, code=code)
    except HotlineError as exc:
        await attempt.failed()
        if exc.status != 404:
            raise
        return _citizen_error(request, 404, PHOTO_NOT_FOUND)
    finally:
        await attempt.release()  # right code (or the check broke): its place is given back
    try:
        return photo_response(ticket, _index(request), request.app.state.settings.upload_dir)
    except HotlineError:
        return _citizen_error(request, 404, PHOTO_NOT_FOUND)


def _citizen_error(request: Request, status: int, message: str) -> Response:
    """An error page in the citizens' layout and words (never the staff pages' wording)."""
    response = render(request, "citizen_error.html", {"status": status, "message": message}, status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def staff_photo(request: Request) -> Response:
    """GET /tickets/{number}/photos/{index} — a photo for staff who may see the ticket."""
    principal = signed_in(request)
    number = ticket_number(request.path_params["number"])
    ticket = await ticket_service.visible_ticket(number=number, principal=principal)
    if principal.role == Role.UNIT and needs_confirmation(
        kind=ticket.kind, confidential=ticket.confidential
    ):
        # A unit reads only the confirmed text of a 举报 or confidential ticket: a photo
        # may show the reporter, their home or their file name.
        raise not_found("照片")
    return photo_response(ticket, _index(request), request.app.state.settings.upload_dir)


routes = [
    Route("/track/{number}/photos/{index:int}", track_photo, methods=["GET"]),
    Route("/tickets/{number}/photos/{index:int}", staff_photo, methods=["GET"]),
]
