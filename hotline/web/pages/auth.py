"""Sign-in and sign-out pages, and `/` that sends each user to their home."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.domain.timefmt import SHANGHAI
from hotline.services.login_throttle import LoginThrottle, retry_after
from hotline.web.next_path import safe_next
from hotline.web.pages.common import HOMES, redirect, render, require_form
from hotline.web.session import sign_in, sign_out


def _throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle  # type: ignore[no-any-return]


async def root(request: Request) -> Response:
    """GET / — signed out: the citizens' front page; signed in: the role's home.

    Most people who type the hotline's address are citizens: they get 我要反映 and
    进度查询 first, and staff a discreet sign-in link at the foot.
    """
    principal = getattr(request.state, "session_principal", None)
    if principal is None:
        return render(request, "home.html", {})
    return redirect(HOMES.get(principal.role, "/tickets"))


async def login_form(request: Request) -> Response:
    """GET /login — the sign-in form."""
    principal = getattr(request.state, "session_principal", None)
    then = safe_next(request.query_params.get("next"))
    if principal is not None:
        return redirect(then or HOMES.get(principal.role, "/tickets"))
    reason = request.query_params.get("expired") or getattr(request.state, "session_expired", "")
    message = None
    if reason == "lifetime":
        hours = request.app.state.session_settings.max_hours
        message = f"登录已满 {hours:g} 小时，为安全起见已自动退出。请重新登录。"
    elif reason == "revoked":
        message = "您的登录已失效（已在别处退出、密码已更改或管理员已将您登出）。请重新登录。"
    elif reason:
        message = "长时间未操作，已自动退出。请重新登录。"
    return render(request, "login.html", {"username": "", "error": message, "next": then})


async def login(request: Request) -> Response:
    """POST /login — check the password (throttled) and start a session."""
    form = await require_form(request)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    then = safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else "unknown"
    if not username or not password:  # a slip, not a guess: not counted
        return render(
            request,
            "login.html",
            {"username": username, "error": "请输入用户名和密码。", "next": then},
            status=422,
        )
    throttle = _throttle(request)
    try:
        outcome = await throttle.sign_in(username=username, password=password, address=address)
    except HotlineError as exc:  # 503: places stayed taken for long (an overloaded server)
        return render(
            request,
            "login.html",
            {"username": username, "error": exc.message + "。", "next": then},
            status=exc.status,
        )
    if outcome.locked_until is not None:
        until = outcome.locked_until
        at = datetime.fromtimestamp(until, UTC).astimezone(SHANGHAI).strftime("%H:%M")
        response = render(
            request,
            "login.html",
            {
                "username": username,
                "error": f"登录失败次数过多，已暂时锁定。请在 {at} 之后再试；"
                "忘记密码请联系管理员重置。",
                "next": then,
            },
            status=429,
        )
        response.headers["Retry-After"] = str(retry_after(until, throttle.clock()))
        return response
    principal = outcome.principal
    if principal is None:  # counted as a failure already
        return render(
            request,
            "login.html",
            {"username": username, "error": "用户名或密码不正确，请重新输入。", "next": then},
            status=401,
        )
    await sign_in(request, principal)
    # Where the person was going (a mail's ticket link), if it is a path on this site.
    return redirect(then or HOMES.get(principal.role, "/tickets"))


async def logout(request: Request) -> Response:
    """POST /logout — end the session on the server (the cookie and its CSRF token die with it)."""
    await require_form(request)
    await sign_out(request)
    return redirect("/login")


routes = [
    Route("/", root, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
