"""What every staff page shares: templates, the signed-in user, error pages, headers, clocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hotline.domain.auth import Principal
from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ROLE_LABELS, STATUS_LABELS, Role
from hotline.domain.timefmt import SHANGHAI
from hotline.domain.vocabulary import RESULT_LABELS
from hotline.privacy.rules import mask_phone
from hotline.web.next_path import login_target
from hotline.web.session import CSRF_FIELD, csrf_ok, csrf_token, take_flashes
from sla.limits import LimitError, limit_words

HOMES = {
    Role.OPERATOR.value: "/operator",
    Role.UNIT.value: "/unit",
    Role.SUPERVISOR.value: "/supervisor",
    Role.ADMIN.value: "/admin",
}
CENTRE = (Role.OPERATOR.value, Role.SUPERVISOR.value, Role.ADMIN.value)


def _short_time(value: str | datetime | None) -> str:
    """ISO or datetime → 2026-11-21 14:05 (Asia/Shanghai)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def limit_text(limit: Any) -> str:
    """A clock's limit in words (「3个工作日」) for pages; no limit: —."""
    if limit is None or limit == "":
        return "—"
    try:
        return limit_words(limit)
    except LimitError:  # a stored value from an older policy format: shown as stored
        return str(limit)


env = Environment(
    loader=PackageLoader("hotline", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["t"] = _short_time
env.filters["masked_phone"] = mask_phone
env.filters["limit_words"] = limit_text
env.globals.update(
    STATUS_LABELS={s.value: label for s, label in STATUS_LABELS.items()},
    ROLE_LABELS={r.value: label for r, label in ROLE_LABELS.items()},
    RESULT_LABELS=RESULT_LABELS,
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page (or fragment) rendered with the user, CSRF token and flash messages."""
    principal = getattr(request.state, "session_principal", None)
    ctx = {
        "request": request,
        "user": principal,
        "home": HOMES.get(principal.role, "/") if principal else "/login",
        "csrf": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "flashes": take_flashes(request) if not name.startswith("_") else [],
        # The deployment's channel names (vocabulary.toml), as the API's figures use them.
        "CHANNEL_LABELS": request.app.state.deployment.words().channels,
        **(context or {}),
    }
    return HTMLResponse(env.get_template(name).render(ctx), status_code=status)


class PageError(HotlineError):
    """An error that answers with an HTML page (403/404 and the like)."""


def signed_in(request: Request, *roles: str) -> Principal:
    """The signed-in user with one of `roles` (any role when none given)."""
    principal: Principal | None = getattr(request.state, "session_principal", None)
    if principal is None:
        raise LoginRequired()
    if roles and principal.role not in roles:
        raise PageError(
            "您的账号无权打开此页面。如需此功能，请联系管理员。", status=403, code="forbidden"
        )
    return principal


class LoginRequired(Exception):
    """The visitor is not signed in (or the session ended)."""


async def require_form(request: Request) -> Any:
    """The posted form, or 403 when its CSRF token is missing or wrong."""
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):  # type: ignore[arg-type]
        raise PageError(
            "表单已过期或来源不明（CSRF 校验失败）。请返回上一页，刷新后重新提交。",
            status=403,
            code="csrf_failed",
        )
    return form


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form post, the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


def is_page(path: str) -> bool:
    """Whether a path belongs to the HTML pages (not the APIs, OpenAPI or health checks)."""
    return not (path.startswith(("/api/", "/open311/")) or path in ("/openapi.json", "/healthz"))


def page_error_handler(
    original: Callable[[Request, Exception], Any],
) -> Callable[[Request, Exception], Any]:
    """HTML error pages for page paths; the API keeps its JSON errors."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            return await original(request, exc)  # type: ignore[no-any-return]
        if isinstance(exc, LoginRequired):
            return login_redirect(request)
        status = getattr(exc, "status", None) or getattr(exc, "status_code", 500)
        message = getattr(exc, "message", None)
        if status == 404:
            message = (
                "没有找到这个页面或工单。请检查工单编号；承办单位只能查看本单位正在办理的工单。"
            )
        elif status == 405:
            message = "不支持该请求方法。请从页面上的按钮或链接操作。"
        elif not message:
            message = "出现错误，请稍后重试。"
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<p class="flash error">{_esc(message)}</p>', status_code=status)
        return render(request, "error.html", {"status": status, "message": message}, status=status)

    return handler


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def login_redirect(request: Request) -> Response:
    """To the sign-in page (htmx fragments ask the browser to go there)."""
    reason = getattr(request.state, "session_expired", False)
    # idle / lifetime / revoked: the sign-in page says which
    expired = f"expired={'1' if reason == 'idle' else reason}" if reason else ""
    if request.headers.get("hx-request"):
        # A fragment's own URL is no page to return to: the page the browser shows is.
        shown = urlsplit(request.headers.get("hx-current-url", ""))
        target = login_target(shown.path, shown.query, extra=expired)
        return Response(status_code=204, headers={"HX-Redirect": target})
    if request.method != "GET":  # a form's POST cannot be replayed by a redirect
        return redirect(login_target("/", "", extra=expired))
    here, query = request.url.path, request.url.query
    if here in HOMES.values() and not query:  # sign-in lands on the role's home anyway
        here = "/"
    return redirect(login_target(here, query, extra=expired))


# ---- clocks: remaining time in words and colour --------------------------------


@dataclass(frozen=True)
class Remaining:
    """How long a clock has left, for people: words and a colour (ok / warn / late / done)."""

    words: str
    tone: str


def _span(delta: timedelta, *, working: bool, daily: timedelta) -> str:
    """1 个工作日 3 小时 / 2 天 5 小时 / 3 小时 20 分钟 / 15 分钟."""
    minutes = int(delta.total_seconds() // 60)
    day_minutes = int(daily.total_seconds() // 60) if working else 24 * 60
    days, rest = divmod(minutes, day_minutes)
    hours, mins = divmod(rest, 60)
    unit = "个工作日" if working else "天"
    hour_unit = "个工作小时" if working and not days else "小时"
    if days:
        return f"{days} {unit} {hours} 小时" if hours else f"{days} {unit}"
    if hours:
        return f"{hours} {hour_unit} {mins} 分钟" if mins else f"{hours} {hour_unit}"
    return f"{mins} 分钟"


def remaining(
    *,
    due_at: datetime | None,
    warn_at: datetime | None,
    state: str,
    limit: str,
    now: datetime,
    sla: Any,
) -> Remaining:
    """Remaining time of one clock.

    Limits in working days/hours (`wd`, `wh`) count office time on working days from the
    SLA calendar (one working day = the office hours of a day, 7.5 h by default); limits in
    calendar hours or days (`h`, `d`) count wall-clock time.
    """
    if state == "met":
        return Remaining("已完成", "done")
    if due_at is None:
        return Remaining("未计时", "done")
    if state == "paused":
        return Remaining("已挂起，暂停计时", "done")
    working = limit.endswith(("wd", "wh")) and sla is not None
    daily = timedelta(hours=24)
    late = now >= due_at
    first, last = (due_at, now) if late else (now, due_at)
    if working:
        from sla.limits import working_time_between

        office = sla.policies.office_hours
        daily = office.daily()
        span, _ = working_time_between(first, last, sla.calendar, office)
    else:
        span = last - first
    words = _span(span, working=working, daily=daily)
    if late:
        return Remaining(f"已超期 {words}", "late")
    if warn_at is not None and now >= warn_at:
        return Remaining(f"剩余 {words}", "warn")
    return Remaining(f"剩余 {words}", "ok")


def clock_views(ticket_out: Any, *, now: datetime, sla: Any) -> list[dict[str, Any]]:
    """The presenter's clocks with remaining time attached."""
    views = []
    for clock in ticket_out.deadlines:
        due = datetime.fromisoformat(clock.due_at) if clock.due_at else None
        warn = datetime.fromisoformat(clock.warn_at) if clock.warn_at else None
        left = remaining(
            due_at=due, warn_at=warn, state=clock.state, limit=clock.limit, now=now, sla=sla
        )
        views.append({"clock": clock, "left": left})
    return views


def next_clock(ticket_out: Any, *, now: datetime, sla: Any) -> Remaining | None:
    """The most urgent running clock of a ticket (for lists)."""
    running = [
        v
        for v in clock_views(ticket_out, now=now, sla=sla)
        if v["clock"].state not in ("met",) and v["clock"].due_at
    ]
    if not running:
        return None
    running.sort(key=lambda v: v["clock"].due_at)
    return running[0]["left"]  # type: ignore[no-any-return]
