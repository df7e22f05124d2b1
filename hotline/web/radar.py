"""The hot-issue radar over HTTP: `GET /api/v1/radar?from=&to=` (supervisors, admins, operators).

Unit staff get 403: the radar spans every unit's tickets. What it returns names no
complainant (clusters carry place, category, key terms and ticket numbers only).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.radar import cluster_json, load_radar_config, parse_moment
from hotline.domain.timefmt import local_iso, utcnow
from hotline.services.radar import run_radar
from hotline.services.radar_snapshot import covers, stored
from hotline.web.endpoint import api, request_query
from hotline.web.http import require_principal
from hotline.web.queries import Query

READERS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR})
# The longest window one request may ask for: every ticket in it is read and segmented.
MAX_WINDOW_DAYS = 31


class RadarQuery(Query):
    """GET /api/v1/radar: the window (default: the last window_hours of data/radar.toml)."""

    since: str | None = Field(
        default=None,
        alias="from",
        max_length=32,
        description="起始：2026-12-01 或 2026-12-01T08:00（北京时间）；默认截止前 24 小时",
    )
    until: str | None = Field(
        default=None,
        alias="to",
        max_length=32,
        description="截止：日期含当天，或时刻；默认现在",
    )


class RadarClusterOut(BaseModel):
    """One cluster: tickets about the same matter at the same place or for the same people."""

    id: str = Field(description="稳定编号：同样的成员在每次计算中编号相同，组内增员编号不变")
    title: str
    place: str = Field(description="地点（小区、道路、学校……）或人群（出租车司机……）或街道")
    area: str = Field(description="所在街道（或区县）：基线按它和分类统计")
    category: str
    terms: list[str] = Field(description="成员共有的关键词")
    count: int
    first_at: str | None
    last_at: str | None
    heat: float = Field(description="热度 = 来电人数 × 新近度 × (1 + ln(1 + 增速))，见 README")
    growth: float = Field(description="增速：本组每日来电人数 ÷ 该街道该分类此前 28 天的日均件数")
    recent: int = Field(description="最近 2 小时（data/radar.toml alert.hours）内的来电人数")
    callers: int = Field(description="来电人数：同一来电人多次反映算一人（不显示是谁）")
    tickets: list[str] = Field(description="成员工单号")


class RadarOut(BaseModel):
    """GET /api/v1/radar."""

    model_config = {"populate_by_name": True}

    since: str | None = Field(alias="from")
    until: str | None = Field(alias="to")
    tickets: int = Field(description="时间段内的工单数（未并单的）")
    clusters: list[RadarClusterOut] = Field(description="按热度从高到低")
    computed_at: str | None = Field(description="计算时间（北京时间）")
    stored: bool = Field(
        description="true：后台任务每 5 分钟计算并保存的默认时间段（不带 from/to，或与之相同）；"
        "false：本次请求现场计算"
    )
    stale: bool = Field(description="保存的结果已超过 15 分钟未更新：后台任务可能未运行")


@api(
    summary="热点雷达：某段时间内同一地点（或同一人群）同一事项集中反映的工单组，按热度排序",
    query=RadarQuery,
    response=RadarOut,
    errors=(401, 403, 422),
)
async def radar(request: Request) -> Response:
    """GET /api/v1/radar?from=&to= (the default window from the stored result, if any)"""
    principal = await require_principal(request)
    if principal.role not in READERS:
        raise HotlineError(
            "承办单位账号不能查看热点雷达，请联系热线中心或督办人员", status=403, code="forbidden"
        )
    q: RadarQuery = request_query(request)
    deployment = request.app.state.deployment
    config = load_radar_config(deployment.data_dir)
    try:
        end = parse_moment(q.until, end=True) if q.until else utcnow()
        start = (
            parse_moment(q.since, end=False)
            if q.since
            else end - timedelta(hours=config.window_hours)
        )
    except ValueError as exc:
        raise HotlineError(str(exc), status=422, code="validation_error") from exc
    if start >= end:
        raise HotlineError(
            "起始时间须早于截止时间，请调整 from 和 to", status=422, code="validation_error"
        )
    if end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise HotlineError(
            f"时间段最长 {MAX_WINDOW_DAYS} 天，请缩短 from 到 to 的范围（更长的回溯请用 "
            "python main.py radar）",
            status=422,
            code="validation_error",
        )
    snapshot = await stored()
    if snapshot is not None and ((not q.since and not q.until) or covers(snapshot, start, end)):
        body = {
            "from": local_iso(snapshot.start),
            "to": local_iso(snapshot.end),
            "tickets": snapshot.tickets,
            "clusters": snapshot.clusters,
            "computed_at": local_iso(snapshot.end),
            "stored": True,
            "stale": snapshot.stale(utcnow()),
        }
        return JSONResponse(RadarOut.model_validate(body).model_dump(mode="json", by_alias=True))
    router = deployment.router
    result = await run_radar(
        start=start,
        end=end,
        config=config,
        gazetteer=router.routing.gazetteer if router is not None else None,
    )
    body = {
        "from": local_iso(start),
        "to": local_iso(end),
        "tickets": result.tickets,
        "clusters": [cluster_json(c) for c in result.clusters],
        "computed_at": local_iso(utcnow()),
        "stored": False,
        "stale": False,
    }
    return JSONResponse(RadarOut.model_validate(body).model_dump(mode="json", by_alias=True))


routes = [Route("/radar", radar, methods=["GET"])]
