"""The incoming call on the operator's console, and the call log.

`GET /operator/calls/stream` is a server-sent event stream: when the switch reports that this
operator answered a call (`answer` with their account in answeringNumber or user[]), the
console fills the caller's number and shows their history and open tickets, without a reload.
It asks the database twice a second, so the switch's request may reach any web worker or
machine; a stream ends after ten minutes and the browser reconnects (signed in again, and
with the last event's time, so nothing answered meanwhile is lost).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services import calls as call_service
from hotline.services.rates import DateRange
from hotline.web.cti import call_out
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.session import flash

CONSOLE_ROLES = ("operator", "supervisor")
POLL_SECONDS = 0.5  # the pop must appear within a second of the answer
STREAM_SECONDS = 600.0
HEARTBEAT_SECONDS = 15.0
PER_PAGE = 50
NEW_STREAM_LOOKBACK = timedelta(minutes=1)


async def call_stream(request: Request) -> Response:
    """GET /operator/calls/stream — this operator's answered calls as they happen."""
    principal = signed_in(request, *CONSOLE_ROLES)
    since = _since(request.headers.get("last-event-id", ""))

    async def events() -> AsyncIterator[str]:
        nonlocal since
        yield "retry: 1000\n\n"
        started = asyncio.get_running_loop().time()
        quiet = 0.0
        while asyncio.get_running_loop().time() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            for call in await call_service.answered_since(principal.user_id, since):
                since = call.answered_at or since
                out = call_out(call, {})
                data = {
                    "call_id": call.call_id,
                    "caller": out.caller,
                    "queue": call.queue,
                    "answered_at": out.answered_at,
                }
                payload = json.dumps(data, ensure_ascii=False)
                yield f"id: {since.isoformat()}\nevent: answer\ndata: {payload}\n\n"
                quiet = 0.0
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if quiet >= HEARTBEAT_SECONDS:  # keeps proxies from closing an idle stream
                yield ": keep-alive\n\n"
                quiet = 0.0

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _since(last_event_id: str) -> datetime:
    """Where a stream starts: a reconnecting one after its last event (at most 10 minutes
    back); a new one a minute back, so a call answered while the console was loading pops."""
    now = utcnow()
    try:
        last = datetime.fromisoformat(last_event_id)
    except ValueError:
        return now - NEW_STREAM_LOOKBACK
    if last.tzinfo is None:
        return now - NEW_STREAM_LOOKBACK
    return max(last, now - timedelta(minutes=10))


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


async def call_log_page(request: Request) -> Response:
    """GET /calls — the day's calls (or a period), missed ones with 回拨."""
    signed_in(request, *CONSOLE_ROLES)
    today = utcnow().astimezone(SHANGHAI).date()
    first = _day(request.query_params.get("from"), today)
    last = _day(request.query_params.get("to"), first)
    missed = request.query_params.get("missed") in ("1", "true", "on")
    try:
        days = DateRange.of(first, last)
    except HotlineError:
        days = DateRange.of(today, today)
    raw_page = request.query_params.get("page") or "1"
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 1_000_000 else 1
    log = await call_service.call_log(
        day_from=days.first, day_to=days.last, missed_only=missed, page=page, per_page=PER_PAGE
    )
    stats = await call_service.call_stats(day_from=days.first, day_to=days.last)
    return render(
        request,
        "calls.html",
        {
            "calls": [call_out(c, log.names) for c in log.items],
            "total": log.total,
            "page": page,
            "pages": max(1, -(-log.total // PER_PAGE)),
            "first": days.first.isoformat(),
            "last": days.last.isoformat(),
            "missed": missed,
            "stats": stats,
        },
    )


async def call_back(request: Request) -> Response:
    """POST /calls/{id}/callback — a missed call was returned (回拨)."""
    principal = signed_in(request, *CONSOLE_ROLES)
    form = await require_form(request)
    raw = str(request.path_params.get("row_id", ""))
    if not raw.isdigit() or int(raw) >= 2**63:
        raise HotlineError("没有这个未接来电", status=404, code="not_found")
    call = await call_service.mark_called_back(
        call_id=int(raw), user_id=principal.user_id, now=utcnow()
    )
    flash(request, f"已记录回拨：{call_out(call, {}).caller or '匿名来电'}。")
    back = str(form.get("next") or "/calls")
    return redirect(back if back.startswith("/calls") else "/calls")


routes = [
    Route("/operator/calls/stream", call_stream, methods=["GET"]),
    Route("/calls", call_log_page, methods=["GET"]),
    Route("/calls/{row_id}/callback", call_back, methods=["POST"]),
]
