"""Opening a ticket with its query code, shared by the JSON tracking API and the /track page.

Both go through `tracked_ticket`, so a page lookup and an API lookup count against the same
guessing limits (`hotline.services.ratelimit`), and a wrong code is the same 404 as no ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request

from hotline.domain.errors import HotlineError, not_found
from hotline.domain.schemas import TrackOut
from hotline.privacy.public_view import track_out
from hotline.services import tickets as ticket_service
from hotline.services.units import unit_directory

if TYPE_CHECKING:  # the web layer holds rows the services read; it runs no query
    from hotline.domain.models import Ticket


def client_address(request: Request) -> str:
    """The peer address; uvicorn replaces it from X-Forwarded-For only for FORWARDED_ALLOW_IPS."""
    return request.client.host if request.client else "unknown"


async def tracked_ticket(request: Request, number: str, code: str) -> Ticket:
    """The ticket `code` opens; raises `Refused` over the limits and 404 for a wrong code."""
    attempt = await request.app.state.track_limiter.attempt(client_address(request), number)
    try:
        if not code:
            raise not_found()
        return await ticket_service.track_ticket(number=number, code=code)
    except HotlineError:
        await attempt.failed()
        raise
    finally:
        await attempt.release()  # right code (or the check broke): its place is given back


async def track_view(ticket: Ticket) -> TrackOut:
    """The public view of a ticket opened with its code (a merged repeat shows its main)."""
    events = await ticket_service.timeline(ticket, public_only=True)
    merged = await ticket_service.merged_main(ticket)
    main = (merged[0].ticket, merged[1]) if merged else None
    clocks = ticket_service.record_of(ticket).clocks
    return track_out(ticket, clocks, events, await unit_directory(), main)


def too_many_tries(retry_after: int) -> str:
    """What a refused address is told (the JSON message and the page's first line)."""
    return f"查询码错误次数过多，请 {retry_after} 秒后再试"


def same_origin(request: Request) -> bool:
    """Whether a citizen's POST comes from our own pages (or from no page at all).

    Citizens have no session, so no CSRF token: the query code is the secret, and a page on
    another site must not post a rating with a code it learnt. Browsers send Origin (or at
    least Referer) with a form post; apps and curl send neither and are let through.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    # The host, not the scheme: behind a TLS proxy that is not trusted for
    # X-Forwarded-Proto the request looks like http while the browser says https.
    ours = {request.headers.get("host", "")}
    ours.add(urlsplit(request.app.state.settings.public_base_url).netloc)
    try:
        theirs = urlsplit(source).netloc
    except ValueError:
        return False
    return bool(theirs) and theirs in ours  # Origin "null" (a sandboxed frame) has no host
