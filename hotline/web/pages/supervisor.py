"""The supervisors' dashboard: volumes, every unit's rates, trends, overdue work to urge.

Every figure comes from the service functions the statistics API calls
(`hotline.services.rates`: `rate_figures`, `volume_figures`; `hotline.services.overdue`), with the
same period and unit group as the API's query string, so the page, the JSON and the Excel
export show the same numbers. Nothing here counts anything itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTIONS, Action, Role
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.reporting.assessment import DEDUCTION_LABELS, INSUFFICIENT
from hotline.reporting.exports import COUNT_LABELS, RATE_LABELS
from hotline.reporting.unit_rates import UNIT_KINDS
from hotline.runtime.reporting import on_replica
from hotline.services import assessment as assessment_service
from hotline.services import calls as call_service
from hotline.services import overdue as overdue_service
from hotline.services import rates as rate_service
from hotline.services.units import unit_directory
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.pages.radar import alert_rows as radar_alert_rows
from hotline.web.session import flash

VIEWERS = (Role.SUPERVISOR.value, Role.ADMIN.value)
PRESETS = {"month": "本月", "last_month": "上月", "7d": "近7天", "custom": "自定义"}
# What each rate means, for the tooltip (README "Rates supervisors audit").
RATE_HELP = {
    "sign_rate": "签收率 = 签收数 ÷ 派单数。每次派单或改派算一次派单，计入派单日期所在期间。",
    "sign_on_time_rate": (
        "按时签收率 = 按时签收数 ÷ （签收数 + 超时未签收数）。签收不晚于签收时限即为按时；"
        "已过签收时限仍未签收的派单计为超时。"
    ),
    "on_time_rate": (
        "按时办结率 = 按时回复数 ÷ （回复数 + 超时未回复数）。回复不晚于反馈时限（含批准的延期"
        "和挂起）即为按时；已过反馈时限（至期末，本期未结束时至当前）仍未回复的计为超时。"
    ),
    "reply_rate": "回复率 = 回复数 ÷ 签收数。",
    "dispute_rate": "退单率 = 退单数 ÷ 派单数。越低越好。",
    "extension_rate": "延期率 = 批准延期数 ÷ 签收数。越低越好。",
    "reopen_rate": "重办率 = 回访后被要求重办的数 ÷ 有效回访数。越低越好。",
    "response_rate": "响应率 = 联系上市民的回访数 ÷ 有效回访数。",
    "resolution_rate": (
        "解决率 = 市民在回访中表示已解决的数 ÷ 有效回访数（以市民说法为准，不看单位自报结果）。"
    ),
    "satisfaction_rate": "满意率 = （满意数 + 0.9 × 基本满意数）÷ 有效回访数。",
}
# Dashboard order: the three ranking rates last, as on the README table.
RATE_ORDER = (
    "sign_rate",
    "sign_on_time_rate",
    "on_time_rate",
    "reply_rate",
    "dispute_rate",
    "extension_rate",
    "reopen_rate",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
)
# For these a lower rate is better: the ranking puts the lowest first.
LOWER_IS_BETTER = frozenset({"dispute_rate", "extension_rate", "reopen_rate"})
DEFAULT_SORT = "satisfaction_rate"
OVERDUE_SHOWN = 100
# 催办/督办 as the action table allows them (a 退单待改派 ticket waits on the centre).
_URGEABLE = frozenset(m.source.value for m in ACTIONS[Action.URGE].moves)
KIND_CHOICES = [("", "全部单位"), *UNIT_KINDS.items()]


@dataclass(frozen=True)
class View:
    """What the supervisor asked for: period, unit group and ranking order."""

    preset: str
    first: date
    last: date
    kind: str
    parent: str
    sort: str
    error: str = ""

    def api_query(self, **extra: str) -> str:
        """The statistics API's query string for the same period and group."""
        params = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        if self.kind:
            params["kind"] = self.kind
        if self.parent:
            params["parent"] = self.parent
        return urlencode({**params, **extra})

    def page_query(self, **change: str) -> str:
        """This view's own query string, with some parameters changed."""
        params = {
            "preset": self.preset,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "kind": self.kind,
            "parent": self.parent,
            "sort": self.sort,
            **change,
        }
        return urlencode({k: v for k, v in params.items() if v})


def today() -> date:
    """Today in Asia/Shanghai."""
    return utcnow().astimezone(SHANGHAI).date()


def preset_days(preset: str, now: date) -> tuple[date, date]:
    """本月 (so far), 上月, 近7天 (today included)."""
    if preset == "last_month":
        last = now.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if preset == "7d":
        return now - timedelta(days=6), now
    return now.replace(day=1), now


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def view_of(request: Request) -> View:
    """The view from the query string; a bad custom period falls back to this month."""
    q = request.query_params
    now = today()
    preset = q.get("preset") or ("custom" if q.get("from") or q.get("to") else "month")
    if preset not in PRESETS:
        preset = "month"
    error = ""
    if preset == "custom":
        first, last = _parse_day(q.get("from")), _parse_day(q.get("to"))
        try:
            days = rate_service.DateRange.of(first, last)
            first, last = days.first, days.last
        except HotlineError as exc:
            error = f"自定义期间有误（{exc.message}），已改为本月。"
            preset = "month"
    if preset != "custom":
        first, last = preset_days(preset, now)
    kind = q.get("kind") or ""
    if kind not in UNIT_KINDS:
        kind = ""
    sort = q.get("sort") or DEFAULT_SORT
    if sort not in RATE_LABELS:
        sort = DEFAULT_SORT
    assert first is not None and last is not None
    return View(preset, first, last, kind, (q.get("parent") or "").strip(), sort, error)


def _group(view: View) -> rate_service.UnitGroup:
    return rate_service.UnitGroup(kind=view.kind or None, parent=view.parent or None)


def ranked(units: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Units by the chosen rate, best first, each with its 名次 (`place`); units without a
    figure for it, or with too small a sample (样本不足), last and unranked."""

    def unranked(u: dict[str, Any]) -> bool:
        return u[sort] is None or sort in u.get("insufficient", ())

    sign = 1 if sort in LOWER_IS_BETTER else -1
    out = sorted(
        units,
        key=lambda u: (unranked(u), sign * (u[sort] or 0), -(u["callbacks"] or 0), u["unit"]),
    )
    place = 0
    for u in out:
        if unranked(u):
            u.update(place=None, short=sort in u.get("insufficient", ()))
        else:
            place += 1
            u.update(place=place, short=False)
    return out


def percent(value: float | None) -> str:
    """0.8333 → 83.33%; None (no denominator) → —."""
    if value is None:
        return "—"
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _overdue_words(hours: float) -> str:
    if hours < 24:
        return f"{hours:g} 小时"
    return f"{int(hours // 24)} 天 {int(hours % 24)} 小时"


def _chart(kind: str, **data: Any) -> str:
    """JSON for a `data-chart` attribute (the page's script draws it; no inline script)."""
    return json.dumps({"type": kind, **data}, ensure_ascii=False)


async def _parents() -> list[tuple[str, str]]:
    """Units that have units below them (a district and its streets, a bureau and its offices)."""
    directory = await unit_directory()
    with_children = {u.parent_code for u in directory.values() if u.parent_code}
    return [
        (u.code, u.name)
        for u in sorted(directory.values(), key=lambda u: u.id)
        if u.code in with_children
    ]


@on_replica
async def dashboard(request: Request) -> Response:
    """GET /supervisor — the dashboard for a period and a unit group."""
    principal = signed_in(request, *VIEWERS)
    view = view_of(request)
    error = view.error
    try:
        report = await rate_service.rate_figures(
            days=rate_service.DateRange.of(view.first, view.last),
            group=_group(view),
            rules=request.app.state.deployment.assessment_rules(),
        )
        overdue = await _overdue(view)
    except HotlineError as exc:
        # An unknown parent code: say so and show every unit instead.
        error = f"单位范围有误（{exc.message}），已显示全部单位。"
        view = View(view.preset, view.first, view.last, "", "", view.sort)
        report = await rate_service.rate_figures(
            days=rate_service.DateRange.of(view.first, view.last), group=_group(view)
        )
        overdue = await _overdue(view)
    assessment = await _assessment_view(request, principal, view)
    volumes = await rate_service.volume_figures(
        days=rate_service.DateRange.of(view.first, view.last),
        channel_labels=request.app.state.deployment.words().channels,
    )
    # 接通率: the hotline's own target beside the units' rates (calls pushed by the switch).
    calls = await call_service.call_stats(day_from=view.first, day_to=view.last)
    may = {
        name: principal.role in {r.value for r in _roles(name)}
        for name in (Action.URGE.value, Action.SUPERVISE.value)
    }
    overdue_rows = [
        {
            **t,
            "unit_name": t["name"],
            "late": _overdue_words(t["overdue_hours"]),
            "actionable": t["status"] in _URGEABLE,
        }
        for t in overdue["tickets"]
    ]
    top = volumes["top_categories"]
    return render(
        request,
        "supervisor.html",
        {
            "view": view,
            "error": error,
            "presets": PRESETS,
            "kinds": KIND_CHOICES,
            "parents": await _parents(),
            "report": report,
            "calls": calls,
            "overall": report["overall"],
            "units": ranked(report["units"], view.sort),
            "rate_order": RATE_ORDER,
            "rate_labels": RATE_LABELS,
            "rate_help": RATE_HELP,
            "count_labels": COUNT_LABELS,
            "lower_better": LOWER_IS_BETTER,
            "percent": percent,
            "volumes": volumes,
            "overdue": overdue,
            "overdue_rows": overdue_rows,
            "overdue_more": max(0, overdue["total"] - len(overdue_rows)),
            "may": may,
            "radar_alerts": await radar_alert_rows(now=utcnow()),
            "export_xlsx": "/api/v1/stats/rates?" + view.api_query(format="xlsx"),
            "export_csv": "/api/v1/stats/rates?" + view.api_query(format="csv"),
            "trend_src": "/supervisor/trend?" + view.api_query(),
            "category_chart": _chart(
                "hbar",
                title="热点诉求分类（前 10）",
                labels=[c["category"] for c in top],
                values=[c["count"] for c in top],
            ),
            "channel_chart": _chart(
                "pie",
                title="受理渠道",
                labels=[c["label"] for c in volumes["by_channel"]],
                values=[c["count"] for c in volumes["by_channel"]],
            ),
            "next": "/supervisor?" + view.page_query(),
            "assessment": assessment,
        },
    )


async def _overdue(view: View) -> dict[str, Any]:
    """The overdue card: counts from the database and the OVERDUE_SHOWN longest overdue."""
    return await overdue_service.overdue_summary(
        now=utcnow(), group=_group(view), page=overdue_service.OverduePage(1, OVERDUE_SHOWN)
    )


async def _assessment_view(request: Request, principal: Any, view: View) -> dict[str, Any]:
    """The period's 考核 (the API's figures) and what this user may do about the month."""
    days = rate_service.DateRange.of(view.first, view.last)
    report = await assessment_service.assessment(
        days=days, rules=request.app.state.deployment.assessment_rules()
    )
    month = f"{view.first:%Y-%m}"
    month_days = assessment_service.month_range(month)
    ended = month_days == days and view.last < today()
    # 本月 so far counts as this month, still running.
    whole = month_days == days or (
        view.first == month_days.first and view.last == today() <= month_days.last
    )
    query = urlencode({"from": view.first.isoformat(), "to": view.last.isoformat()})
    return {
        "report": report,
        "month": month if whole else None,
        "may_lock": ended and not report["locked"] and principal.role in assessment_service.LOCKERS,
        "may_reopen": bool(report["locked"]) and principal.role == Role.ADMIN.value,
        "not_ended": whole and not ended,
        "log": await assessment_service.month_log(month) if whole else [],
        "export_xlsx": "/api/v1/stats/assessment?" + query + "&format=xlsx",
        "export_csv": "/api/v1/stats/assessment?" + query + "&format=csv",
        "labels": {**RATE_LABELS, **DEDUCTION_LABELS},
        "insufficient": INSUFFICIENT,
    }


async def lock_assessment(request: Request) -> Response:
    """POST /supervisor/assessment/lock — a supervisor confirms the month shown."""
    principal = signed_in(request, *VIEWERS)
    form = await require_form(request)
    back = safe_next(form.get("next"))
    try:
        await assessment_service.lock_month(
            month=form.get("month"),
            principal=principal,
            rules=request.app.state.deployment.assessment_rules(),
        )
    except HotlineError as exc:
        flash(request, f"考核未确认：{exc.message}", "error")
        return redirect(back)
    flash(request, f"{form.get('month')} 的考核已确认：此后的事件和重算不再改变该月结果。")
    return redirect(back)


async def reopen_assessment(request: Request) -> Response:
    """POST /supervisor/assessment/reopen — an admin reopens the month shown, with a reason."""
    principal = signed_in(request, *VIEWERS)
    form = await require_form(request)
    back = safe_next(form.get("next"))
    try:
        await assessment_service.reopen_month(
            month=form.get("month"), principal=principal, reason=form.get("reason") or ""
        )
    except HotlineError as exc:
        flash(request, f"未重新打开：{exc.message}", "error")
        return redirect(back)
    flash(request, f"{form.get('month')} 的考核已重新打开，理由已记入日志。")
    return redirect(back)


def safe_next(value: Any) -> str:
    """Back to the dashboard (only a path of it: never another site)."""
    text = str(value or "")
    return text if text.startswith("/supervisor") and "//" not in text else "/supervisor"


def _roles(action: str) -> frozenset[Any]:
    """Roles that may take an action in any status (from the action table)."""
    spec = ACTIONS[Action(action)]
    roles: set[Any] = set()
    for move in spec.moves:
        roles |= set(move.roles)
    return frozenset(roles)


def buckets(first: date, last: date) -> list[tuple[date, date, str]]:
    """The trend's points: days up to two months, weeks up to a year, else months."""
    span = (last - first).days + 1
    out: list[tuple[date, date, str]] = []
    if span <= 62:
        day = first
        while day <= last:
            out.append((day, day, day.strftime("%m-%d")))
            day += timedelta(days=1)
    elif span <= 366:
        start = first
        while start <= last:
            end = min(last, start + timedelta(days=6 - start.weekday()))
            out.append((start, end, f"{start:%m-%d}起"))
            start = end + timedelta(days=1)
    else:
        start = first
        while start <= last:
            month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(
                days=1
            )
            end = min(last, month_end)
            out.append((start, end, f"{start:%Y-%m}"))
            start = end + timedelta(days=1)
    return out


@on_replica
async def trend(request: Request) -> Response:
    """GET /supervisor/trend?from=&to=[&kind=|&parent=] — chart data: tickets received and
    按时办结率 / 满意率 per day (week, month), from the same service functions."""
    signed_in(request, *VIEWERS)
    q = request.query_params
    days = rate_service.DateRange.of(_parse_day(q.get("from")), _parse_day(q.get("to")))
    group = rate_service.UnitGroup(kind=q.get("kind") or None, parent=q.get("parent") or None)
    # One service call for every bucket: the rollup's days, not four queries per bucket.
    points = await rate_service.trend_figures(buckets=buckets(days.first, days.last), group=group)
    return JSONResponse(
        {
            "type": "trend",
            "labels": points["labels"],
            "series": [
                {"name": "受理量", "kind": "bar", "data": points["volume"]},
                {"name": "按时办结率 %", "kind": "line", "data": points["on_time"]},
                {"name": "满意率 %", "kind": "line", "data": points["satisfaction"]},
            ],
        }
    )


routes = [
    Route("/supervisor", dashboard, methods=["GET"]),
    Route("/supervisor/assessment/lock", lock_assessment, methods=["POST"]),
    Route("/supervisor/assessment/reopen", reopen_assessment, methods=["POST"]),
    Route("/supervisor/trend", trend, methods=["GET"]),
]
