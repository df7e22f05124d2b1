"""Supervisors' figures over HTTP: per-unit rates (JSON, xlsx, CSV), volumes, overdue work.

Each endpoint parses the query string, calls one service function and answers; the figures
are read from the reporting replica when there is one (`reporting_reads`), the caller's
token from the primary. Operators,
supervisors and admins may read them; unit staff get 403 (a unit sees its own tickets, not
the ranking of every unit).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.timefmt import utcnow
from hotline.reporting.assessment_exports import (
    assessment_csv,
    assessment_filename,
    assessment_xlsx,
)
from hotline.reporting.exports import content_disposition, filename, rates_csv, rates_xlsx
from hotline.runtime.reporting import reporting_reads
from hotline.services import assessment as assessment_service
from hotline.services import overdue as overdue_service
from hotline.services import rates as rate_service
from hotline.services.hierarchy_rates import hierarchy_figures
from hotline.web.endpoint import api, request_body, request_query
from hotline.web.http import require_principal
from hotline.web.queries import (
    AssessmentQuery,
    HierarchyQuery,
    MonthQuery,
    OverdueQuery,
    PeriodQuery,
    RatesQuery,
    UnitGroupQuery,
)
from hotline.web.schemas_assessment import ReopenBody

READERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
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


def _days(q: PeriodQuery) -> rate_service.DateRange:
    return rate_service.DateRange.of(q.since, q.until)


def _group(q: UnitGroupQuery) -> rate_service.UnitGroup:
    return rate_service.UnitGroup(unit=q.unit, kind=q.kind, parent=q.parent)


@api(
    summary="各单位指标：签收率、按时办结率、响应率、解决率、满意率等（JSON、xlsx、CSV）",
    query=RatesQuery,
    description="指标",
    errors=(401, 403, 422),
)
async def rates(request: Request) -> Response:
    """GET /api/v1/stats/rates?from=&to=[&unit=|&kind=|&parent=][&format=json|xlsx|csv]"""
    await _reader(request)
    q: RatesQuery = request_query(request)
    fmt = q.format
    with reporting_reads():
        report = await rate_service.rate_figures(
            days=_days(q), group=_group(q), rules=request.app.state.deployment.assessment_rules()
        )
    if fmt == "json":
        # Each unit's part in tickets it does not lead (协办意见, 下派), beside its own rates.
        part = await hierarchy_figures(days=_days(q), group=_group(q), now=utcnow())
        return JSONResponse({**report, "hierarchy": part["units"]})
    if fmt == "xlsx":
        body, media = rates_xlsx(report), XLSX
    else:
        body, media = rates_csv(report), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": content_disposition(filename(report, fmt))},
    )


@api(
    summary="受理量：按渠道、诉求类型、分类和地区",
    query=PeriodQuery,
    description="受理量",
    errors=(401, 403, 422),
)
async def volumes(request: Request) -> Response:
    """GET /api/v1/stats/volumes?from=&to= — tickets by channel, kind, category and place."""
    await _reader(request)
    q: PeriodQuery = request_query(request)
    labels = request.app.state.deployment.words().channels
    with reporting_reads():
        figures = await rate_service.volume_figures(days=_days(q), channel_labels=labels)
    return JSONResponse(figures)


@api(
    summary="各单位超时未办结工单：各单位件数，及按超时时长排列的一页工单",
    query=OverdueQuery,
    description="超时工单",
    errors=(401, 403, 422),
)
async def overdue(request: Request) -> Response:
    """GET /api/v1/stats/overdue[?unit=|&kind=|&parent=][&page=&per_page=] — every unit's
    count of open overdue tickets and one page of them, the longest overdue first."""
    await _reader(request)
    q: OverdueQuery = request_query(request)
    with reporting_reads():
        summary = await overdue_service.overdue_summary(
            now=utcnow(),
            group=_group(q),
            page=overdue_service.OverduePage(page=q.page, per_page=q.per_page),
        )
    return JSONResponse(summary)


@api(
    summary="各单位协办与下派：协办意见按时给出、下派件按时答复（主办单位的指标不受影响）",
    query=HierarchyQuery,
    description="协办与下派指标",
    errors=(401, 403, 422),
)
async def hierarchy(request: Request) -> Response:
    """GET /api/v1/stats/hierarchy?from=&to=[&unit=|&kind=|&parent=] — each unit's part in
    tickets it does not lead: opinions given (on time), 下派 answered (on time), returned."""
    await _reader(request)
    q: HierarchyQuery = request_query(request)
    return JSONResponse(await hierarchy_figures(days=_days(q), group=_group(q), now=utcnow()))


@api(
    summary="月度考核：各单位综合得分与名次（JSON、xlsx、CSV）",
    query=AssessmentQuery,
    description="考核",
    errors=(401, 403, 422),
)
async def assessment(request: Request) -> Response:
    """GET /api/v1/stats/assessment?from=&to=[&format=json|xlsx|csv] — weighted score per
    unit (data/assessment.toml), rank and every part; a locked month answers its stored
    figures."""
    await _reader(request)
    q: AssessmentQuery = request_query(request)
    report = await assessment_service.assessment(
        days=_days(q), rules=request.app.state.deployment.assessment_rules()
    )
    if q.format == "json":
        return JSONResponse(report)
    if q.format == "xlsx":
        body, media = assessment_xlsx(report), XLSX
    else:
        body, media = assessment_csv(report), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": content_disposition(assessment_filename(report, q.format))},
    )


@api(
    summary="确认月度考核（锁定）：此后事件和重算不再改变该月考核结果",
    query=MonthQuery,
    description="考核",
    errors=(401, 403, 409, 422),
)
async def lock_assessment(request: Request) -> Response:
    """POST /api/v1/stats/assessment/lock?month=2026-11 — a supervisor confirms a month."""
    principal = await require_principal(request)
    q: MonthQuery = request_query(request)
    report = await assessment_service.lock_month(
        month=q.month,
        principal=principal,
        rules=request.app.state.deployment.assessment_rules(),
    )
    return JSONResponse(report)


@api(
    summary="重新打开已确认的月度考核（管理员，须写明理由，记入日志）",
    query=MonthQuery,
    body=ReopenBody,
    description="考核",
    errors=(401, 403, 409, 422),
)
async def reopen_assessment(request: Request) -> Response:
    """POST /api/v1/stats/assessment/reopen?month=2026-11 {reason} — an admin reopens."""
    principal = await require_principal(request)
    q: MonthQuery = request_query(request)
    data: ReopenBody = await request_body(request)
    return JSONResponse(
        await assessment_service.reopen_month(
            month=q.month, principal=principal, reason=data.reason
        )
    )


# Mounted at /api/v1 (hotline.web.app).
routes = [
    Route("/stats/assessment", assessment, methods=["GET"]),
    Route("/stats/assessment/lock", lock_assessment, methods=["POST"]),
    Route("/stats/assessment/reopen", reopen_assessment, methods=["POST"]),
    Route("/stats/rates", rates, methods=["GET"]),
    Route("/stats/volumes", volumes, methods=["GET"]),
    Route("/stats/overdue", overdue, methods=["GET"]),
    Route("/stats/hierarchy", hierarchy, methods=["GET"]),
]
