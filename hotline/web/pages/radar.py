"""热点雷达 page (/radar): clusters of a window with their heat, growth and members; from a
cluster a supervisor merges its tickets (并单) or dispatches them to one unit (批量派单).

Supervisors and admins only (the radar spans every unit's tickets); the actions are the
ordinary lifecycle actions per ticket, so their rules (举报 confirmed text, avoidance) hold.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import Role
from hotline.domain.radar import cluster_json, load_radar_config, parse_moment
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.services.radar import recent_alerts, run_radar
from hotline.services.radar_actions import batch_dispatch, batch_merge, outcome_text
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.session import flash

VIEWERS = (Role.SUPERVISOR.value, Role.ADMIN.value)
ACTORS = (Role.SUPERVISOR.value,)
MAX_DAYS = 31
SHOWN = 50


def _local_input(at: datetime) -> str:
    """A time as a datetime-local input shows it (Beijing time, minutes)."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


async def alert_rows(*, now: datetime) -> list[dict[str, object]]:
    """The last 7 days' 热点预警, for the page and the supervisor dashboard."""
    rows = await recent_alerts(since=now - timedelta(days=7))
    return [
        {
            "title": a.title,
            "count": a.count,
            "growth": a.growth,
            "created_at": a.created_at,
            "members": a.members,
        }
        for a in rows
    ]


async def radar_page(request: Request) -> Response:
    """GET /radar?from=&to= — the window's clusters, hottest first."""
    signed_in(request, *VIEWERS)
    deployment = request.app.state.deployment
    config = load_radar_config(deployment.data_dir)
    now = utcnow()
    error = ""
    try:
        raw_to, raw_from = request.query_params.get("to"), request.query_params.get("from")
        end = parse_moment(raw_to, end=True) if raw_to else now
        start = (
            parse_moment(raw_from, end=False)
            if raw_from
            else end - timedelta(hours=config.window_hours)
        )
        if start >= end or end - start > timedelta(days=MAX_DAYS):
            raise ValueError(f"时间段须从早到晚、最长 {MAX_DAYS} 天")
    except ValueError as exc:
        error = f"{exc}；已显示最近 7 天。"
        end, start = now, now - timedelta(hours=config.window_hours)
    router = deployment.router
    result = await run_radar(
        start=start,
        end=end,
        config=config,
        gazetteer=router.routing.gazetteer if router is not None else None,
    )
    clusters = [
        {**cluster_json(c), "alerting": c.alerting(config.settings)}
        for c in result.clusters[:SHOWN]
    ]
    return render(
        request,
        "radar.html",
        {
            "clusters": clusters,
            "more": max(0, len(result.clusters) - SHOWN),
            "tickets": result.tickets,
            "first": _local_input(start),
            "last": _local_input(end),
            "error": error,
            "alerts": await alert_rows(now=now),
            "units": [(u.code, u.name) for u in deployment.units],
            "may_act": signed_in(request).role in ACTORS,
            "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        },
    )


def _back(form: object) -> str:
    back = str(form.get("next") or "/radar")  # type: ignore[attr-defined]
    return back if back.startswith("/radar") and "//" not in back else "/radar"


def _numbers(form: object) -> list[str]:
    return [n for n in str(form.get("tickets") or "").split(",") if n]  # type: ignore[attr-defined]


async def radar_merge(request: Request) -> Response:
    """POST /radar/merge — 并单: the cluster's tickets into the one chosen."""
    principal = signed_in(request, *ACTORS)
    form = await require_form(request)
    into = str(form.get("into") or "")
    try:
        outcome = await batch_merge(
            numbers=_numbers(form),
            into=into,
            principal=principal,
            deployment=request.app.state.deployment,
        )
    except HotlineError as exc:
        flash(request, f"未并单：{exc.message}", "error")
        return redirect(_back(form))
    for line in outcome_text(outcome, verb=f"并入 {into}"):
        flash(request, line, "error" if "未能" in line else "ok")
    return redirect(_back(form))


async def radar_dispatch(request: Request) -> Response:
    """POST /radar/dispatch — 批量派单: the cluster's tickets to one unit, each on its own."""
    principal = signed_in(request, *ACTORS)
    form = await require_form(request)
    unit = str(form.get("lead_unit") or "")
    try:
        outcome = await batch_dispatch(
            numbers=_numbers(form),
            lead_unit=unit,
            principal=principal,
            deployment=request.app.state.deployment,
        )
    except HotlineError as exc:
        flash(request, f"未派单：{exc.message}", "error")
        return redirect(_back(form))
    for line in outcome_text(outcome, verb="派单"):
        flash(request, line, "error" if "未能" in line else "ok")
    return redirect(_back(form))


routes = [
    Route("/radar", radar_page, methods=["GET"]),
    Route("/radar/merge", radar_merge, methods=["POST"]),
    Route("/radar/dispatch", radar_dispatch, methods=["POST"]),
]
