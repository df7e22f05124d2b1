"""The incoming call (CTI): the switch's push endpoint, the call log and 接通率 over HTTP.

`POST /api/v1/cti/{token}` speaks Zammad's Generic CTI push API, so a PBX configured for it
works unchanged; the token is the setting CTI_TOKEN (unset: 404), compared in constant time.
The answer is `{}` — this system never asks the switch to reject a call.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.channels.cti import CAUSE_LABELS, CtiEventError, parse_event
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.schemas import CallOut, CallPage, CallStatsOut
from hotline.domain.timefmt import local_iso, utcnow
from hotline.privacy.rules import mask_phone
from hotline.services import calls as call_service
from hotline.services.rates import DateRange
from hotline.web.endpoint import api, request_query
from hotline.web.http import error_response, read_body, require_principal, require_role
from hotline.web.queries import CallLogQuery, PeriodQuery

CTI_TOKEN = {"type": "string", "maxLength": 200, "description": "CTI 令牌"}
STATE_LABELS = {"ringing": "振铃中", "answered": "通话中", "ended": "已结束", "missed": "未接"}
CALL_READERS = (Role.OPERATOR.value, Role.SUPERVISOR.value)


@api(
    summary="交换机推送来电事件（兼容 Zammad Generic CTI：newCall、answer、hangup）",
    public=True,
    methods=("POST",),
    path={"token": CTI_TOKEN},
    errors=(400, 404, 413, 422),
    responses={"200": {"description": "已记录（应答为 {}）"}},
)
async def cti_event(request: Request) -> Response:
    """POST /api/v1/cti/{token} — one call event, form-encoded or JSON."""
    expected: str = request.app.state.settings.cti_token
    given = str(request.path_params.get("token", ""))
    # Unset or wrong: the same 404, so the endpoint's existence is not learnt by guessing.
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return error_response(404, "http_error", "页面或接口不存在")
    raw = await read_body(request)
    data = _fields(raw, request.headers.get("content-type", ""))
    try:
        event = parse_event(data)
    except CtiEventError as exc:
        raise HotlineError(f"来电事件有误：{exc}", status=422, code="validation_error") from exc
    await call_service.record_event(event, now=utcnow())
    return JSONResponse({})


def _fields(raw: bytes, content_type: str) -> dict[str, Any]:
    """The posted fields: a JSON object, or a form (repeated keys such as user[] kept)."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HotlineError("请求体不是合法的 JSON", status=400, code="malformed_json") from exc
        if not isinstance(data, dict):
            raise HotlineError("请求体必须是 JSON 对象", status=400, code="malformed_json")
        return data
    return {k: v if len(v) > 1 or k.endswith("[]") else v[0] for k, v in parse_qs(text).items()}


def call_out(call: Any, names: dict[int, str], *, show_number: bool = True) -> CallOut:
    """A call as the call log shows it."""
    caller = call.from_number if call.direction == "in" else call.to_number
    caller = "" if caller.lower() == "anonymous" else caller
    return CallOut(
        id=call.id,
        call_id=call.call_id,
        direction=call.direction,
        caller=caller if show_number else mask_phone(caller),
        queue=call.queue,
        state=call.state,
        state_label=STATE_LABELS.get(call.state, call.state),
        cause=call.cause,
        cause_label=CAUSE_LABELS.get(call.cause, call.cause),
        answered_by=names.get(call.answered_by_id) if call.answered_by_id else None,
        started_at=local_iso(call.started_at) or "",
        answered_at=local_iso(call.answered_at),
        ended_at=local_iso(call.ended_at),
        wait_s=_seconds(call.started_at, call.answered_at),
        duration_s=_seconds(call.answered_at, call.ended_at),
        called_back_at=local_iso(call.called_back_at),
        called_back_by=names.get(call.called_back_by_id) if call.called_back_by_id else None,
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


@api(
    summary="来电记录（话务员、督办人员）：某段时间的来电，可只看未接",
    query=CallLogQuery,
    response=CallPage,
    errors=(401, 403, 422),
)
async def calls(request: Request) -> Response:
    """GET /api/v1/calls?from=&to=[&missed=true][&page=&per_page=]"""
    principal = await require_principal(request)
    require_role(principal, *CALL_READERS)
    q: CallLogQuery = request_query(request)
    days = DateRange.of(q.since, q.until)
    log = await call_service.call_log(
        day_from=days.first,
        day_to=days.last,
        missed_only=bool(q.missed),
        page=q.page,
        per_page=q.per_page,
    )
    page = CallPage(
        items=[call_out(c, log.names) for c in log.items],
        total=log.total,
        page=q.page,
        per_page=q.per_page,
    )
    return JSONResponse(page.model_dump(mode="json"))


@api(
    summary="接通率：呼入、接听、未接、平均等待，按小时、日、队列",
    query=PeriodQuery,
    response=CallStatsOut,
    errors=(401, 403, 422),
)
async def call_stats(request: Request) -> Response:
    """GET /api/v1/stats/calls?from=&to="""
    principal = await require_principal(request)
    require_role(principal, *CALL_READERS, Role.ADMIN.value)
    q: PeriodQuery = request_query(request)
    days = DateRange.of(q.since, q.until)
    stats = await call_service.call_stats(day_from=days.first, day_to=days.last)
    out = stats_out(stats, days)
    return JSONResponse(out.model_dump(mode="json", by_alias=True))


def stats_out(stats: call_service.CallStats, days: DateRange) -> CallStatsOut:
    """The figures as the API and the dashboard give them."""
    return CallStatsOut.model_validate(
        {
            "from": days.first.isoformat(),
            "to": days.last.isoformat(),
            "offered": stats.offered,
            "answered": stats.answered,
            "missed": stats.missed,
            "answer_rate": stats.answer_rate,
            "avg_wait_s": stats.avg_wait_s,
            "by_hour": stats.by_hour,
            "by_day": stats.by_day,
            "by_queue": stats.by_queue,
        }
    )


routes = [
    Route("/cti/{token}", cti_event, methods=["POST"]),
    Route("/calls", calls, methods=["GET"]),
    Route("/stats/calls", call_stats, methods=["GET"]),
]
