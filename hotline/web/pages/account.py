"""我的账号: the signed-in user's own page sessions, 退出其他设备, and changing the password.

Every signed-in role may open it. The password change ends the user's other sessions and
keeps this one (the person just proved the current password); 退出其他设备 does the same
without a new password.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hotline.domain.errors import HotlineError
from hotline.services import users as user_service
from hotline.services import web_sessions
from hotline.web.pages.common import redirect, render, require_form, signed_in
from hotline.web.session import current_session_id, flash, now_utc, session_settings_of


async def _context(request: Request) -> dict[str, Any]:
    principal = signed_in(request)
    sessions = await web_sessions.user_sessions(
        user_id=principal.user_id, now=now_utc(), policy=session_settings_of(request).policy
    )
    settings = session_settings_of(request)
    return {
        "sessions": sessions,
        "current": current_session_id(request),
        "idle_minutes": settings.idle_minutes,
        "max_hours": settings.max_hours,
        "error": "",
    }


async def account_page(request: Request) -> Response:
    """GET /account — where this user is signed in, and the password form."""
    return render(request, "account.html", await _context(request))


async def sign_out_others(request: Request) -> Response:
    """POST /account/sign-out-others — end every other session of this user."""
    principal = signed_in(request)
    await require_form(request)
    count = await web_sessions.revoke_user_sessions(
        user_id=principal.user_id, now=now_utc(), keep=current_session_id(request)
    )
    flash(request, f"已退出其他 {count} 个设备上的登录。" if count else "没有其他设备上的登录。")
    return redirect("/account")


async def change_password(request: Request) -> Response:
    """POST /account/password — check the current password, set the new one."""
    principal = signed_in(request)
    form = await require_form(request)
    current = str(form.get("current") or "")
    new = str(form.get("new") or "")
    again = str(form.get("again") or "")
    try:
        if new != again:
            raise HotlineError("两次输入的新密码不一致，请重新输入", status=422, code="mismatch")
        count = await user_service.change_own_password(
            user_id=principal.user_id,
            current=current,
            new=new,
            now=now_utc(),
            keep_session=current_session_id(request),
        )
    except HotlineError as exc:
        context = await _context(request)
        context["error"] = exc.message
        return render(request, "account.html", context, status=exc.status)
    others = f"，其他 {count} 个设备上的登录已退出" if count else ""
    flash(request, f"密码已修改{others}。下次登录请使用新密码。")
    return redirect("/account")


routes = [
    Route("/account", account_page, methods=["GET"]),
    Route("/account/sign-out-others", sign_out_others, methods=["POST"]),
    Route("/account/password", change_password, methods=["POST"]),
]
