"""Administration pages: accounts, units, routing rules and SLA policies (with reload),
the holiday schedule, and the mail and SMS outboxes. Admins only.

Every change calls an existing service (`hotline.services.users`, `hotline.mail`, `hotline.sms`,
`hotline.startup.bootstrap.reload_rules`); this module parses forms and says what happened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ROLE_LABELS, Role
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.domain.vocabulary import STAFF_ROLES
from hotline.outbox.admin import page_section
from hotline.outbox.delivery import requeue
from hotline.outbox.registry import ADAPTERS, route_order, view
from hotline.reporting.unit_rates import UNIT_KINDS
from hotline.services import rules_version, web_sessions
from hotline.services import units as unit_service
from hotline.services import users as user_service
from hotline.services.account_actions import ACCOUNT_ACTIONS, run_account_action
from hotline.services.rules_version import FOLLOW_INTERVAL
from hotline.startup.bootstrap import ConfigError, reload_rules
from hotline.web.endpoint import ROW_ID, USERNAME, path_value_ok
from hotline.web.pages.common import limit_text, redirect, render, require_form, signed_in
from hotline.web.session import current_session_id, flash
from sla.statutory import statutory_holidays

ADMIN = Role.ADMIN.value
TABS = (
    ("/admin", "账号"),
    ("/admin/units", "承办单位"),
    ("/admin/rules", "派单规则与时限"),
    ("/admin/holidays", "节假日安排"),
    ("/admin/outbox", "发件箱"),
    ("/admin/throttles", "登录与查询限制"),
)
ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in STAFF_ROLES]


def _admin(request: Request) -> Any:
    return signed_in(request, ADMIN)


def _page(request: Request, name: str, tab: str, context: dict[str, Any], status: int = 200):
    return render(request, name, {"tabs": TABS, "tab": tab, **context}, status=status)


def limit_words(limit: Any) -> str:
    """3wd → 3个工作日; None → — (the one formatter all pages use)."""
    return limit_text(str(limit) if limit is not None else None)


# ---- accounts -----------------------------------------------------------------------


async def _users_context(request: Request) -> dict[str, Any]:
    now = utcnow()
    ttl = request.app.state.settings.token_ttl_days
    tokens = await user_service.token_summaries(now=now, ttl_days=ttl)
    sessions = await web_sessions.live_counts(
        now=now, policy=request.app.state.session_settings.policy
    )
    units = await unit_service.unit_choices()
    return {
        "users": [
            {"u": u, "tokens": tokens.get(u.id), "sessions": sessions.get(u.id, 0)}
            for u in await user_service.list_users()
        ],
        "roles": ROLE_CHOICES,
        "account_actions": ACCOUNT_ACTIONS,
        "units": units,
        "form": {},
        "form_error": "",
        "secret": None,
    }


async def users_page(request: Request) -> Response:
    """GET /admin — the accounts, a form to add one, and per-account actions."""
    _admin(request)
    return _page(request, "admin_users.html", "/admin", await _users_context(request))


async def create_user(request: Request) -> Response:
    """POST /admin/users — add an account; a generated password is shown this once."""
    _admin(request)
    form = await require_form(request)
    values = {
        k: str(form.get(k) or "").strip() for k in ("username", "display_name", "role", "unit")
    }
    typed = str(form.get("password") or "")
    password = typed or user_service.generate_password()
    context = await _users_context(request)
    try:
        await user_service.create_user(
            username=values["username"],
            role=values["role"],
            password=password,
            now=utcnow(),
            unit_code=values["unit"] if values["role"] == "unit" else None,
            display_name=values["display_name"],
        )
    except HotlineError as exc:
        context.update(form=values, form_error=exc.message)
        return _page(request, "admin_users.html", "/admin", context, status=422)
    context = await _users_context(request)
    context["secret"] = {
        "username": values["username"],
        "password": None if typed else password,
        "what": "已创建账号",
    }
    return _page(request, "admin_users.html", "/admin", context)


async def user_action(request: Request) -> Response:
    """POST /admin/users/{username}/{action} — one of ACCOUNT_ACTIONS (停用 / 启用 / …)."""
    _admin(request)
    await require_form(request)
    username = request.path_params["username"]
    action = ACCOUNT_ACTIONS.get(request.path_params["action"])
    if action is None:
        raise HotlineError("未知操作，请从账号列表的按钮操作。", status=404, code="not_found")
    try:
        outcome = await run_account_action(
            action.name, username=username, now=utcnow(), keep_session=current_session_id(request)
        )
    except HotlineError as exc:
        flash(request, f"「{action.label}」未执行：{exc.message}", "error")
        return redirect("/admin")
    if outcome.password is not None:  # shown on the page this once, never flashed or logged
        context = await _users_context(request)
        context["secret"] = {
            "username": username,
            "password": outcome.password,
            "what": "已重置密码",
        }
        return _page(request, "admin_users.html", "/admin", context)
    flash(request, outcome.message + "。")
    return redirect("/admin")


async def user_sessions_page(request: Request) -> Response:
    """GET /admin/users/{username}/sessions — where a user is signed in, with 全部登出."""
    _admin(request)
    username = request.path_params["username"]
    account = None
    if path_value_ok(USERNAME, username):
        account = await user_service.user_named(username)
    if account is None:
        raise HotlineError("没有这个账号，请从账号列表进入。", status=404, code="not_found")
    sessions = await web_sessions.user_sessions(
        user_id=account.id, now=utcnow(), policy=request.app.state.session_settings.policy
    )
    context = {
        "account": account,
        "sessions": sessions,
        "current": current_session_id(request),
        "account_actions": ACCOUNT_ACTIONS,
    }
    return _page(request, "admin_sessions.html", "/admin", context)


# ---- units ----------------------------------------------------------------------------


async def units_page(request: Request) -> Response:
    """GET /admin/units — the units as synchronised from data/units.toml."""
    _admin(request)
    rows = await unit_service.all_units()
    names = {u.code: u.name for u in rows}
    unstaffed = await unit_service.unstaffed_codes()
    return _page(
        request,
        "admin_units.html",
        "/admin/units",
        {
            "rows": rows,
            "names": names,
            "unstaffed": [u for u in rows if u.code in unstaffed],
            "unstaffed_codes": unstaffed,
            "kinds": UNIT_KINDS,
            "file": _data_dir(request) / "units.toml",
        },
    )


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.deployment.data_dir)


# ---- routing rules and SLA policies ---------------------------------------------------


def _rules_context(request: Request) -> dict[str, Any]:
    deployment = request.app.state.deployment
    rules = deployment.router.routing.rules if deployment.router is not None else None
    sla = deployment.sla

    def name(code: str | None) -> str:
        return rules.unit_name(code) if rules and code else ""

    def names(codes: Any) -> str:
        return "、".join(name(c) for c in codes)

    return {
        "rules": rules,
        "unit_name": name,
        "unit_names": names,
        "policies": sla.policies if sla else None,
        "limit": limit_words,
        "data_dir": _data_dir(request),
        "loaded_at": deployment.extras.get("rules_loaded_at"),
        "place_kinds": {"district": "区县", "street": "街道", "town": "镇", "compound": "小区",
                        "road": "道路", "market": "市场", "hospital": "医院", "school": "学校"},
    }  # fmt: skip


async def rules_page(request: Request) -> Response:
    """GET /admin/rules — categories → units, keyword and kind rules, SLA policies."""
    _admin(request)
    return _page(request, "admin_rules.html", "/admin/rules", _rules_context(request))


async def reload(request: Request) -> Response:
    """POST /admin/rules/reload — validate data/ with the start-up loaders and swap them in."""
    _admin(request)
    await require_form(request)
    deployment = request.app.state.deployment
    try:
        counts = await reload_rules(deployment)
    except ConfigError as exc:
        flash(request, f"重新加载失败：{exc}。系统仍在使用原来的规则，请改正文件后再试。", "error")
        return redirect("/admin/rules")
    deployment.extras["rules_loaded_at"] = utcnow()
    # Every other web worker and the sweeper see the new version within seconds and reload.
    deployment.extras["rules_version"] = await rules_version.bump()
    flash(
        request,
        f"已重新加载：{counts['units']} 个单位、{counts['categories']} 条分类规则、"
        f"{counts['keywords']} 条关键词规则、{counts['policies']} 条时限政策。"
        f"本进程立即生效；其他工作进程和独立运行的 sweeper 在 {FOLLOW_INTERVAL:.0f} 秒内跟随生效。",
    )
    return redirect("/admin/rules")


# ---- holidays -------------------------------------------------------------------------


def _runs(days: dict[dt.date, str]) -> list[dict[str, Any]]:
    """Consecutive days with one name as runs: 春节 2月16日–2月23日（8 天）."""
    runs: list[dict[str, Any]] = []
    for day in sorted(days):
        last = runs[-1] if runs else None
        if last and last["name"] == days[day] and (day - last["end"]).days == 1:
            last["end"] = day
            last["days"] += 1
        else:
            runs.append({"name": days[day], "start": day, "end": day, "days": 1})
    return runs


def holiday_years(calendar: Any, this_year: int) -> list[dict[str, Any]]:
    """Per year around now: where its schedule comes from and its days off and make-up days."""
    known = sorted(calendar.years)
    first = this_year - 1
    last = max(this_year + 1, max(known, default=this_year) + 1)
    out = []
    for year in range(first, last + 1):
        source = calendar.source(year)
        if source is None:
            holidays = dict(statutory_holidays(year))
            workdays: dict[dt.date, str] = {}
            origin = "暂定：未发布安排，只计法定节假日和补假，调休上班日未知"
        else:
            sched = calendar.schedules[year]
            holidays, workdays = dict(sched.holidays), dict(sched.workdays)
            origin = (
                "chinesecalendar 软件包"
                if source == "chinesecalendar"
                else f"数据文件 {Path(source).name}"
            )
        out.append(
            {
                "year": year,
                "provisional": source is None,
                "origin": origin,
                "holidays": _runs(holidays),
                "holiday_days": len(holidays),
                "workdays": sorted(workdays),
                "current": year == this_year,
            }
        )
    return out


async def holidays_page(request: Request) -> Response:
    """GET /admin/holidays — which years are published, from where, and which are provisional."""
    _admin(request)
    sla = request.app.state.deployment.sla
    this_year = utcnow().astimezone(SHANGHAI).year
    calendar = sla.calendar if sla else None
    package_years = sorted(
        y for y in (calendar.years if calendar else ()) if calendar.source(y) == "chinesecalendar"
    )
    return _page(
        request,
        "admin_holidays.html",
        "/admin/holidays",
        {
            "years": holiday_years(calendar, this_year) if calendar else [],
            "package_range": (package_years[0], package_years[-1]) if package_years else None,
            "holiday_dir": _data_dir(request) / "holidays",
        },
    )


# ---- mail and SMS outbox --------------------------------------------------------------


async def outbox_page(request: Request) -> Response:
    """GET /admin/outbox — every transport's waiting and failed messages, with requeue buttons."""
    _admin(request)
    now = utcnow()
    settings = request.app.state.settings
    sections = [await page_section(name, settings=settings, now=now) for name in ADAPTERS]
    return _page(request, "admin_outbox.html", "/admin/outbox", {"sections": sections})


def _requeue_routes(name: str) -> list[Route]:
    """POST /admin/outbox[/sms]/requeue and …/{row_id}/requeue for one transport."""
    v = view(name)

    async def requeue_one(request: Request) -> Response:
        """Send one failed message again."""
        _admin(request)
        await require_form(request)
        raw = request.path_params["row_id"]
        if path_value_ok(ROW_ID, raw) and await requeue(name, now=utcnow(), row_id=int(raw)) == 1:
            flash(request, f"{v.label} #{raw} 已重新排队，发送程序稍后发送。")
        else:
            flash(
                request,
                f"{v.label} #{raw} 不是发送失败状态（可能已被重新排队），未做改动。",
                "error",
            )
        return redirect(f"/admin/outbox#{name}")

    async def requeue_all(request: Request) -> Response:
        """Send every failed message again."""
        _admin(request)
        await require_form(request)
        count = await requeue(name, now=utcnow())
        flash(
            request,
            f"已将 {count} {v.counter}发送失败的{v.label}重新排队。"
            if count
            else f"没有发送失败的{v.label}。",
        )
        return redirect(f"/admin/outbox#{name}")

    base = f"/admin/outbox{v.path}"
    return [
        Route(f"{base}/requeue", requeue_all, methods=["POST"], name=f"page_requeue_all_{name}"),
        Route(
            f"{base}/{{row_id}}/requeue", requeue_one, methods=["POST"], name=f"page_requeue_{name}"
        ),
    ]


routes = [
    Route("/admin", users_page, methods=["GET"]),
    Route("/admin/users", create_user, methods=["POST"]),
    Route("/admin/users/{username}/sessions", user_sessions_page, methods=["GET"]),
    Route("/admin/users/{username}/{action}", user_action, methods=["POST"]),
    Route("/admin/units", units_page, methods=["GET"]),
    Route("/admin/rules", rules_page, methods=["GET"]),
    Route("/admin/rules/reload", reload, methods=["POST"]),
    Route("/admin/holidays", holidays_page, methods=["GET"]),
    Route("/admin/outbox", outbox_page, methods=["GET"]),
    *(route for name in route_order() for route in _requeue_routes(name)),
]
