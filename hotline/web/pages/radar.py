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
from hotline.domain.radar import RadarConfig, cluster_json, load_radar_config, parse_moment
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.domain.vocabulary import STATUS_LABELS, Status
from hotline.services.radar import recent_alerts, run_radar
from hotline.services.radar_actions import batch_dispatch, batch_merge, outcome_text
from hotline.services.radar_snapshot import covers, statuses_among, stored
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.session import flash

VIEWERS = (Role.SUPERVISOR.value, Role.ADMIN.value)
ACTORS = (Role.SUPERVISOR.value,)
MAX_DAYS = 31
SHOWN = 50
SHOWN_MEMBERS = 20  # members linked per cluster (the rest: 等 N 件)
# Members of a stored cluster no longer to act on, as the page marks them.
_GONE = {s.value: STATUS_LABELS[s] for s in (Status.MERGED, Status.CLOSED)}


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


def _window(
    request: Request, *, hours: float, now: datetime
) -> tuple[datetime, datetime, bool, str]:
    """(start, end, whether the user asked for a window, error) from the query."""
    raw_to, raw_from = request.query_params.get("to"), request.query_params.get("from")
    asked = bool(raw_to or raw_from)
    try:
        end = parse_moment(raw_to, end=True) if raw_to else now
        start = parse_moment(raw_from, end=False) if raw_from else end - timedelta(hours=hours)
        if start >= end or end - start > timedelta(days=MAX_DAYS):
            raise ValueError(f"时间段须从早到晚、最长 {MAX_DAYS} 天")
    except ValueError as exc:
        return now - timedelta(hours=hours), now, False, f"{exc}；已显示默认时间段。"
    return start, end, asked, ""


def _when_text(at: datetime, now: datetime) -> str:
    """12:05 today, else 12月5日 12:05 (Beijing time)."""
    local = at.astimezone(SHANGHAI)
    if local.date() == now.astimezone(SHANGHAI).date():
        return local.strftime("%H:%M")
    return f"{local.month}月{local.day}日 {local:%H:%M}"


async def _gone(clusters: list[dict[str, object]]) -> dict[str, str]:
    """Shown members merged or closed since a stored snapshot: number → 已并单 / 已办结."""
    numbers = [n for c in clusters for n in c["tickets"][:SHOWN_MEMBERS]]  # type: ignore[index]
    found = await statuses_among(numbers, statuses=list(_GONE))
    return {n: _GONE[s] for n, s in found.items()}


def _listing(
    request: Request, clusters: list[dict[str, object]], *, tickets: int, config: RadarConfig
) -> dict[str, object]:
    shown = [
        {
            **c,
            "alerting": c["recent"] >= config.settings.alert_min_count  # type: ignore[operator]
            and c["growth"] >= config.settings.alert_growth,  # type: ignore[operator]
        }
        for c in clusters[:SHOWN]
    ]
    query = request.url.query
    return {
        "clusters": shown,
        "more": max(0, len(clusters) - SHOWN),
        "tickets": tickets,
        "may_act": signed_in(request).role in ACTORS,
        "units": [(u.code, u.name) for u in request.app.state.deployment.units],
        "back": "/radar" + (f"?{query}" if query else ""),
        "gone": {},
    }


async def _computed(
    request: Request, *, start: datetime, end: datetime, config: RadarConfig
) -> dict[str, object]:
    router = request.app.state.deployment.router
    result = await run_radar(
        start=start,
        end=end,
        config=config,
        gazetteer=router.routing.gazetteer if router is not None else None,
    )
    return _listing(
        request, [cluster_json(c) for c in result.clusters], tickets=result.tickets, config=config
    )


async def radar_page(request: Request) -> Response:
    """GET /radar?from=&to= — the window's clusters, hottest first.

    The default window comes from the background worker's stored result (fast, with when it
    was computed); without one it is computed now, as is a window the user chose — that one
    after the page is shown (an htmx request to /radar/window), with 「正在计算，请稍候」."""
    signed_in(request, *VIEWERS)
    config = load_radar_config(request.app.state.deployment.data_dir)
    now = utcnow()
    start, end, asked, error = _window(request, hours=config.window_hours, now=now)
    snapshot = await stored()
    ctx: dict[str, object] = {"error": error, "alerts": await alert_rows(now=now)}
    if snapshot is not None and (not asked or covers(snapshot, start, end)):
        listing = _listing(request, snapshot.clusters, tickets=snapshot.tickets, config=config)
        listing["gone"] = await _gone(listing["clusters"])  # type: ignore[arg-type]
        start, end = snapshot.start, snapshot.end
        ctx |= listing | {
            "source": "stored",
            "computed": _when_text(snapshot.end, now),
            "stale": snapshot.stale(now),
            "recompute": f"/radar?from={_local_input(now - (end - start))}&to={_local_input(now)}",
            "hours": f"{config.window_hours:g}",
        }
    elif not asked:
        ctx |= await _computed(request, start=start, end=end, config=config)
        ctx |= {"source": "live", "computed": _when_text(now, now)}
    else:
        ctx |= {"source": "pending", "pending": f"/radar/window?{request.url.query}"}
    ctx |= {"first": _local_input(start), "last": _local_input(end)}
    return render(request, "radar.html", ctx)


async def radar_window(request: Request) -> Response:
    """GET /radar/window?from=&to= — a chosen window computed now: the clusters' section for
    the page's htmx request, or the whole page without scripts."""
    signed_in(request, *VIEWERS)
    config = load_radar_config(request.app.state.deployment.data_dir)
    now = utcnow()
    start, end, _, error = _window(request, hours=config.window_hours, now=now)
    ctx = await _computed(request, start=start, end=end, config=config)
    ctx |= {"source": "computed", "computed": _when_text(now, now), "error": error}
    ctx |= {"first": _local_input(start), "last": _local_input(end)}
    if request.headers.get("HX-Request"):
        return render(request, "_radar_clusters.html", ctx)
    return render(request, "radar.html", ctx | {"alerts": await alert_rows(now=now)})


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
    Route("/radar/window", radar_window, methods=["GET"]),
    Route("/radar/merge", radar_merge, methods=["POST"]),
    Route("/radar/dispatch", radar_dispatch, methods=["POST"]),
]
