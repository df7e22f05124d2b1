"""Supervisors' figures over HTTP: per-unit rates (JSON, xlsx, CSV), volumes, overdue work.

Each endpoint parses the query string, calls one service function and answers. Operators,
supervisors and admins may read them; unit staff get 403 (a unit sees its own tickets, not
the ranking of every unit).
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.auth import Principal
from hotline.errors import HotlineError
from hotline.exports import content_disposition, filename, rates_csv, rates_xlsx
from hotline.lifecycle import Role
from hotline.services import rates as rate_service
from hotline.timefmt import utcnow
from hotline.web.http import require_principal

READERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
FORMATS = ("json", "xlsx", "csv")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _reader(request: Request) -> Principal:
    principal = await require_principal(request)
    if principal.role not in READERS:
        raise HotlineError(
            "承办单位账号不能查看各单位统计指标，请联系热线中心或督办人员",
            status=403,
            code="forbidden",
        )
    return principal


def _day(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise HotlineError(
            f"参数 {name} 必须是 YYYY-MM-DD 格式的日期", status=422, code="validation_error"
        ) from exc


def _days(request: Request) -> rate_service.DateRange:
    return rate_service.DateRange.of(_day(request, "from"), _day(request, "to"))


def _group(request: Request) -> rate_service.UnitGroup:
    q = request.query_params
    return rate_service.UnitGroup(
        unit=q.get("unit") or None, kind=q.get("kind") or None, parent=q.get("parent") or None
    )


async def rates(request: Request) -> Response:
    """GET /api/v1/stats/rates?from=&to=[&unit=|&kind=|&parent=][&format=json|xlsx|csv]"""
    await _reader(request)
    fmt = request.query_params.get("format") or "json"
    if fmt not in FORMATS:
        raise HotlineError(
            "参数 format 必须是 json、xlsx 或 csv", status=422, code="validation_error"
        )
    report = await rate_service.rate_figures(days=_days(request), group=_group(request))
    if fmt == "json":
        return JSONResponse(report)
    if fmt == "xlsx":
        body, media = rates_xlsx(report), XLSX
    else:
        body, media = rates_csv(report), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": content_disposition(filename(report, fmt))},
    )


async def volumes(request: Request) -> Response:
    """GET /api/v1/stats/volumes?from=&to= — tickets by channel, kind, category and place."""
    await _reader(request)
    return JSONResponse(await rate_service.volume_figures(days=_days(request)))


async def overdue(request: Request) -> Response:
    """GET /api/v1/stats/overdue[?unit=|&kind=|&parent=] — open overdue tickets per unit."""
    await _reader(request)
    return JSONResponse(await rate_service.overdue_by_unit(now=utcnow(), group=_group(request)))


routes = [
    Route("/api/v1/stats/rates", rates, methods=["GET"]),
    Route("/api/v1/stats/volumes", volumes, methods=["GET"]),
    Route("/api/v1/stats/overdue", overdue, methods=["GET"]),
]
